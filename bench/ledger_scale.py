"""Leaderboard and profile summary at scale, on PostgreSQL: 100,000 volunteers, 5,000,000 ledger
entries, 1,000,000 attendance records (and the period totals the ledger keeps beside itself).

Usage:  .venv/bin/python bench/ledger_scale.py [--admin-url postgresql://postgres@127.0.0.1:5432/test]

Creates the database vh_bench_ledger (dropped and re-created each run), migrates it, fills it with
set-based SQL, then times requests through the ASGI app in-process (routing, session, queries,
rendering; no network): what the server spends per request. Prints the plans of the two queries that
matter, to show which indexes carry them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

VOLUNTEERS = 100_000
ENTRIES = 5_000_000
SHIFTS = 10_000
ATTENDANCE = 1_000_000
ROUNDS = 30
DATABASE = "vh_bench_ledger"


async def admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


FILL = """
INSERT INTO street_office (name) VALUES ('基准街道');
INSERT INTO community (name, street_office) SELECT '基准社区', id FROM street_office;
INSERT INTO grid (code, name, community, latitude, longitude)
  SELECT 'B-' || g, '基准网格' || g, (SELECT id FROM community), 27.7 + g / 1000.0, 106.9 FROM generate_series(1, 100) g;
INSERT INTO unit (name, kind) SELECT '基准单位' || u, 'company' FROM generate_series(1, 200) u;
INSERT INTO site (name, category, grid, latitude, longitude) SELECT '基准服务点', 'park', min(id), 27.7, 106.9 FROM grid;
INSERT INTO app_user (login, password_hash, role, display_name, locale, is_active, created_at)
  SELECT (13000000000::bigint + i)::text, $1, 'volunteer', '志愿者' || i, 'zh_CN', true, now() FROM generate_series(1, {volunteers}) i;
INSERT INTO volunteer ("user", name, phone, birth_year, home_grid, unit, max_shifts_per_week, max_minutes_per_week,
                       max_travel_km, privacy_consent_at, created_at, hide_from_boards)
  SELECT u.id, '张' || u.id, u.login, 1980, (SELECT min(id) FROM grid) + u.id % 100, (SELECT min(id) FROM unit) + u.id % 200,
         3, 240, 3, now(), now(), u.id % 50 = 0
  FROM app_user u WHERE u.role = 'volunteer';
INSERT INTO points_entry (volunteer, amount, rule, source, source_id, idempotency_key, note, created_by, created_at)
  SELECT (SELECT min(id) FROM volunteer) + i % {volunteers}, 5 + (i::bigint * 7919) % 40, 'verified_hours', 'attendance', NULL,
         'bench:' || i, '', NULL, now() - ((i * 31) % 365 || ' days')::interval - (i % 1440 || ' minutes')::interval
  FROM generate_series(1, {entries}) i;
INSERT INTO points_balance (volunteer, balance, updated_at)
  SELECT volunteer, sum(amount), now() FROM points_entry GROUP BY volunteer;
INSERT INTO points_period_total (volunteer, period, period_start, earned)
  SELECT volunteer, p.period, CASE WHEN p.period = 'all' THEN DATE '2000-01-01'
         ELSE date_trunc(p.period, created_at AT TIME ZONE 'Asia/Shanghai')::date END, sum(amount)
  FROM points_entry, (VALUES ('week'), ('month'), ('quarter'), ('year'), ('all')) AS p(period)
  WHERE source <> 'redemption' GROUP BY 1, 2, 3;
INSERT INTO group_period_total (group_kind, group_id, period, period_start, earned)
  SELECT g.kind, CASE WHEN g.kind = 'unit' THEN v.unit ELSE v.home_grid END, t.period, t.period_start, sum(t.earned)
  FROM points_period_total t JOIN volunteer v ON v.id = t.volunteer, (VALUES ('unit'), ('grid')) AS g(kind)
  GROUP BY 1, 2, 3, 4;
INSERT INTO shift (source_key, site, grid, kind, title, day, starts_at, ends_at, latitude, longitude, seats_min,
                   seats_ideal, seats_max, adults_only, required_skills, needs_lead, priority, status)
  SELECT 'bench:' || s, (SELECT id FROM site), (SELECT min(id) FROM grid), 'cleanup', '基准清扫',
         (now() - (s % 365 || ' days')::interval)::date, date_trunc('day', now() - (s % 365 || ' days')::interval) + interval '9 hours',
         date_trunc('day', now() - (s % 365 || ' days')::interval) + interval '11 hours', 27.7, 106.9, 1, 2, 2, false, '', false, 2, 'open'
  FROM generate_series(1, {shifts}) s;
INSERT INTO attendance (shift, volunteer, status, checked_in_at, checked_out_at, verified_minutes, source, revision,
                        marked_by, updated_at)
  SELECT (SELECT min(id) FROM shift) + i % {shifts}, (SELECT min(id) FROM volunteer) + (i / 10) % {volunteers}, 'present',
         NULL, NULL, 120, 'roster', 1, NULL, now()
  FROM generate_series(0, {attendance} - 1) i;
ANALYZE;
"""

PLAN_QUERIES = {
    "leaderboard (units, quarter)": """
        EXPLAIN ANALYZE SELECT group_id, earned FROM group_period_total
        WHERE group_kind = 'unit' AND period = 'quarter'
          AND period_start = date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date
        ORDER BY earned DESC, group_id LIMIT 50""",
    "leaderboard (volunteers, quarter)": """
        EXPLAIN ANALYZE SELECT t.volunteer, t.earned, v.name FROM points_period_total t JOIN volunteer v ON v.id = t.volunteer
        WHERE t.period = 'quarter' AND t.period_start = date_trunc('quarter', now() AT TIME ZONE 'Asia/Shanghai')::date
          AND v.hide_from_boards = false ORDER BY t.earned DESC, t.volunteer LIMIT 50""",
    "profile: last 100 ledger entries": """
        EXPLAIN ANALYZE SELECT amount, rule, source, note, created_at FROM points_entry
        WHERE volunteer = (SELECT min(id) + 4321 FROM volunteer) ORDER BY created_at DESC, id DESC LIMIT 100""",
}


async def fill(url: str) -> None:
    import asyncpg

    from volunteer_hub.accounts.passwords import hash_password

    connection = await asyncpg.connect(url)
    try:
        password_hash = hash_password("Bench2026pass")
        for statement in FILL.format(volunteers=VOLUNTEERS, entries=ENTRIES, shifts=SHIFTS, attendance=ATTENDANCE).split(";\n"):
            if statement.strip():
                started = time.perf_counter()
                if "$1" in statement:
                    await connection.execute(statement, password_hash)
                else:
                    await connection.execute(statement)
                print(f"  {statement.split()[0]} {statement.split()[2] if len(statement.split()) > 2 else ''}: "
                      f"{time.perf_counter() - started:.1f} s", flush=True)
        counts = {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"')
                  for table in ("volunteer", "points_entry", "points_period_total", "group_period_total", "attendance")}
        print("rows:", counts)
        for name, query in PLAN_QUERIES.items():
            plan = [row[0] for row in await connection.fetch(query)]
            print(f"plan of {name}:\n    " + "\n    ".join(plan))
    finally:
        await connection.close()


async def measure(url: str) -> None:
    import httpx

    from volunteer_hub.accounts.services import create_user
    from volunteer_hub.app import create_app

    app = create_app()
    for hook in app.on_startup:
        await hook()
    from volunteer_hub.accounts.tables import User

    if not await User.exists().where(User.login == "benchmanager"):
        await create_user(login="benchmanager", password="Bench2026pass", role="manager", display_name="基准管理员")
    transport = httpx.ASGITransport(app=app)
    for login, paths in (("13000004321", ("/leaderboard?board=volunteers&period=quarter",
                                          "/api/leaderboard?board=volunteers&period=quarter", "/my/hours", "/api/my/hours",
                                          "/profile", "/api/me/profile")),
                         ("benchmanager", ("/leaderboard?board=units&period=quarter",
                                           "/api/leaderboard?board=grids&period=year"))):
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
            await client.get("/login")
            answer = await client.post("/login", data={"login": login, "password": "Bench2026pass",
                                                       "_csrf_token": client.cookies.get("csrftoken")})
            assert answer.status_code == 303, answer.text
            for path in paths:
                timings = []
                for _ in range(ROUNDS + 3):
                    begin = time.perf_counter()
                    response = await client.get(path)
                    timings.append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                timings = sorted(timings[3:])
                print(f"{path}: median {statistics.median(timings):.1f} ms, p95 {timings[int(0.95 * len(timings)) - 1]:.1f} ms "
                      f"over {ROUNDS} requests ({login})", flush=True)
    for hook in app.on_shutdown:
        await hook()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run filled")
    args = parser.parse_args()
    url = args.admin_url.rsplit("/", 1)[0] + "/" + DATABASE
    if not args.reuse:
        asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        asyncio.run(admin(args.admin_url, f'CREATE DATABASE "{DATABASE}"'))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PICCOLO_CONF", "volunteer_hub.piccolo_conf")
    os.environ.setdefault("VOLUNTEER_HUB_VAR", os.path.join(os.path.dirname(__file__), "..", "var", "bench"))
    from volunteer_hub.__main__ import main as cli

    if cli(["migrate"]) != 0:
        sys.exit("migration failed")
    if not args.reuse:
        started = time.perf_counter()
        asyncio.run(fill(url))
        print(f"filled in {time.perf_counter() - started:.0f} s")
    asyncio.run(measure(url))


if __name__ == "__main__":
    main()
