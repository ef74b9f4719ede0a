"""One queued or running solver run per period and scope, enforced by the database as well."""

from volunteer_hub.db import index_migration

ID = "2026-12-03T07:50:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "one active plan run per scope"

INDEXES = {
    "uq_plan_run_active_scope": (
        'CREATE UNIQUE INDEX "uq_plan_run_active_scope" ON "plan_run" ("scope_key") '
        "WHERE \"status\" IN ('queued', 'running')"
    ),
    "ix_published_version_scope_number": (
        'CREATE UNIQUE INDEX "ix_published_version_scope_number" ON "published_version" ("scope_key", "number")'
    ),
}


async def forwards():
    return index_migration(ID, DESCRIPTION, INDEXES)
