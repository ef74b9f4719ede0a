from piccolo.columns import Boolean, Date, ForeignKey, Integer, Real, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.reference.tables import Grid
from volunteer_hub.schools.tables import School
from volunteer_hub.sites.tables import Site

UNIT_KINDS = ("school_parents", "company", "department", "community", "other")


class Unit(Table):
    """A team or unit whose members' points add up: a school's parent group, a company, a
    department stationed in a community."""

    name = Varchar(length=100, unique=True)
    kind = Varchar(length=30)


class Volunteer(Table):
    user = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    name = Varchar(length=50)
    phone = Varchar(length=11, unique=True)
    email = Varchar(length=200, null=True, default=None)
    birth_year = Integer()
    home_grid = ForeignKey(Grid, on_delete=OnDelete.restrict)
    unit = ForeignKey(Unit, on_delete=OnDelete.set_null, null=True)
    max_shifts_per_week = Integer(default=3)
    max_minutes_per_week = Integer(default=240)
    max_travel_km = Real(default=3.0)
    # Unique through the index uq_volunteer_calendar_token: SQLite cannot add a UNIQUE column.
    calendar_token = Varchar(length=64, null=True, default=None)
    privacy_consent_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    hide_from_boards = Boolean(default=False)  # left off public leaderboards


class VolunteerSkill(Table):
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    skill = Varchar(length=30)


class AvailabilityWindow(Table):
    """A weekly recurring window: weekday 0 = Monday; minutes since midnight, end exclusive."""

    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade, index=True)
    weekday = Integer()
    start_minute = Integer()
    end_minute = Integer()


class UnavailableDate(Table):
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    day = Date()


class PreferredKind(Table):
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    kind = Varchar(length=30)


class PreferredSchool(Table):
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    school = ForeignKey(School, on_delete=OnDelete.cascade)


class PreferredSite(Table):
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    site = ForeignKey(Site, on_delete=OnDelete.cascade)
