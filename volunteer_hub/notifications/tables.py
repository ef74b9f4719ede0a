from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
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


class OutboxMessage(Table):
    """A notification waiting to be delivered outside the app (SMS or e-mail) by a sender process;
    written in the same transaction as the in-app notification, so neither is lost without the other."""

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    channel = Varchar(length=10)  # "sms" or "email"
    address = Varchar(length=200)
    kind = Varchar(length=40)
    params = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
