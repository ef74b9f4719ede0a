from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User


class Notification(Table):
    """An in-app message. Stored as a kind and parameters, and worded in the reader's language
    when shown."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=40)
    params = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
