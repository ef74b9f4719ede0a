"""Indexes for the unit and grid leaderboards' totals (the unique one is the target of their upsert),
and the first filling of every period total (volunteers', units', grids') from the ledger. The filling
calls the application's rebuild function, which must work against the schema as of this migration.
"""

from volunteer_hub.db import index_migration

ID = "2026-11-25T11:05:49:000000"
VERSION = "1.38.0"
DESCRIPTION = "group period totals: indexes and backfill"

INDEXES = {
    "uq_group_period_total": (
        'CREATE UNIQUE INDEX "uq_group_period_total" ON "group_period_total" '
        '("group_kind", "group_id", "period", "period_start")'
    ),
    "ix_group_period_total_board": (
        'CREATE INDEX "ix_group_period_total_board" ON "group_period_total" ("group_kind", "period", "period_start", "earned")'
    ),
}


async def _fill_totals():
    from volunteer_hub.points.services import rebuild_period_totals

    await rebuild_period_totals()


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES, then=_fill_totals)
