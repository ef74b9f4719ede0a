"""Planning a week in the app: from "start" to the first progress, to the end of the run, and the
server time of the preview, for the demo district and a generated 10,000-volunteer district.

Usage:
    .venv/bin/python bench/planning_scale.py [--district demo|10k|both] [--engine sqlite|postgres]
                                             [--admin-url postgresql://postgres@127.0.0.1:5432/test]

Each district runs in a child process of its own (the settings and Piccolo's engine are fixed when a
process starts) with a fresh database: a SQLite file under var/bench-planning/<engine>-<district>/,
or the PostgreSQL database vh_bench_plan_<district>, created, then dropped at the end (``--keep``
keeps it). The var folder is the bench's own, so the job queue (SqliteHuey there, or PostgresHuey in
the bench database) is not shared with any other worker.

demo: ``volunteer_hub.demo.seed_demo``. 10k: ``python -m scheduler generate`` with the options of the
scheduler's own district benchmark (``python -m scheduler bench``: 10,000 volunteers, 60 schools,
40 sites, 5 days, seed 1), loaded by ``bench/load_district.py``. Both plan the next ISO week, the
whole district, with the default solver settings (SOLVER_WORKERS, 2 threads) and a 60 s limit.

Timing: a real worker (``python -m volunteer_hub worker``, a child process) is started first and left
idle until its queue polling has backed off to its steady interval. Then, as a logged-in manager,
the bench POSTs ``/api/plan/runs`` and polls ``GET /api/plan/runs/{id}`` every 0.1 s; *first progress
seen* is from just before the POST to the first answer with ``progress_updates >= 1``; *worker's
first_progress_s* is what the worker recorded (from the run's created_at); *ended* is when the status
left queued/running. Requests go through the ASGI app in-process (httpx's ASGI transport, as the
other benches): server time, no network. The preview page ``GET /plan/runs/{id}`` and the JSON
``GET /api/plan/runs/{id}/preview`` are then timed over ``--rounds`` requests after one warm-up.
While the run goes, the bench itself does nothing but poll.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-planning"
DISTRICT_OPTIONS = ["--volunteers", "10000", "--schools", "60", "--sites", "40", "--days", "5", "--seed", "1"]
POLL_S = 0.1
BENCH_MANAGER = ("benchmanager", "Bench2026pass")


async def admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def district_json() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "district-10000-60-40-seed1.json"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "scheduler", "generate", *DISTRICT_OPTIONS, "--out", str(path)],
                       check=True, cwd=ROOT)
    return path


class Worker:
    """``python -m volunteer_hub worker`` as a child process; its log is kept and watched."""

    def __init__(self, env: dict):
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen([sys.executable, "-m", "volunteer_hub", "worker"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if "consumer started" in line:
                self.ready.set()

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        self.process.send_signal(2)  # SIGINT: huey's consumer stops gracefully
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def timings_ms(values: list[float]) -> dict:
    return {"median_ms": statistics.median(values), "max_ms": max(values), "n": len(values)}


async def measure(district: str, engine: str, rounds: int, time_limit: int, trained_escort: str) -> dict:
    import logging

    import httpx

    from volunteer_hub.app import create_app
    from volunteer_hub.planning.problem import Scope
    from volunteer_hub.planning.services import iso_week, parse_scope
    from volunteer_hub.planning.tables import PlanRun
    from volunteer_hub.shifts.tables import Shift
    from volunteer_hub.volunteers.tables import Volunteer

    figures: dict = {"district": district, "engine": engine, "time_limit_s": time_limit, "trained_escort": trained_escort,
                     "solver_workers": os.environ.get("SOLVER_WORKERS", "2")}
    app = create_app()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    for hook in app.on_startup:
        await hook()
    scope = parse_scope()  # next ISO week, the whole district
    week = iso_week(scope.start)
    figures["week"] = week
    started = time.perf_counter()
    if district == "demo":
        from volunteer_hub.demo import seed_demo

        print(await seed_demo(), flush=True)
        login = ("manager", "Manager2026demo")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from load_district import compare_with_json, load_district

        from volunteer_hub.accounts.services import create_user

        path = district_json()
        figures["load"] = await load_district(str(path), scope.start, trained_escort=trained_escort)
        await create_user(login=BENCH_MANAGER[0], password=BENCH_MANAGER[1], role="manager", display_name="基准管理员")
        login = BENCH_MANAGER
        figures["sizes"] = await compare_with_json(str(path), Scope(scope.start, scope.end))
        print("problem sizes (JSON vs load_problem):", json.dumps(figures["sizes"], ensure_ascii=False), flush=True)
    figures["setup_s"] = time.perf_counter() - started
    figures["db_shifts_in_week"] = await Shift.count().where(scope.shift_condition())
    figures["db_volunteers"] = await Volunteer.count()

    worker = Worker(dict(os.environ))
    try:
        if not worker.ready.wait(timeout=60):
            raise RuntimeError("the worker did not start:\n" + "\n".join(worker.lines))
        await asyncio.sleep(5)  # idle: its polling has backed off to the steady 0.5 s
        figures["uptime_before_run"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local", timeout=120) as client:
            await client.get("/login")
            answer = await client.post("/login", data={"login": login[0], "password": login[1],
                                                       "_csrf_token": client.cookies.get("csrftoken")})
            assert answer.status_code == 303, answer.text
            headers = {"x-csrftoken": client.cookies.get("csrftoken")}
            begin = time.perf_counter()
            answer = await client.post("/api/plan/runs", json={"week": week, "time_limit_s": time_limit}, headers=headers)
            post_s = time.perf_counter() - begin
            assert answer.status_code == 201, answer.text
            run_id = answer.json()["id"]
            started_seen = first_seen = None
            polls = 0
            while True:
                run = (await client.get(f"/api/plan/runs/{run_id}")).json()
                polls += 1
                now = time.perf_counter() - begin
                if started_seen is None and run["status"] != "queued":
                    started_seen = now
                if first_seen is None and run["progress_updates"] >= 1:
                    first_seen = now
                    print(f"  first progress seen after {now:.2f} s: objective {run['progress_objective']}, "
                          f"coverage_min {run['progress_coverage_min']}", flush=True)
                if run["status"] not in ("queued", "running"):
                    ended = now
                    break
                if now > time_limit + 600:
                    raise RuntimeError(f"run {run_id} still {run['status']} after {now:.0f} s")
                await asyncio.sleep(POLL_S)
            figures["worker_peak_rss_mb"] = worker.peak_rss_mb()
            row = await PlanRun.select().where(PlanRun.id == run_id).first()
            stats = row["stats"] if isinstance(row["stats"], dict) else json.loads(row["stats"] or "{}")
            figures.update(
                run_id=run_id, post_ms=post_s * 1000, started_seen_s=started_seen, first_progress_seen_s=first_seen,
                worker_first_progress_s=row["first_progress_s"], ended_s=ended, polls=polls, status=run["status"],
                error=run["error"], solver_status=row["solver_status"], objective=row["objective"], bound=row["bound"],
                gap=row["gap"], coverage_min=row["coverage_min"], coverage_ideal=row["coverage_ideal"],
                progress_updates=row["progress_updates"],
                queue_wait_s=(row["started_at"] - row["created_at"]).total_seconds() if row["started_at"] else None,
                worker_run_s=(row["finished_at"] - row["started_at"]).total_seconds() if row["finished_at"] and row["started_at"] else None,
                stats={k: v for k, v in stats.items() if k != "history"})
            print(f"  run {run_id}: {run['status']} {row['solver_status']} objective {row['objective']} gap {row['gap']} "
                  f"ended after {ended:.1f} s ({polls} polls)", flush=True)
            if run["status"] == "succeeded":
                for name, path in (("page", f"/plan/runs/{run_id}"), ("api", f"/api/plan/runs/{run_id}/preview")):
                    values = []
                    for k in range(rounds + 1):
                        t = time.perf_counter()
                        response = await client.get(path)
                        elapsed = (time.perf_counter() - t) * 1000
                        assert response.status_code == 200, (path, response.status_code, response.text[:500])
                        if k:  # the first request warms caches and templates
                            values.append(elapsed)
                    figures[f"preview_{name}"] = {**timings_ms(values), "bytes": len(response.content)}
                    print(f"  {path}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms over {rounds} "
                          f"({len(response.content):,} bytes)", flush=True)
                preview = (await client.get(f"/api/plan/runs/{run_id}/preview")).json()
                figures["preview_counts"] = {"shortfall_count": preview["shortfall_count"],
                                             "seats_short_min": preview["seats_short_min"],
                                             "seats_short_ideal": preview["seats_short_ideal"],
                                             "volunteers_used": preview["volunteers_used"],
                                             "change_totals": preview["change_totals"]}
    finally:
        worker.stop()
        figures["worker_log_tail"] = worker.lines[-5:]
    figures["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    for hook in app.on_shutdown:
        await hook()
    return figures


def label(district: str, trained_escort: str) -> str:
    return district if district == "demo" or trained_escort == "dropped" else f"{district}-trained-{trained_escort}"


def one_district(district: str, engine: str, admin_url: str, rounds: int, time_limit: int, keep: bool,
                 trained_escort: str) -> dict:
    """Runs in its own process: environment, fresh database, migrate, measure."""
    name = label(district, trained_escort)
    var = WORK / f"{engine}-{name}"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    database = f"vh_bench_plan_{name.replace('-', '_')}"
    if engine == "postgres":
        url = admin_url.rsplit("/", 1)[0] + "/" + database
        asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(admin(admin_url, f'CREATE DATABASE "{database}"'))
    else:
        url = f"sqlite:///{var / 'bench.sqlite3'}"
    os.environ.update(DATABASE_URL=url, VOLUNTEER_HUB_VAR=str(var), PICCOLO_CONF="volunteer_hub.piccolo_conf")
    os.environ.pop("REDIS_URL", None)  # the queue must be the bench's own
    try:
        from volunteer_hub.__main__ import main as cli

        if cli(["migrate"]) != 0:
            sys.exit("migration failed")
        return asyncio.run(measure(district, engine, rounds, time_limit, trained_escort))
    finally:
        if engine == "postgres" and not keep:
            asyncio.run(admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def line(f: dict) -> str:
    def s(value, fmt="{:.2f}"):
        return "-" if value is None else fmt.format(value)

    sizes = f.get("sizes", {}).get("app", {})
    return (f"{label(f['district'], f.get('trained_escort', 'dropped')):>4} {f['engine']:<8} shifts={f['db_shifts_in_week']} volunteers={f['db_volunteers']} "
            f"first_progress_seen={s(f['first_progress_seen_s'])}s worker_first_progress={s(f['worker_first_progress_s'])}s "
            f"ended={s(f['ended_s'], '{:.1f}')}s status={f['status']}/{f['solver_status']} objective={f['objective']} "
            f"gap={s(f['gap'] * 100 if f['gap'] is not None else None)}% coverage_min={s(f['coverage_min'], '{:.4f}')} "
            f"coverage_ideal={s(f['coverage_ideal'], '{:.4f}')} "
            f"preview_page={s(f.get('preview_page', {}).get('median_ms'), '{:.0f}')}/{s(f.get('preview_page', {}).get('max_ms'), '{:.0f}')}ms "
            f"preview_api={s(f.get('preview_api', {}).get('median_ms'), '{:.0f}')}/{s(f.get('preview_api', {}).get('max_ms'), '{:.0f}')}ms "
            f"worker_peak={s(f.get('worker_peak_rss_mb'), '{:.0f}')}MB"
            + (f" pairs={sizes.get('possible_pairs')}" if sizes else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", choices=("demo", "10k", "both"), default="both")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=5, help="timed requests of each preview (after one warm-up)")
    parser.add_argument("--time-limit", type=int, default=60, help="the run's solver time limit, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--trained-escort", choices=("dropped", "all"), default="dropped",
                        help="10k: how the generator's 'one trained escort among them' is loaded (see load_district.py)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # the child process of one district
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.one:
        figures = one_district(args.district, args.engine, args.admin_url, args.rounds, args.time_limit, args.keep,
                               args.trained_escort)
        out = WORK / f"result-{args.engine}-{label(args.district, args.trained_escort)}.json"
        out.write_text(json.dumps(figures, indent=1, default=str, ensure_ascii=False))
        print(line(figures), flush=True)
        return
    results = []
    for district in (("demo", "10k") if args.district == "both" else (args.district,)):
        print(f"== {district} on {args.engine} ({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)", flush=True)
        command = [sys.executable, __file__, "--one", "--district", district, "--engine", args.engine,
                   "--admin-url", args.admin_url, "--rounds", str(args.rounds), "--time-limit", str(args.time_limit),
                   "--trained-escort", args.trained_escort]
        if args.keep:
            command.append("--keep")
        subprocess.run(command, check=True)
        results.append(json.loads((WORK / f"result-{args.engine}-{label(district, args.trained_escort)}.json").read_text()))
    print()
    for figures in results:
        print(line(figures))


if __name__ == "__main__":
    main()
