"""A badge is granted to a volunteer at most once, even when two attendance records are verified at
the same moment."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T10:27:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique badge grants"

INDEXES = {
    "uq_badge_grant_volunteer_badge": (
        'CREATE UNIQUE INDEX "uq_badge_grant_volunteer_badge" ON "badge_grant" ("volunteer", "badge")'
    ),
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
