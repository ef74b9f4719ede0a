"""The real worker process (``python -m volunteer_hub worker``) fed by the job queue: a run queued
through the API before any worker exists is picked up when one starts; killing the worker, or the
whole server (``python -m volunteer_hub serve``, what `make run` starts), in the middle of a run
leaves the published schedule exactly as it was and the run ends failed, not "running" forever."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

from support import api, log_in, make_reference_data, make_staff

from volunteer_hub.accounts.tables import ROLE_MANAGER, ROLE_VOLUNTEER, User
from volunteer_hub.clock import local_today
from volunteer_hub.planning import worker as worker_module
from volunteer_hub.planning.queue import get_queue
from volunteer_hub.planning.tables import PlanProposal, PlanRun
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import Assignment, Shift
from volunteer_hub.volunteers.tables import AvailabilityWindow, Volunteer


async def _district(refs: dict, volunteers: int, shifts_per_day: int) -> None:
    """Enough people and shifts that a solve takes a few seconds (rows written in bulk)."""
    rng = random.Random(7)
    users = [User(login=f"1370{k:07d}", password_hash="!", role=ROLE_VOLUNTEER, display_name=f"志愿者{k}")
             for k in range(volunteers)]
    for start in range(0, volunteers, 500):
        await User.insert(*users[start:start + 500])
    user_ids = [row["id"] for row in await User.select(User.id).where(
        (User.role == ROLE_VOLUNTEER) & User.login.like("1370%")).order_by(User.id)]
    people = [Volunteer(user=user_id, name=f"志愿者{k}", phone=f"1370{k:07d}", birth_year=1960 + k % 40,
                        home_grid=refs["grid"].id, max_shifts_per_week=rng.choice((1, 2, 3)), max_minutes_per_week=360)
              for k, user_id in enumerate(user_ids)]
    for start in range(0, volunteers, 500):
        await Volunteer.insert(*people[start:start + 500])
    ids = [row["id"] for row in await Volunteer.select(Volunteer.id).where(Volunteer.phone.like("1370%"))]
    windows = [AvailabilityWindow(volunteer=v, weekday=day, start_minute=7 * 60, end_minute=18 * 60)
               for v in ids for day in range(7) if rng.random() < 0.4]
    for start in range(0, len(windows), 1000):
        await AvailabilityWindow.insert(*windows[start:start + 1000])
    site = refs["site"]
    rows = []
    for day in range(2, 7):
        date = local_today() + dt.timedelta(days=day)
        for k in range(shifts_per_day):
            starts = dt.datetime.combine(date, dt.time(7, 30)) + dt.timedelta(minutes=40 * (k % 12))
            rows.append(Shift(source_key=f"load:{day}:{k}", site=site.id, grid=site.grid, kind="cleanup", title=f"清扫{k}",
                              day=date, starts_at=starts, ends_at=starts + dt.timedelta(minutes=60), latitude=site.latitude,
                              longitude=site.longitude, seats_min=2, seats_ideal=4, seats_max=5, adults_only=True,
                              required_skills="", needs_lead=False, priority=2))
    await Shift.insert(*rows)


async def _wait_for(predicate, timeout: float, interval: float = 0.02, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError("timed out" + (f"; worker log:\n{log.read_text()[-3000:]}" if log else ""))


def _start_worker(log_path) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "volunteer_hub", "worker"], env=dict(os.environ),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def test_worker_runs_queued_runs_and_a_killed_run_ends_failed_with_nothing_published(client, monkeypatch, tmp_path):
    get_queue().flush()  # runs queued by earlier tests name rows that are gone
    refs = await make_reference_data()
    await make_staff("manager1", ROLE_MANAGER)
    await log_in(client, "manager1", "Staff2026pass")
    await _district(refs, volunteers=1500, shifts_per_day=30)
    period = {"start": local_today().isoformat(), "end": (local_today() + dt.timedelta(days=6)).isoformat(),
              "time_limit_s": 60}

    # Queued while no worker runs (as after a restart): it waits, then the worker takes it.
    first = (await api(client, "POST", "/api/plan/runs", json=period)).json()
    await asyncio.sleep(0.5)
    assert (await client.get(f"/api/plan/runs/{first['id']}")).json()["status"] == "queued"
    worker_log = tmp_path / "worker.log"
    worker = _start_worker(worker_log)
    try:
        async def finished():
            run = (await client.get(f"/api/plan/runs/{first['id']}")).json()
            return run if run["status"] not in ("queued", "running") else None

        done = await _wait_for(finished, timeout=120, interval=0.2, log=worker_log)
        assert done["status"] == "succeeded", done
        assert done["first_progress_s"] is not None
        published = await api(client, "POST", f"/api/plan/runs/{first['id']}/publish")
        assert published.status_code == 200, published.text
        schedule = sorted((r["id"], r["shift"], r["volunteer"], r["status"]) for r in await Assignment.select())
        assert schedule

        # A re-solve, killed while it runs.
        second = (await api(client, "POST", f"/api/plan/runs/{first['id']}/resolve", json={"time_limit_s": 60})).json()

        async def running():
            row = await PlanRun.select(PlanRun.status).where(PlanRun.id == second["id"]).first()
            return row["status"] == "running"

        await _wait_for(running, timeout=60, log=worker_log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)

    assert (await client.get(f"/api/plan/runs/{second['id']}")).json()["status"] == "running"  # not stale yet
    quick = dataclasses.replace(get_settings(), plan_run_stale_s=1.0)
    monkeypatch.setattr(worker_module, "get_settings", lambda: quick)
    await asyncio.sleep(1.5)
    failed = (await client.get(f"/api/plan/runs/{second['id']}")).json()
    assert failed["status"] == "failed" and failed["error"]
    assert sorted((r["id"], r["shift"], r["volunteer"], r["status"]) for r in await Assignment.select()) == schedule
    assert await PlanProposal.count().where(PlanProposal.run == second["id"]) == 0
    # the period can be planned again at once
    again = await api(client, "POST", "/api/plan/runs", json=period)
    assert again.status_code == 201


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_killing_the_server_mid_run_leaves_the_published_schedule_and_the_run_ends_failed(client, monkeypatch, tmp_path):
    import httpx

    from shift_support import make_shift, make_volunteer

    from volunteer_hub.notifications.tables import Notification
    from volunteer_hub.planning.tables import PublishedVersion
    from volunteer_hub.planning.worker import execute_run

    get_queue().flush()
    refs = await make_reference_data()
    await make_staff("manager1", ROLE_MANAGER)
    await log_in(client, "manager1", "Staff2026pass")
    period = {"start": local_today().isoformat(), "end": (local_today() + dt.timedelta(days=6)).isoformat()}
    # A small week, planned and published (solved here, in the test's process).
    for k in range(3):
        await make_volunteer(refs["grid"].id, f"139000000{k:02d}")
    await make_shift(refs, starts_in=dt.timedelta(days=2), key="small:1", seats_min=1, seats_ideal=2, seats_max=2)
    first = (await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})).json()
    assert await execute_run(first["id"]) == "succeeded"
    assert (await api(client, "POST", f"/api/plan/runs/{first['id']}/publish")).status_code == 200
    schedule = sorted((r["id"], r["shift"], r["volunteer"], r["status"], r["source"], r["locked"])
                      for r in await Assignment.select())
    assert len(schedule) == 2
    notifications = await Notification.count()
    # Then the district grows, so that re-solving the week takes a while.
    await _district(refs, volunteers=1500, shifts_per_day=30)

    port = _free_port()
    server_log = tmp_path / "server.log"
    with open(server_log, "ab") as log:
        server = subprocess.Popen([sys.executable, "-m", "volunteer_hub", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as remote:
            async def serving():
                try:
                    return (await remote.get("/", timeout=1)).status_code == 200
                except httpx.HTTPError:
                    return False

            await _wait_for(serving, timeout=30, interval=0.1, log=server_log)
            await log_in(remote, "manager1", "Staff2026pass")
            started = await api(remote, "POST", f"/api/plan/runs/{first['id']}/resolve", json={"time_limit_s": 60})
            assert started.status_code == 201, started.text
            second = started.json()

        async def solving():  # the server's worker has the run and its solver has reported progress
            row = await PlanRun.select(PlanRun.status, PlanRun.progress_updates).where(PlanRun.id == second["id"]).first()
            return row["status"] == "running" and row["progress_updates"] >= 1

        await _wait_for(solving, timeout=90, log=server_log)
        os.killpg(server.pid, signal.SIGKILL)  # the server and the worker beside it, as in a crash
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

    # The server is back (this process): the run shows running until its heartbeat is stale, then failed.
    assert (await client.get(f"/api/plan/runs/{second['id']}")).json()["status"] == "running"
    quick = dataclasses.replace(get_settings(), plan_run_stale_s=0.5)
    monkeypatch.setattr(worker_module, "get_settings", lambda: quick)

    async def ended():
        run = (await client.get(f"/api/plan/runs/{second['id']}")).json()
        return run if run["status"] != "running" else None

    failed = await _wait_for(ended, timeout=10, interval=0.1)
    assert failed["status"] == "failed" and failed["published"] is False
    assert failed["error"].startswith("运行期间后台进程停止了"), failed["error"]
    assert sorted((r["id"], r["shift"], r["volunteer"], r["status"], r["source"], r["locked"])
                  for r in await Assignment.select()) == schedule
    assert await PlanProposal.count().where(PlanProposal.run == second["id"]) == 0
    assert await PublishedVersion.count() == 1 and await Notification.count() == notifications
    # the period can be planned again at once
    again = await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})
    assert again.status_code == 201, again.text
