"""Command line: ``python -m volunteer_hub <command>``.

  migrate                       apply all database migrations
  create-admin LOGIN [--name N] the first administrator (password asked, or from VOLUNTEER_HUB_ADMIN_PASSWORD)
  seed-demo                     the invented demo district (idempotent)
  seed-demo-if-empty            the demo district, only when the database has no accounts yet
  worker                        run solver jobs from the queue (until interrupted)
  serve [--host H] [--port P]   the web server with a worker beside it (what `make run` starts)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys


def _migrate() -> int:
    from piccolo.apps.migrations.commands.forwards import forwards

    asyncio.run(forwards(app_name="all"))
    return 0


async def _with_db(coroutine_function, *args):
    from volunteer_hub import db

    await db.start()
    try:
        return await coroutine_function(*args)
    finally:
        await db.stop()


def _serve(host: str, port: int) -> int:
    """uvicorn in this process and the queue's worker in a child process, stopped together."""
    import subprocess

    import uvicorn

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    # uvicorn shuts down on SIGTERM and then raises the signal again; with this handler in place that
    # ends in the `finally` below instead of killing the process and leaving the worker behind.
    signal.signal(signal.SIGTERM, stop)
    worker = subprocess.Popen([sys.executable, "-m", "volunteer_hub", "worker"])
    try:
        uvicorn.run("volunteer_hub.app:create_app", factory=True, host=host, port=port)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m volunteer_hub")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply all database migrations")
    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("login")
    admin.add_argument("--name", default="")
    commands.add_parser("seed-demo", help="load the demo district (idempotent)")
    commands.add_parser("seed-demo-if-empty", help="load the demo district when there are no accounts")
    commands.add_parser("worker", help="run solver jobs from the queue until interrupted")
    serve = commands.add_parser("serve", help="the web server with a worker beside it")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "worker":
        from volunteer_hub.planning.queue import run_worker

        run_worker()
        return 0
    if args.command == "serve":
        return _serve(args.host, args.port)

    if args.command == "migrate":
        return _migrate()
    if args.command == "create-admin":
        from volunteer_hub.accounts.services import create_admin
        from volunteer_hub.errors import DomainError

        password = os.environ.get("VOLUNTEER_HUB_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            user = asyncio.run(_with_db(create_admin, args.login, password, args.name))
        except DomainError as error:
            print(f"error: {error.message}", *error.field_errors.values(), sep="\n  ", file=sys.stderr)
            return 2
        print(f"created administrator {user.login}")
        return 0
    from volunteer_hub import demo

    if args.command == "seed-demo":
        summary = asyncio.run(_with_db(demo.seed_demo))
    else:
        summary = asyncio.run(_with_db(demo.seed_demo_if_empty))
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
