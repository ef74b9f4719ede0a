from piccolo.columns import ForeignKey, Integer, Text, Timestamp, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.shifts.tables import Shift
from volunteer_hub.volunteers.tables import Volunteer

PRESENT = "present"
LATE = "late"
LEFT_EARLY = "left_early"
NO_SHOW = "no_show"
ATTENDANCE_STATES = (PRESENT, LATE, LEFT_EARLY, NO_SHOW)


class Attendance(Table):
    """Whether a volunteer really did a shift, and for how long: the only source of service hours.
    One row per volunteer and shift (a unique index in the raw migration)."""

    shift = ForeignKey(Shift, on_delete=OnDelete.cascade, index=True)
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=20)
    checked_in_at = Timestamp(null=True, default=None)  # local wall-clock time, like the shift's
    checked_out_at = Timestamp(null=True, default=None)
    verified_minutes = Integer(default=0)
    source = Varchar(length=20)  # "qr" (the volunteer scanned) or "roster" (marked by staff)
    revision = Integer(default=0)  # counts changes; part of the ledger's idempotency key
    marked_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class AttendanceCorrection(Table):
    """A change to attendance already recorded: what it was, what it became, who and why."""

    attendance = ForeignKey(Attendance, on_delete=OnDelete.cascade, index=True)
    old_status = Varchar(length=20)
    old_minutes = Integer()
    new_status = Varchar(length=20)
    new_minutes = Integer()
    reason = Text()
    corrected_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    corrected_at = Timestamptz(default=TimestamptzNow())
