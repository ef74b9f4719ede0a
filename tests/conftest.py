"""Test set-up shared by every suite.

The database suite runs once per engine: on SQLite by default, and on PostgreSQL when
VH_TEST_DB=postgres (``make test`` runs both). Each run gets its own database (a temporary SQLite
file, or a fresh PostgreSQL database that is dropped afterwards), migrated once; every test starts
from empty tables.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from engines import ADMIN_POSTGRES_URL, ENGINE, IN_CI

_state: dict[str, str] = {}


async def _postgres_admin(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_POSTGRES_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def pytest_configure(config: pytest.Config) -> None:
    var_dir = tempfile.mkdtemp(prefix="vh-test-")
    _state["var_dir"] = var_dir
    os.environ["VOLUNTEER_HUB_VAR"] = var_dir
    os.environ["VOLUNTEER_HUB_ENV"] = "development"
    os.environ["PICCOLO_CONF"] = "volunteer_hub.piccolo_conf"
    # Argon2's cheapest parameters (tests/web/test_settings.py checks the real ones are the default).
    os.environ["VOLUNTEER_HUB_FAST_PASSWORD_HASHING"] = "1"
    os.environ.pop("REDIS_URL", None)
    if ENGINE == "postgres":
        name = f"vh_test_{os.getpid()}"
        try:
            asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
        except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same
            message = f"PostgreSQL at {ADMIN_POSTGRES_URL} is not reachable: {error}"
            if IN_CI:
                pytest.exit(f"CI requires the PostgreSQL suite. {message}", returncode=1)
            pytest.exit(f"PostgreSQL suite NOT RUN. {message}", returncode=0)
        _state["postgres_db"] = name
        base = ADMIN_POSTGRES_URL.rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(var_dir) / 'test.sqlite3'}"


def pytest_unconfigure(config: pytest.Config) -> None:
    name = _state.get("postgres_db")
    if name:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    shutil.rmtree(_state.get("var_dir", ""), ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"db", "client", "live_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def migrated() -> None:
    from volunteer_hub.__main__ import main

    assert main(["migrate"]) == 0


@pytest.fixture
async def db(migrated):
    """Empty tables and fresh session/throttle stores for each test."""
    from support import empty_database

    await empty_database()
    for store in ("sessions", "login_throttle"):
        shutil.rmtree(Path(_state["var_dir"]) / store, ignore_errors=True)
    yield


@pytest.fixture
async def client(db):
    """An HTTP client talking to the app in the test's own event loop (through httpx's ASGI
    transport, with the app's start-up and shut-down run around it), so the test can use the
    database pool too and concurrent requests really overlap."""
    import httpx

    from volunteer_hub.app import create_app

    app = create_app()
    # The start-up and shut-down hooks are called directly: Litestar's lifespan() holds an anyio task
    # group that must close in the task that opened it, and pytest runs fixture set-up and
    # tear-down in different tasks.
    for hook in app.on_startup:
        await hook()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client:
            yield test_client
    finally:
        for hook in app.on_shutdown:
            await hook()
