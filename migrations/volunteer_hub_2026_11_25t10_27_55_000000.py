"""A badge is granted to a volunteer at most once, even when two attendance records are verified at
the same moment."""

from volunteer_hub.db import index_migration

ID = "2026-11-25T10:27:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique badge grants"

INDEXES = {
    "uq_badge_grant_volunteer_badge": (
        'CREATE UNIQUE INDEX "uq_badge_grant_volunteer_badge" ON "badge_grant" ("volunteer", "badge")'
    ),
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
