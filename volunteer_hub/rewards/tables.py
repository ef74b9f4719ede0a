from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.volunteers.tables import Volunteer

REQUESTED = "requested"
FULFILLED = "fulfilled"
REJECTED = "rejected"


class Reward(Table):
    """An item of the points shop (爱心超市)."""

    name = Varchar(length=100)
    description = Text(default="")
    points_cost = Integer()
    stock = Integer()
    active_from = Date()
    active_until = Date(null=True, default=None)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Redemption(Table):
    reward = ForeignKey(Reward, on_delete=OnDelete.restrict, index=True)
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.restrict, index=True)
    points = Integer()
    status = Varchar(length=20, default=REQUESTED, index=True)
    reason = Text(default="")
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    decided_at = Timestamptz(null=True, default=None)
