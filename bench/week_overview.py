"""Server time of the manager's week overview over the demo district.

Usage (a fresh database is needed: the demo is loaded into it):
    DATABASE_URL=sqlite:///var/bench.sqlite3 .venv/bin/python bench/week_overview.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/vh_bench .venv/bin/python bench/week_overview.py

Times whole requests through the ASGI app in-process (routing, session, database queries, template
rendering), without network: what the server spends per request.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

ROUNDS = 30


async def main() -> None:
    import httpx

    from volunteer_hub.app import create_app
    from volunteer_hub.demo import seed_demo
    from volunteer_hub.shifts.tables import Shift

    app = create_app()
    for hook in app.on_startup:
        await hook()
    started = time.perf_counter()
    print(await seed_demo())
    print(f"demo loaded in {time.perf_counter() - started:.1f} s; {await Shift.count()} shifts in the database")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
        await client.get("/login")
        token = client.cookies.get("csrftoken")
        answer = await client.post("/login", data={"login": "manager", "password": "Manager2026demo",
                                                   "_csrf_token": token})
        assert answer.status_code == 303, answer.text
        for path in ("/overview", "/api/overview"):
            timings = []
            for _ in range(ROUNDS + 3):
                begin = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200
            timings = sorted(timings[3:])  # the first requests warm caches and templates
            print(f"{path}: median {statistics.median(timings):.1f} ms, p95 {timings[int(0.95 * len(timings)) - 1]:.1f} ms, "
                  f"max {timings[-1]:.1f} ms over {ROUNDS} requests ({len(response.content)} bytes)")
    for hook in app.on_shutdown:
        await hook()


if __name__ == "__main__":
    if "DATABASE_URL" not in os.environ:
        sys.exit("set DATABASE_URL to an empty database (see the docstring)")
    os.environ.setdefault("PICCOLO_CONF", "volunteer_hub.piccolo_conf")
    from volunteer_hub.__main__ import main as cli

    if cli(["migrate"]) != 0:
        sys.exit("migration failed")
    asyncio.run(main())
