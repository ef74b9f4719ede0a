"""Unique indexes for schools and shifts (see the first such migration for why they are indexes).

A volunteer holds at most one live (confirmed or waitlisted) place on a shift: a partial unique
index, which SQLite and PostgreSQL both support, enforces it in the database even under concurrent
sign-ups.
"""

from volunteer_hub.db import index_migration

ID = "2026-11-25T09:34:53:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes for bell schedules, closures and live assignments"

INDEXES = {
    "uq_bell_schedule_day": 'CREATE UNIQUE INDEX "uq_bell_schedule_day" ON "bell_schedule" ("school", "weekday")',
    "uq_school_closure_day": 'CREATE UNIQUE INDEX "uq_school_closure_day" ON "school_closure" ("school", "day")',
    "uq_assignment_live": (
        'CREATE UNIQUE INDEX "uq_assignment_live" ON "assignment" ("shift", "volunteer") '
        "WHERE \"status\" <> 'cancelled'"
    ),
    "uq_volunteer_calendar_token": (
        'CREATE UNIQUE INDEX "uq_volunteer_calendar_token" ON "volunteer" ("calendar_token")'
    ),
    "ix_shift_starts_at": 'CREATE INDEX "ix_shift_starts_at" ON "shift" ("starts_at")',
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
