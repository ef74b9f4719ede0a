"""Migrations: an empty database migrated forwards matches the models, backwards leaves nothing, and
forwards again works. Fails when a model changed without a migration."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from engines import ADMIN_POSTGRES_URL, ENGINE
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from volunteer_hub.piccolo_app import APP_CONFIG

pytestmark = pytest.mark.db


def model_schema() -> dict[str, set[str]]:
    return {
        table._meta.tablename: {column._meta.db_column_name for column in table._meta.columns}
        for table in APP_CONFIG.table_classes
    }


def piccolo(args: list[str], database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PICCOLO_CONF": "volunteer_hub.piccolo_conf"}
    done = subprocess.run([sys.executable, "-m", "piccolo.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "failed" not in done.stdout.lower(), done.stdout + done.stderr


async def postgres_schema(url: str) -> dict[str, set[str]]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    schema: dict[str, set[str]] = {}
    for row in rows:
        schema.setdefault(row["table_name"], set()).add(row["column_name"])
    return schema


def sqlite_schema(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')} for table in tables}


@pytest.fixture
def empty_database_url():
    if ENGINE == "postgres":
        import asyncpg

        name = f"vh_migrations_{os.getpid()}"

        async def admin(statement: str) -> None:
            connection = await asyncpg.connect(ADMIN_POSTGRES_URL)
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = ADMIN_POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
        yield url, lambda: asyncio.run(postgres_schema(url))
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "migrations.sqlite3"
            yield f"sqlite:///{path}", lambda: sqlite_schema(path)


def test_migrations_round_trip_and_match_the_models(empty_database_url):
    url, read_schema = empty_database_url
    piccolo(["migrations", "forwards", "all"], url)
    schema = read_schema()
    expected = model_schema()
    for table, columns in expected.items():
        assert schema.get(table) == columns, f"table {table} differs from its model: run `piccolo migrations new`"
    piccolo(["migrations", "backwards", "volunteer_hub", "--migration_id=all", "--auto_agree"], url)
    assert set(read_schema()) & set(expected) == set()
    piccolo(["migrations", "forwards", "all"], url)
    assert {t: c for t, c in read_schema().items() if t in expected} == expected


def test_no_model_change_lacks_a_migration():
    statements = asyncio.run(AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG))
    pending = [statement for item in statements for statement in item.statements]
    assert pending == [], f"models changed without a migration: {pending}"
