"""In-app notifications, worded in the reader's language when shown."""

from __future__ import annotations

from dataclasses import dataclass

from volunteer_hub.accounts.tables import User
from volunteer_hub.i18n import gettext as _
from volunteer_hub.notifications.tables import Notification, OutboxMessage

KINDS = ("shift_cancelled", "promoted_from_waitlist", "shift_changed", "plan_added", "plan_removed", "plan_moved")


async def notify(user_ids: list[int], kind: str, params: dict, outbox: bool = False) -> None:
    """Tell these users in the app; with ``outbox``, also queue the message for SMS (and e-mail
    where the volunteer gave an address), in the caller's transaction."""
    assert kind in KINDS
    if not user_ids:
        return
    await Notification.insert(*[Notification(user=user_id, kind=kind, params=params) for user_id in user_ids])
    if outbox:
        from volunteer_hub.volunteers.tables import Volunteer

        messages = []
        for row in await Volunteer.select(Volunteer.user, Volunteer.phone, Volunteer.email).where(Volunteer.user.is_in(user_ids)):
            messages.append(OutboxMessage(user=row["user"], channel="sms", address=row["phone"], kind=kind, params=params))
            if row["email"]:
                messages.append(OutboxMessage(user=row["user"], channel="email", address=row["email"], kind=kind, params=params))
        if messages:
            await OutboxMessage.insert(*messages)


def render(kind: str, params: dict) -> str:
    if kind == "shift_cancelled":
        return _("The shift %(title)s on %(when)s was cancelled.", title=params.get("title", ""), when=params.get("when", ""))
    if kind == "promoted_from_waitlist":
        return _("A seat became free: you are now on %(title)s on %(when)s.", title=params.get("title", ""),
                 when=params.get("when", ""))
    if kind == "plan_added":
        return _("You are on the schedule: %(title)s on %(when)s.", title=params.get("title", ""), when=params.get("when", ""))
    if kind == "plan_removed":
        return _("You are no longer on %(title)s on %(when)s.", title=params.get("title", ""), when=params.get("when", ""))
    if kind == "plan_moved":
        return _("Your shift moved: from %(from_title)s on %(from_when)s to %(title)s on %(when)s.",
                 from_title=params.get("from_title", ""), from_when=params.get("from_when", ""),
                 title=params.get("title", ""), when=params.get("when", ""))
    if kind == "shift_changed":
        return _("The shift %(title)s on %(when)s has changed. Please check the time.", title=params.get("title", ""),
                 when=params.get("when", ""))
    return kind


@dataclass
class ShownNotification:
    id: int
    text: str
    created_at: object
    read: bool


async def for_user(user: User, limit: int = 50) -> list[ShownNotification]:
    import json

    rows = await Notification.select().where(Notification.user == user.id).order_by(
        Notification.created_at, ascending=False).limit(limit)
    shown = []
    for row in rows:
        params = row["params"]
        if isinstance(params, str):
            params = json.loads(params or "{}")
        shown.append(ShownNotification(id=row["id"], text=render(row["kind"], params), created_at=row["created_at"],
                                       read=row["read_at"] is not None))
    return shown


async def unread_count(user: User) -> int:
    return await Notification.count().where((Notification.user == user.id) & Notification.read_at.is_null())


async def mark_all_read(user: User) -> None:
    import datetime as dt

    await Notification.update({Notification.read_at: dt.datetime.now(dt.timezone.utc)}).where(
        (Notification.user == user.id) & Notification.read_at.is_null()
    )
