from piccolo.columns import Boolean, Date, ForeignKey, Integer, Real, Timestamp, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.activities.tables import Activity
from volunteer_hub.reference.tables import Grid
from volunteer_hub.schools.tables import Crossing, EscortRequest, School
from volunteer_hub.sites.tables import Site
from volunteer_hub.accounts.tables import User
from volunteer_hub.volunteers.tables import Unit, Volunteer

SHIFT_OPEN = "open"
SHIFT_CANCELLED = "cancelled"
# Who ended a cancelled assignment: only a volunteer's own leaving keeps the solver from putting them back.
ENDED_BY_VOLUNTEER = "volunteer"
ENDED_BY_PUBLICATION = "publication"
ENDED_BY_SHIFT_CANCELLED = "shift_cancelled"

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
ASSIGNMENT_SOURCES = ("self", "solver", "manual")
PLANNED_SOURCES = ("solver", "manual")  # assignments the association made (planning owns them), not sign-ups


class Shift(Table):
    """One dated, timed, placed unit of work. Times are local (the district's own clock)."""

    source_key = Varchar(length=80, unique=True)  # "escort:<request>:<date>" or "activity:<activity>:<date>"
    escort_request = ForeignKey(EscortRequest, on_delete=OnDelete.set_null, null=True)
    activity = ForeignKey(Activity, on_delete=OnDelete.set_null, null=True)
    school = ForeignKey(School, on_delete=OnDelete.set_null, null=True, index=True)
    crossing = ForeignKey(Crossing, on_delete=OnDelete.set_null, null=True)
    site = ForeignKey(Site, on_delete=OnDelete.set_null, null=True, index=True)
    grid = ForeignKey(Grid, on_delete=OnDelete.restrict)
    kind = Varchar(length=30)
    slot = Varchar(length=20, null=True, default=None)  # escorts: arrival or dismissal
    title = Varchar(length=200)
    day = Date(index=True)
    starts_at = Timestamp()
    ends_at = Timestamp()
    latitude = Real()
    longitude = Real()
    seats_min = Integer()
    seats_ideal = Integer()
    seats_max = Integer()
    adults_only = Boolean(default=True)
    required_skills = Varchar(length=200, default="")
    needs_lead = Boolean(default=False)
    priority = Integer(default=3)
    status = Varchar(length=20, default=SHIFT_OPEN)
    team_slots = Integer(default=0)  # seats a unit may reserve to come together (Friday activities)


class Assignment(Table):
    """A volunteer on a shift: confirmed, on the waitlist, or cancelled (kept for the record)."""

    shift = ForeignKey(Shift, on_delete=OnDelete.cascade, index=True)
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=20)
    source = Varchar(length=20, default="self")
    locked = Boolean(default=False)
    late_cancellation = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = Varchar(length=20, default="")  # one of the ENDED_BY_* values when cancelled


class TeamBooking(Table):
    """Seats of a shift's team slots reserved for one unit, whose members then sign up into them.
    One booking per shift and unit (unique index in the raw migration)."""

    shift = ForeignKey(Shift, on_delete=OnDelete.cascade, index=True)
    unit = ForeignKey(Unit, on_delete=OnDelete.cascade)
    seats = Integer()
    booked_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
