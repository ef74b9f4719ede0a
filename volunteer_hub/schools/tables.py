from piccolo.columns import Boolean, Date, ForeignKey, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.reference.tables import Grid

CROSSING_KINDS = ("crossing", "gate")
SLOTS = ("arrival", "dismissal")
REQUEST_STATES = ("submitted", "approved", "rejected", "active", "ended")


class School(Table):
    name = Varchar(length=100, unique=True)
    address = Varchar(length=200)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict)
    latitude = Real()
    longitude = Real()


class SchoolCoordinator(Table):
    """A coordinator keeps one school; a school may have several coordinators."""

    school = ForeignKey(School, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)


class Crossing(Table):
    """An escort point of a school: a road crossing or a gate. Priority 1 (calm) to 5 (dangerous)."""

    school = ForeignKey(School, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    kind = Varchar(length=20, default="crossing")
    latitude = Real()
    longitude = Real()
    priority = Integer(default=3)


class BellSchedule(Table):
    """Per school and weekday (0 = Monday): arrival and dismissal windows in minutes since midnight."""

    school = ForeignKey(School, on_delete=OnDelete.cascade)
    weekday = Integer()
    arrival_start = Integer()
    arrival_end = Integer()
    dismissal_start = Integer()
    dismissal_end = Integer()


class SchoolClosure(Table):
    """A holiday or closed day: no escorts that day."""

    school = ForeignKey(School, on_delete=OnDelete.cascade)
    day = Date()
    reason = Varchar(length=100, default="")


class EscortRequest(Table):
    school = ForeignKey(School, on_delete=OnDelete.cascade, index=True)
    crossing = ForeignKey(Crossing, on_delete=OnDelete.cascade)
    slot = Varchar(length=20)
    weekdays = Varchar(length=20)  # e.g. "0,1,2,3,4"
    start_date = Date()
    end_date = Date()
    seats_min = Integer()
    seats_ideal = Integer()
    adults_only = Boolean(default=True)
    needs_trained = Boolean(default=False)
    needs_lead = Boolean(default=False)
    status = Varchar(length=20, default="submitted", index=True)
    rejection_reason = Text(default="")
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    decided_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
