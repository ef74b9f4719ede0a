from piccolo.columns import Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.volunteers.tables import Volunteer

POINT_SOURCES = ("shift", "attendance", "badge", "redemption", "correction")


class PointsEntry(Table):
    """The points ledger: append-only. Nothing updates or deletes a row; a correction is a new,
    reversing entry. ``idempotency_key`` is unique, so a retried award is refused by the database."""

    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.restrict, index=True)
    amount = Integer()  # signed
    rule = Varchar(length=50)
    source = Varchar(length=20)
    source_id = Integer(null=True, default=None)
    idempotency_key = Varchar(length=120, unique=True)
    note = Varchar(length=200, default="")
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PointsBalance(Table):
    """Each volunteer's balance, kept beside the ledger in the same transaction as every entry
    (reading a sum over millions of entries for every page would be slow)."""

    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade, unique=True)
    balance = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class PointsPeriodTotal(Table):
    """Points a volunteer earned (shop spending excluded) per week, month, quarter, year and in all,
    kept by ``add_entry`` in the ledger's transaction, so a leaderboard reads 50 rows of an index
    instead of summing millions of entries. Periods are the district's local calendar ones; ``all``
    uses the period start 2000-01-01. Unique per volunteer, period and start (raw migration)."""

    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    period = Varchar(length=10)
    period_start = Date()
    earned = Integer(default=0)


class GroupPeriodTotal(Table):
    """The same totals per unit and per grid (``group_kind`` "unit" or "grid"), counted for the group
    the volunteer belonged to when the points were earned. Unique per group, period and start."""

    group_kind = Varchar(length=10)
    group_id = Integer()
    period = Varchar(length=10)
    period_start = Date()
    earned = Integer(default=0)
