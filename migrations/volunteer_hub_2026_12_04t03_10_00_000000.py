"""The points ledger is append-only in the database too: triggers refuse every UPDATE and DELETE of a
``points_entry`` row, whatever code (or person with a SQL prompt) tries it. A correction is a new,
reversing entry.

SQLite and PostgreSQL write triggers differently, so each gets its own statements. On PostgreSQL
TRUNCATE fires no row triggers: emptying the whole table stays possible for an administrator (and the
test suite), on purpose, as an explicit act. On SQLite the test suite drops the triggers, empties the
table and creates them again (tests/support.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-04T03:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "points ledger append-only triggers"

MESSAGE = "points_entry is append-only: add a reversing entry instead"

SQLITE_FORWARDS = [
    'CREATE TRIGGER "points_entry_no_update" BEFORE UPDATE ON "points_entry" '
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    'CREATE TRIGGER "points_entry_no_delete" BEFORE DELETE ON "points_entry" '
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_BACKWARDS = [
    'DROP TRIGGER IF EXISTS "points_entry_no_update"',
    'DROP TRIGGER IF EXISTS "points_entry_no_delete"',
]
POSTGRES_FORWARDS = [
    "CREATE OR REPLACE FUNCTION points_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$",
    'CREATE TRIGGER "points_entry_no_update_or_delete" BEFORE UPDATE OR DELETE ON "points_entry" '
    "FOR EACH ROW EXECUTE FUNCTION points_entry_append_only()",
]
POSTGRES_BACKWARDS = [
    'DROP TRIGGER IF EXISTS "points_entry_no_update_or_delete" ON "points_entry"',
    "DROP FUNCTION IF EXISTS points_entry_append_only()",
]


async def _run(sqlite: list[str], postgres: list[str]) -> None:
    engine = engine_finder()
    for statement in sqlite if isinstance(engine, SQLiteEngine) else postgres:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="volunteer_hub", description=DESCRIPTION)

    async def create() -> None:
        await _run(SQLITE_FORWARDS, POSTGRES_FORWARDS)

    async def drop() -> None:
        await _run(SQLITE_BACKWARDS, POSTGRES_BACKWARDS)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
