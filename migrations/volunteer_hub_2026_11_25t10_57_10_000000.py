"""A unit holds at most one booking of a shift's team seats (it changes the number instead)."""

from volunteer_hub.db import index_migration

ID = "2026-11-25T10:57:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "one team booking per shift and unit"

INDEXES = {
    "uq_team_booking_shift_unit": 'CREATE UNIQUE INDEX "uq_team_booking_shift_unit" ON "team_booking" ("shift", "unit")',
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
