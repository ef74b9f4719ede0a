"""Indexes for attendance and the points ledger.

One attendance row per volunteer and shift, enforced by the database so that two people marking the
same attendance at once cannot create two rows (and two awards). The ledger is read by volunteer and
by time (a volunteer's history; a quarter's leaderboard).
"""

from volunteer_hub.db import index_migration

ID = "2026-11-25T10:22:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique attendance per volunteer and shift; ledger indexes"

INDEXES = {
    "uq_attendance_shift_volunteer": (
        'CREATE UNIQUE INDEX "uq_attendance_shift_volunteer" ON "attendance" ("shift", "volunteer")'
    ),
    "ix_points_entry_volunteer_created": (
        'CREATE INDEX "ix_points_entry_volunteer_created" ON "points_entry" ("volunteer", "created_at")'
    ),
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
