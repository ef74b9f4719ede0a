from piccolo.columns import JSON, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.volunteers.tables import Volunteer


class IncentiveRules(Table):
    """One version of the incentive scheme's settings, in force from ``effective_from`` until the next
    version's date. Versions are only added, never edited, so past awards stay explainable."""

    effective_from = Date(unique=True)
    params = JSON(default="{}")
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class BadgeGrant(Table):
    """A badge a volunteer earned; granted once (unique index on volunteer and badge)."""

    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade, index=True)
    badge = Varchar(length=40)
    granted_at = Timestamptz(default=TimestamptzNow())
    evidence = Varchar(length=200, default="")
