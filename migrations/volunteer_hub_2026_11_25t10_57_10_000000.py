"""A unit holds at most one booking of a shift's team seats (it changes the number instead)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T10:57:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "one team booking per shift and unit"

INDEXES = {
    "uq_team_booking_shift_unit": 'CREATE UNIQUE INDEX "uq_team_booking_shift_unit" ON "team_booking" ("shift", "unit")',
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="volunteer_hub", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in INDEXES.values():
            await engine.run_ddl(statement)

    async def drop_indexes():
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
