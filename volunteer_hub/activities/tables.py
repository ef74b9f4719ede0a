from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.sites.tables import Site

ACTIVITY_KINDS = ("cleanup", "rectification", "civility_publicity", "regulation_publicity", "festival")


class Activity(Table):
    """A Friday (or festival) activity at a site: one-off, or weekly until an end date."""

    site = ForeignKey(Site, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=100)
    kind = Varchar(length=30)
    description = Text(default="")
    first_date = Date()
    repeat_weekly = Boolean(default=False)
    until_date = Date(null=True, default=None)
    start_minute = Integer()
    end_minute = Integer()
    seats_min = Integer()
    seats_max = Integer()
    required_skills = Varchar(length=200, default="")  # comma-separated skill codes
    team_slots = Integer(default=0)  # seats a unit may take together
    is_cancelled = Boolean(default=False)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
