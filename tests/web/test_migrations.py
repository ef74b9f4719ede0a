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


# A column as the database holds it: (type, nullable), with the type named the same way on both engines.
Column = tuple[str, bool]


def _model_type(column) -> str:
    from piccolo import columns as c

    if isinstance(column, c.ForeignKey):
        target = column._foreign_key_meta.resolved_references._meta.primary_key
        return "bigint" if isinstance(target, c.BigSerial) and ENGINE == "postgres" else _model_type(target)
    # Most specific classes first (Serial is an Integer, BigInt is an Integer, Timestamptz is not a Timestamp...).
    kinds = [
        (c.BigSerial, "bigint"), (c.Serial, "integer"), (c.BigInt, "bigint"), (c.SmallInt, "smallint"),
        (c.Integer, "integer"), (c.Boolean, "boolean"), (c.Timestamptz, "timestamptz"), (c.Timestamp, "timestamp"),
        (c.Date, "date"), (c.Time, "time"), (c.DoublePrecision, "double precision"), (c.Real, "real"),
        (c.JSONB, "jsonb"), (c.JSON, "json"), (c.Text, "text"),
    ]
    if isinstance(column, c.Varchar):
        return f"varchar({column.length})"
    for kind, name in kinds:
        if isinstance(column, kind):
            if ENGINE != "postgres" and name in ("bigint", "smallint"):
                return "integer"  # SQLite has one integer type; Piccolo writes INTEGER for all of them
            return name
    raise AssertionError(f"{column._meta.name}: teach this test the database type of {type(column).__name__}")


def model_schema() -> dict[str, dict[str, Column]]:
    return {
        table._meta.tablename: {
            column._meta.db_column_name: (_model_type(column), bool(column._meta.null) and not column._meta.primary_key)
            for column in table._meta.columns
        }
        for table in APP_CONFIG.table_classes
    }


def piccolo(args: list[str], database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PICCOLO_CONF": "volunteer_hub.piccolo_conf"}
    done = subprocess.run([sys.executable, "-m", "piccolo.main", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "failed" not in done.stdout.lower(), done.stdout + done.stderr


_POSTGRES_TYPES = {"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
                   "time without time zone": "time"}


async def postgres_schema(url: str) -> tuple[dict[str, dict[str, Column]], set[str]]:
    """Every table's columns, and the names of every index (apart from primary keys), trigger and function."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT t.table_name, c.column_name, c.data_type, c.character_maximum_length, c.is_nullable "
            "FROM information_schema.tables t LEFT JOIN information_schema.columns c "
            "ON c.table_schema = t.table_schema AND c.table_name = t.table_name "
            "WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        )
        indexes = {row["indexname"] for row in await connection.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'")}
        indexes |= {f"trigger {row['tgname']}" for row in await connection.fetch(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        indexes |= {f"function {row['proname']}" for row in await connection.fetch(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'")}
    finally:
        await connection.close()
    schema: dict[str, dict[str, Column]] = {}
    for row in rows:
        columns = schema.setdefault(row["table_name"], {})
        if row["column_name"] is None:
            continue
        kind = row["data_type"]
        kind = f"varchar({row['character_maximum_length']})" if kind == "character varying" else _POSTGRES_TYPES.get(kind, kind)
        columns[row["column_name"]] = (kind, row["is_nullable"] == "YES")
    return schema, indexes


def sqlite_schema(path: Path) -> tuple[dict[str, dict[str, Column]], set[str]]:
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        schema = {
            table: {row[1]: (" ".join(row[2].lower().split()), not row[3] and not row[5])  # name, type, notnull, pk
                    for row in connection.execute(f'PRAGMA table_info("{table}")')}
            for table in tables
        }
        indexes = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'")}
        indexes |= {f"trigger {row[0]}" for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return schema, indexes


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


def _differences(schema: dict[str, dict[str, Column]], expected: dict[str, dict[str, Column]]) -> list[str]:
    found = []
    for table, columns in expected.items():
        actual = schema.get(table)
        if actual is None:
            found.append(f"table {table} is missing")
            continue
        for name in sorted(set(columns) | set(actual)):
            if columns.get(name) != actual.get(name):
                found.append(f"{table}.{name}: model {columns.get(name)} (type, nullable), database {actual.get(name)}")
    return found


# Tables that belong to no model: Piccolo's record of the migrations it ran.
BOOKKEEPING = {"migration"}


def test_migrations_round_trip_and_match_the_models(empty_database_url):
    url, read_schema = empty_database_url
    expected = model_schema()
    piccolo(["migrations", "forwards", "all"], url)
    schema, indexes = read_schema()
    assert _differences(schema, expected) == [], "tables differ from their models: run `piccolo migrations new`"
    assert set(schema) - set(expected) - BOOKKEEPING == set(), "tables that no model describes"
    # What the raw migrations make besides tables: multi-column unique indexes and the ledger's
    # append-only triggers (on PostgreSQL with their function).
    assert {"uq_assignment_live", "uq_bell_schedule_day", "uq_volunteer_calendar_token"} <= indexes, indexes
    if ENGINE == "postgres":
        assert {"trigger points_entry_no_update_or_delete", "function points_entry_append_only"} <= indexes, indexes
    else:
        assert {"trigger points_entry_no_update", "trigger points_entry_no_delete"} <= indexes, indexes
    piccolo(["migrations", "backwards", "volunteer_hub", "--migration_id=all", "--auto_agree"], url)
    after, left_indexes = read_schema()
    assert set(after) - BOOKKEEPING == set(), f"tables left after migrating backwards: {set(after) - BOOKKEEPING}"
    assert left_indexes == set(), f"indexes, triggers or functions left after migrating backwards: {left_indexes}"
    piccolo(["migrations", "forwards", "all"], url)
    again, indexes_again = read_schema()
    assert _differences(again, expected) == [] and set(again) - BOOKKEEPING == set(expected)
    assert indexes_again == indexes


def test_the_comparison_sees_a_changed_type_nullability_or_column():
    expected = model_schema()
    table = next(name for name, columns in expected.items() if len(columns) > 2)
    name, (kind, nullable) = next(iter((n, c) for n, c in expected[table].items() if n != "id"))
    for changed in ((("text" if kind != "text" else "integer"), nullable), (kind, not nullable)):
        schema = {t: dict(columns) for t, columns in expected.items()}
        schema[table][name] = changed
        assert _differences(schema, expected) == [f"{table}.{name}: model {(kind, nullable)} (type, nullable), "
                                                  f"database {changed}"]
    schema = {t: dict(columns) for t, columns in expected.items() if t != table}
    assert _differences(schema, expected) == [f"table {table} is missing"]


def test_no_model_change_lacks_a_migration():
    statements = asyncio.run(AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG))
    pending = [statement for item in statements for statement in item.statements]
    assert pending == [], f"models changed without a migration: {pending}"
