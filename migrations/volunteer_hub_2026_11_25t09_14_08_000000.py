"""Unique indexes over several columns.

Piccolo adds multi-column UNIQUE constraints with ALTER TABLE ... ADD CONSTRAINT, which SQLite
cannot do; a unique index says the same on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T09:14:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes over several columns"

UNIQUE_INDEXES = {
    "uq_community_office_name": ("community", ("street_office", "name")),
    "uq_volunteer_skill": ("volunteer_skill", ("volunteer", "skill")),
    "uq_unavailable_date": ("unavailable_date", ("volunteer", "day")),
    "uq_preferred_kind": ("preferred_kind", ("volunteer", "kind")),
    "uq_preferred_school": ("preferred_school", ("volunteer", "school")),
    "uq_preferred_site": ("preferred_site", ("volunteer", "site")),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="volunteer_hub", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for name, (table, columns) in UNIQUE_INDEXES.items():
            column_list = ", ".join(f'"{column}"' for column in columns)
            await engine.run_ddl(f'CREATE UNIQUE INDEX "{name}" ON "{table}" ({column_list})')

    async def drop_indexes():
        engine = engine_finder()
        for name in UNIQUE_INDEXES:
            await engine.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
