"""Planning a period through the HTTP API and pages: demand and supply, a solver run, the preview, hand
adjustments, publishing, roll-back, re-solving after a volunteer declines, and the refusals.

The run itself is executed by ``execute_run``, the function the queue's worker calls, in the test's
own event loop; tests/web/test_planning_worker.py runs the real worker process."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.accounts.tables import ROLE_COORDINATOR, ROLE_MANAGER
from volunteer_hub.clock import local_today
from volunteer_hub.notifications.tables import Notification, OutboxMessage
from volunteer_hub.planning.tables import PlanProposal, PlanRun, PublishedVersion
from volunteer_hub.planning.worker import execute_run, utc_now
from volunteer_hub.shifts.tables import Assignment

MANAGER_PASSWORD = "Staff2026pass"


async def _world(client, volunteers: int = 4, shifts: int = 2, seats: tuple[int, int, int] = (1, 2, 2)):
    refs = await make_reference_data()
    await make_staff("manager1", ROLE_MANAGER, name="王经理")
    await log_in(client, "manager1", MANAGER_PASSWORD)
    people = [await make_volunteer(refs["grid"].id, f"139000000{k:02d}") for k in range(volunteers)]
    seats_min, seats_ideal, seats_max = seats
    made = [await make_shift(refs, starts_in=dt.timedelta(days=2, hours=3 * k), key=f"plan:{k}", seats_min=seats_min,
                             seats_ideal=seats_ideal, seats_max=seats_max) for k in range(shifts)]
    period = {"start": local_today().isoformat(), "end": (local_today() + dt.timedelta(days=6)).isoformat()}
    return refs, people, made, period


async def _run(client, period: dict, **extra) -> dict:
    response = await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10, **extra})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "queued"
    assert await execute_run(run["id"]) == "succeeded"
    finished = (await client.get(f"/api/plan/runs/{run['id']}")).json()
    assert finished["status"] == "succeeded", finished
    return finished


async def _live_pairs() -> set[tuple[int, int, str]]:
    rows = await Assignment.select(Assignment.shift, Assignment.volunteer, Assignment.source).where(Assignment.status == "confirmed")
    return {(r["shift"], r["volunteer"], r["source"]) for r in rows}


async def test_plan_page_shows_demand_beside_supply(client):
    refs, people, shifts, period = await _world(client, volunteers=3, shifts=2)
    response = await client.get("/plan", params=period)
    assert response.status_code == 200
    text = page_text(response.text)
    assert "3 of 3" in text or "3 名" in text  # supply line, in Chinese by default
    demand = (await client.get("/api/plan/demand", params=period)).json()
    assert demand["shifts"] == 2 and demand["seats_min"] == 2 and demand["seats_ideal"] == 4
    assert demand["volunteers_available"] == 3 and demand["hours_offered"] > 0
    assert [row["kind"] for row in demand["by_kind"]] == ["cleanup"]


async def test_run_preview_publish_and_what_volunteers_see(client):
    refs, people, shifts, period = await _world(client, volunteers=4, shifts=2)
    run = await _run(client, period)
    assert run["first_progress_s"] is not None and run["progress_updates"] >= 1
    assert run["coverage_min"] == 1.0 and run["objective"] is not None and run["gap"] is not None
    # recorded with the run: its statistics and the objective by term
    assert run["stats"]["wall_s"] > 0 and run["stats"]["solutions_found"] >= 1 and run["objective_terms"]

    preview = (await client.get(f"/api/plan/runs/{run['id']}/preview")).json()
    cells = [cell for row in preview["grid"] for day in row["days"] for cell in day]
    assert sorted(cell["shift_id"] for cell in cells) == sorted(s.id for s in shifts)
    assert all(cell["filled"] == 2 and cell["state"] == "ok" for cell in cells)
    assert preview["change_totals"]["added"] == 4 and preview["change_totals"]["removed"] == 0
    assert sum(load["shifts"] for load in preview["loads"]) == 4
    page = await client.get(f"/plan/runs/{run['id']}")
    assert page.status_code == 200 and "plan-grid" in page.text

    before = await Notification.count()
    published = await api(client, "POST", f"/api/plan/runs/{run['id']}/publish")
    assert published.status_code == 200, published.text
    assert published.json() == {"version": 1, "added": 4, "removed": 0, "moved": 0}
    assert {(s, source) for s, _, source in await _live_pairs()} == {(shifts[0].id, "solver"), (shifts[1].id, "solver")}
    assert await Notification.count() == before + 4
    assert await OutboxMessage.count().where(OutboxMessage.channel == "sms") == 4
    again = await api(client, "POST", f"/api/plan/runs/{run['id']}/publish")
    assert again.status_code == 409

    planned = {volunteer for _, volunteer, _ in await _live_pairs()}
    person = next(p for p in people if p.id in planned)
    volunteer = await volunteer_client(client, person.phone)
    mine = (await volunteer.get("/api/my/shifts")).json()
    assert [m["source"] for m in mine] == ["solver"] and mine[0]["status"] == "confirmed"
    my_page = await volunteer.get("/my/shifts")
    assert "婉拒" in my_page.text or "Decline" in my_page.text
    messages = page_text((await volunteer.get("/notifications")).text)
    assert shifts[0].title in messages or shifts[1].title in messages
    feed_url = (await volunteer.get("/api/my/calendar")).json()["url"]
    feed = await volunteer.get(feed_url.replace("http://testserver.local", ""))
    assert feed.status_code == 200 and "BEGIN:VEVENT" in feed.text
    await volunteer.aclose()


async def test_one_run_per_period_and_scope_and_cancelling(client):
    refs, people, shifts, period = await _world(client, volunteers=2, shifts=1)
    first = await api(client, "POST", "/api/plan/runs", json=period)
    assert first.status_code == 201
    second = await api(client, "POST", "/api/plan/runs", json=period)
    assert second.status_code == 409 and str(first.json()["id"]) in second.json()["detail"]
    # another scope (one grid) may run at the same time
    other = await api(client, "POST", "/api/plan/runs", json={**period, "grids": [refs["grid"].id]})
    assert other.status_code == 201
    cancelled = await api(client, "POST", f"/api/plan/runs/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await execute_run(first.json()["id"]) is None  # the worker finds it cancelled and leaves it
    ended = await api(client, "POST", f"/api/plan/runs/{first.json()['id']}/cancel")
    assert ended.status_code == 409
    third = await api(client, "POST", "/api/plan/runs", json=period)
    assert third.status_code == 201


@pytest.mark.parametrize("body, field", [
    ({"start": "2026-13-01", "end": "2026-12-31"}, "start"),
    ({"week": "2026-W99"}, "week"),
    ({"offset": "end-before-start"}, "end"),
    ({"offset": "too-long"}, "end"),
    ({"offset": "over"}, "end"),
    ({"offset": "ok", "time_limit_s": 1}, "time_limit"),
    ({"offset": "ok", "time_limit_s": 6000}, "time_limit"),
    ({"offset": "ok", "grids": [987654]}, "grids"),
])
async def test_bad_input_is_refused_and_changes_nothing(client, body, field):
    await _world(client, volunteers=1, shifts=1)
    today = local_today()
    offsets = {"end-before-start": (3, 1), "too-long": (0, 40), "over": (-20, -10), "ok": (0, 6)}
    if "offset" in body:
        first, last = offsets[body.pop("offset")]
        body.update(start=(today + dt.timedelta(days=first)).isoformat(), end=(today + dt.timedelta(days=last)).isoformat())
    response = await api(client, "POST", "/api/plan/runs", json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["errors"]
    assert await PlanRun.count() == 0


async def test_planning_is_for_managers_only(client):
    refs, people, shifts, period = await _world(client, volunteers=1, shifts=1)
    run = await _run(client, period)
    volunteer = await volunteer_client(client, people[0].phone)
    await make_staff("coord1", ROLE_COORDINATOR)
    coordinator = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    await log_in(coordinator, "coord1", MANAGER_PASSWORD)
    for other in (volunteer, coordinator):
        assert (await other.get("/plan")).status_code == 403
        assert (await other.get(f"/api/plan/runs/{run['id']}")).status_code == 403
        assert (await api(other, "POST", f"/api/plan/runs/{run['id']}/publish")).status_code == 403
        assert (await api(other, "POST", "/api/plan/runs", json=period)).status_code == 403
        await other.aclose()
    assert await PublishedVersion.count() == 0
    assert (await client.get("/api/plan/runs/999999")).status_code == 404


async def test_lock_add_by_hand_remove_and_resolve_keeps_them(client):
    refs, people, shifts, period = await _world(client, volunteers=4, shifts=2)
    outsider = await make_volunteer(refs["grid"].id, "13900000099", always_available=False)
    run = await _run(client, period)
    rows = await PlanProposal.select().where(PlanProposal.run == run["id"]).order_by(PlanProposal.id)
    to_lock, to_remove = rows[0], rows[1]

    locked = await api(client, "POST", f"/api/plan/runs/{run['id']}/rows/{to_lock['id']}/lock", json={"locked": True})
    assert locked.status_code == 200
    removed = await api(client, "DELETE", f"/api/plan/runs/{run['id']}/rows/{to_remove['id']}")
    assert removed.status_code == 204
    locked_removal = await api(client, "DELETE", f"/api/plan/runs/{run['id']}/rows/{to_lock['id']}")
    assert locked_removal.status_code == 409

    target_shift = to_remove["shift"]
    ask = await api(client, "POST", f"/api/plan/runs/{run['id']}/rows", json={"shift_id": target_shift, "phone": outsider.phone})
    assert ask.status_code == 409 and ask.json()["errors"]["rules"]  # outside their stated availability
    assert not await PlanProposal.exists().where(PlanProposal.volunteer == outsider.id)
    unknown = await api(client, "POST", f"/api/plan/runs/{run['id']}/rows", json={"shift_id": target_shift, "phone": "13000000000"})
    assert unknown.status_code == 400 and "volunteer" in unknown.json()["errors"]
    added = await api(client, "POST", f"/api/plan/runs/{run['id']}/rows",
                      json={"shift_id": target_shift, "phone": outsider.phone, "confirm": True})
    assert added.status_code == 201 and added.json()["broken_rules"]

    resolved = await api(client, "POST", f"/api/plan/runs/{run['id']}/resolve", json={"time_limit_s": 10})
    assert resolved.status_code == 201, resolved.text
    new_id = resolved.json()["id"]
    assert resolved.json()["parent_run"] == run["id"]
    assert await execute_run(new_id) == "succeeded"
    kept = {(r["shift"], r["volunteer"]): r for r in await PlanProposal.select().where(PlanProposal.run == new_id)}
    assert kept[(to_lock["shift"], to_lock["volunteer"])]["locked"]
    assert kept[(target_shift, outsider.id)]["origin"] == "manual"

    # the hand-made row is published as such, and its broken rule does not block publishing
    published = await api(client, "POST", f"/api/plan/runs/{new_id}/publish")
    assert published.status_code == 200, published.text
    assert (target_shift, outsider.id, "manual") in await _live_pairs()


async def test_publish_refuses_when_a_sign_up_meanwhile_would_overbook(client):
    refs, people, shifts, period = await _world(client, volunteers=5, shifts=1, seats=(1, 2, 2))
    run = await _run(client, period)
    planned = {r["volunteer"] for r in await PlanProposal.select().where(PlanProposal.run == run["id"])}
    others = [p for p in people if p.id not in planned]
    # While the manager looks at the preview, two other volunteers take both seats themselves.
    for person in others[:2]:
        volunteer = await volunteer_client(client, person.phone)
        assert (await api(volunteer, "POST", f"/api/shifts/{shifts[0].id}/signup", json={})).status_code == 201
        await volunteer.aclose()
    before = await _live_pairs()
    preview = (await client.get(f"/api/plan/runs/{run['id']}/preview")).json()
    assert preview["input_changed"] is True
    refused = await api(client, "POST", f"/api/plan/runs/{run['id']}/publish")
    assert refused.status_code == 409, refused.text
    assert "problems" in refused.json()["errors"]
    assert await _live_pairs() == before
    assert await PublishedVersion.count() == 0
    assert (await PlanRun.select(PlanRun.published_at).where(PlanRun.id == run["id"]).first())["published_at"] is None


async def test_decline_goes_back_to_the_pool_and_resolve_changes_little(client):
    refs, people, shifts, period = await _world(client, volunteers=6, shifts=3, seats=(1, 1, 2))
    run = await _run(client, period)
    assert (await api(client, "POST", f"/api/plan/runs/{run['id']}/publish")).status_code == 200
    published = await _live_pairs()
    shift_id, volunteer_id, _ = sorted(published)[0]
    person = next(p for p in people if p.id == volunteer_id)
    volunteer = await volunteer_client(client, person.phone)
    declined = await api(volunteer, "DELETE", f"/api/shifts/{shift_id}/signup")
    assert declined.status_code == 200 and declined.json()["late"] is False
    await volunteer.aclose()

    resolved = await api(client, "POST", f"/api/plan/runs/{run['id']}/resolve", json={"time_limit_s": 10})
    new_id = resolved.json()["id"]
    assert resolved.json()["stability"] is True
    assert await execute_run(new_id) == "succeeded"
    proposal = {(r["shift"], r["volunteer"]) for r in await PlanProposal.select().where(PlanProposal.run == new_id)}
    assert (shift_id, volunteer_id) not in proposal  # declined: not put back
    preview = (await client.get(f"/api/plan/runs/{new_id}/preview")).json()
    # The freed seat is filled by someone else; nobody else's shifts change.
    assert preview["change_totals"]["removed"] == 0 and preview["change_totals"]["moved"] == 0
    assert preview["change_totals"]["added"] == 1
    assert (await api(client, "POST", f"/api/plan/runs/{new_id}/publish")).status_code == 200


async def test_rollback_restores_an_earlier_version_with_who_published_what(client):
    refs, people, shifts, period = await _world(client, volunteers=4, shifts=2, seats=(1, 1, 1))
    run = await _run(client, period)
    assert (await api(client, "POST", f"/api/plan/runs/{run['id']}/publish")).status_code == 200
    first = await _live_pairs()
    # A second plan: the manager swaps someone by hand, then publishes.
    second_run = (await api(client, "POST", f"/api/plan/runs/{run['id']}/resolve", json={"time_limit_s": 10})).json()
    assert await execute_run(second_run["id"]) == "succeeded"
    rows = await PlanProposal.select().where(PlanProposal.run == second_run["id"]).order_by(PlanProposal.id)
    assert (await api(client, "DELETE", f"/api/plan/runs/{second_run['id']}/rows/{rows[0]['id']}")).status_code == 204
    newcomer = next(p for p in people if p.id not in {r["volunteer"] for r in rows})
    added = await api(client, "POST", f"/api/plan/runs/{second_run['id']}/rows",
                      json={"shift_id": rows[0]["shift"], "phone": newcomer.phone})
    assert added.status_code == 201, added.text
    published = await api(client, "POST", f"/api/plan/runs/{second_run['id']}/publish")
    assert published.status_code == 200 and published.json()["version"] == 2
    second = await _live_pairs()
    assert second != first and (rows[0]["shift"], newcomer.id, "manual") in second

    # Another manager rolls back: each version says who published it.
    await make_staff("manager2", ROLE_MANAGER, name="李经理")
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    await log_in(other, "manager2", MANAGER_PASSWORD)
    versions = (await client.get("/api/plan/versions", params=period)).json()
    assert [(v["number"], v["run"], v["published_by"]) for v in versions] == [
        (2, second_run["id"], "王经理"), (1, run["id"], "王经理")]
    back = await api(other, "POST", f"/api/plan/versions/{versions[1]['id']}/rollback")
    assert back.status_code == 200, back.text
    assert back.json()["version"] == 3
    assert await _live_pairs() == first
    versions = (await client.get("/api/plan/versions", params=period)).json()
    assert [(v["number"], v["restored_version"], v["published_by"]) for v in versions] == [
        (3, 1, "李经理"), (2, None, "王经理"), (1, None, "王经理")]
    page = page_text((await client.get("/plan", params=period)).text)
    assert re.search(r"版本 3 \( ?恢复到版本 1 ?\) · 李经理 · ", page), page
    assert re.search(rf"版本 2 \( ?来自第 {second_run['id']} 次运行 ?\) · 王经理 · ", page), page

    # Going forward again to version 2 restores the hand-made row as hand-made, not as the solver's.
    forward = await api(other, "POST", f"/api/plan/versions/{versions[1]['id']}/rollback")
    assert forward.status_code == 200, forward.text
    assert forward.json()["version"] == 4
    assert await _live_pairs() == second
    await other.aclose()


async def test_manager_plans_through_the_pages(client):
    refs, people, shifts, period = await _world(client, volunteers=3, shifts=1)
    response = await post_form(client, "/plan/runs", {**period, "time_limit": "10"})
    assert response.status_code == 303
    run_id = int(response.headers["location"].rstrip("/").split("/")[-1])
    waiting = await client.get(f"/plan/runs/{run_id}")
    assert waiting.status_code == 200 and "plan-progress.js" in waiting.text
    assert await execute_run(run_id) == "succeeded"
    shown = await client.get(f"/plan/runs/{run_id}")
    # the preview with its publish form (not there while the run was going)
    publish_form = f'<form method="post" action="/plan/runs/{run_id}/publish"'
    assert publish_form not in waiting.text
    assert publish_form in shown.text and 'id="publish">发布此排班</button>' in shown.text
    assert 'id="cancel-run"' not in shown.text
    cell = await client.get(f"/plan/runs/{run_id}/shifts/{shifts[0].id}")
    assert cell.status_code == 200
    published = await post_form(client, f"/plan/runs/{run_id}/publish", {})
    assert published.status_code == 303
    assert await PublishedVersion.count() == 1
    refused = await post_form(client, f"/plan/runs/{run_id}/publish", {})  # a second time: shown on the run page
    assert refused.status_code == 303 and refused.headers["location"] == f"/plan/runs/{run_id}"
    shown_again = page_text((await client.get(f"/plan/runs/{run_id}")).text)
    assert "已发布" in shown_again or "already published" in shown_again
    assert await PublishedVersion.count() == 1
    bad = await post_form(client, "/plan/runs", {"start": period["end"], "end": period["start"]})
    assert bad.status_code == 400


async def test_an_error_page_keeps_the_managers_navigation(client):
    await _world(client, volunteers=1, shifts=1)
    missing = await client.get("/plan/runs/99999")
    assert missing.status_code == 404
    text = page_text(missing.text)
    assert "王经理" in text and "排班" in text  # still logged in, with the manager's menu


async def test_a_slow_problem_load_keeps_the_run_alive(client, monkeypatch):
    """The worker's heartbeat goes on while it reads the period from the database, so a slow load on a
    big district is not taken for a dead worker by the pages' staleness check."""
    import asyncio
    import dataclasses

    from volunteer_hub.planning import worker as worker_module
    from volunteer_hub.settings import get_settings

    refs, people, shifts, period = await _world(client, volunteers=2, shifts=1)
    run = (await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})).json()
    quick = dataclasses.replace(get_settings(), plan_run_stale_s=1.5)
    monkeypatch.setattr(worker_module, "get_settings", lambda: quick)
    real_load = worker_module.load_problem

    async def slow_load(*args, **kwargs):
        for _ in range(12):  # 3 s, twice the staleness limit
            await asyncio.sleep(0.25)
            await worker_module.fail_stale_runs_now()  # what each poll of the run page does meanwhile
        return await real_load(*args, **kwargs)

    monkeypatch.setattr(worker_module, "load_problem", slow_load)
    assert await execute_run(run["id"]) == "succeeded"
    assert (await client.get(f"/api/plan/runs/{run['id']}")).json()["status"] == "succeeded"


async def _wait_until(predicate, timeout: float = 10.0):
    """Poll (in the test's own loop, so the run being executed goes on meanwhile) until it holds."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_cancelling_a_running_run_stops_the_solver_and_publishes_nothing(client, monkeypatch):
    import asyncio

    from volunteer_hub.planning import worker as worker_module

    refs, people, shifts, period = await _world(client, volunteers=4, shifts=2)
    first = await _run(client, period)
    assert (await api(client, "POST", f"/api/plan/runs/{first['id']}/publish")).status_code == 200
    schedule = sorted((r["id"], r["shift"], r["volunteer"], r["status"], r["source"]) for r in await Assignment.select())
    notifications = await Notification.count()
    second = (await api(client, "POST", f"/api/plan/runs/{first['id']}/resolve", json={"time_limit_s": 60})).json()

    # A solve that ends only when the worker tells it to stop (or after 10 s): the run is surely
    # still solving when the manager cancels it.
    real_solve = worker_module.solve
    started, told_to_stop = [], []

    def solve_until_stopped(problem, options):
        started.append(True)
        told_to_stop.append(options.stop.wait(timeout=10))
        return real_solve(problem, options)

    monkeypatch.setattr(worker_module, "solve", solve_until_stopped)
    running = asyncio.ensure_future(execute_run(second["id"]))

    async def solving():
        return bool(started)

    await _wait_until(solving)
    assert (await client.get(f"/api/plan/runs/{second['id']}")).json()["status"] == "running"
    cancel = await api(client, "POST", f"/api/plan/runs/{second['id']}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert await asyncio.wait_for(running, timeout=15) == "cancelled"
    assert told_to_stop == [True]  # stopped by the cancellation, not by the 10 s above

    ended = (await client.get(f"/api/plan/runs/{second['id']}")).json()
    assert ended["status"] == "cancelled" and ended["published"] is False and ended["objective"] is None
    assert await PlanProposal.count().where(PlanProposal.run == second["id"]) == 0
    assert sorted((r["id"], r["shift"], r["volunteer"], r["status"], r["source"]) for r in await Assignment.select()) == schedule
    assert await Notification.count() == notifications and await PublishedVersion.count() == 1
    assert (await api(client, "POST", f"/api/plan/runs/{second['id']}/publish")).status_code == 409
    assert (await api(client, "POST", f"/api/plan/runs/{second['id']}/cancel")).status_code == 409
    # the period and scope are free again at once
    again = await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})
    assert again.status_code == 201, again.text


async def test_a_cancel_while_the_problem_loads_ends_the_run_before_any_solve(client, monkeypatch):
    """A small problem solves within the worker's first look at the run; a cancellation asked before
    (here, while the period is read) still ends it cancelled, with no proposal."""
    from volunteer_hub.planning import worker as worker_module

    refs, people, shifts, period = await _world(client, volunteers=2, shifts=1)
    run = (await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})).json()
    real_load = worker_module.load_problem
    solved = []

    async def load_then_cancel(*args, **kwargs):
        loaded = await real_load(*args, **kwargs)
        assert (await api(client, "POST", f"/api/plan/runs/{run['id']}/cancel")).status_code == 200
        return loaded

    monkeypatch.setattr(worker_module, "load_problem", load_then_cancel)
    monkeypatch.setattr(worker_module, "solve", lambda *args: solved.append(args))
    assert await execute_run(run["id"]) == "cancelled"
    assert solved == []
    assert (await client.get(f"/api/plan/runs/{run['id']}")).json()["status"] == "cancelled"
    assert await PlanProposal.count() == 0


async def test_a_queued_run_no_worker_takes_fails_with_a_message_and_frees_its_scope(client):
    from volunteer_hub.planning.worker import queue_wait_s

    refs, people, shifts, period = await _world(client, volunteers=1, shifts=1)
    run = (await api(client, "POST", "/api/plan/runs", json={**period, "time_limit_s": 10})).json()
    other_scope = (await api(client, "POST", "/api/plan/runs", json={**period, "grids": [refs["grid"].id]})).json()

    async def queued_for(seconds: float) -> None:
        await PlanRun.update({PlanRun.created_at: utc_now() - dt.timedelta(seconds=seconds)}).where(PlanRun.id == run["id"])

    # Waiting a little less than the limit (no worker anywhere): still queued, the scope still taken.
    await queued_for(queue_wait_s() - 5)
    assert (await client.get(f"/api/plan/runs/{run['id']}")).json()["status"] == "queued"
    assert (await api(client, "POST", "/api/plan/runs", json=period)).status_code == 409
    # Longer, but a worker is busy with another run (its heartbeat is fresh): it waits its turn.
    await queued_for(queue_wait_s() + 5)
    await PlanRun.update({PlanRun.status: "running", PlanRun.started_at: utc_now(), PlanRun.heartbeat_at: utc_now()}).where(
        PlanRun.id == other_scope["id"])
    assert (await client.get(f"/api/plan/runs/{run['id']}")).json()["status"] == "queued"
    # No worker has reported for longer than the limit: the run ends failed, saying why.
    await PlanRun.update({PlanRun.status: "succeeded", PlanRun.finished_at: utc_now(),
                          PlanRun.heartbeat_at: utc_now() - dt.timedelta(seconds=queue_wait_s() + 1)}).where(
        PlanRun.id == other_scope["id"])
    failed = (await client.get(f"/api/plan/runs/{run['id']}")).json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith(f"{round(queue_wait_s())} 秒内没有后台进程接手此次运行"), failed["error"]
    page = page_text((await client.get(f"/plan/runs/{run['id']}")).text)
    assert failed["error"] in page and 'id="cancel-run"' not in page
    assert await execute_run(run["id"]) is None  # a worker reaching it late leaves it alone
    assert (await client.get(f"/api/plan/runs/{run['id']}")).json()["status"] == "failed"
    again = await api(client, "POST", "/api/plan/runs", json=period)
    assert again.status_code == 201, again.text
