"""Indexes for the leaderboards' period totals (filled from the ledger by the 11:05:49 migration).

One row per volunteer, period and period start (unique); a board reads the top rows of
(period, period_start, earned) directly.
"""

from volunteer_hub.db import index_migration

ID = "2026-11-25T10:46:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "period totals: indexes"

INDEXES = {
    "uq_points_period_total": (
        'CREATE UNIQUE INDEX "uq_points_period_total" ON "points_period_total" ("volunteer", "period", "period_start")'
    ),
    "ix_points_period_total_board": (
        'CREATE INDEX "ix_points_period_total_board" ON "points_period_total" ("period", "period_start", "earned")'
    ),
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
