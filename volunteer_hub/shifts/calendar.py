"""The iCalendar feed of a volunteer's shifts, at a secret URL the volunteer can revoke."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from volunteer_hub.accounts.tables import User
from volunteer_hub.clock import local_today
from volunteer_hub.errors import NotFound
from volunteer_hub.i18n import gettext as _
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import CONFIRMED, SHIFT_OPEN, Assignment
from volunteer_hub.volunteers.services import volunteer_for_user
from volunteer_hub.volunteers.tables import Volunteer

FEED_PAST_DAYS = 30


async def calendar_token(user: User, renew: bool = False) -> str:
    """The volunteer's feed token; ``renew`` replaces it, so the old URL stops working."""
    volunteer = await volunteer_for_user(user)
    if volunteer.calendar_token and not renew:
        return volunteer.calendar_token
    token = secrets.token_urlsafe(32)
    await Volunteer.update({Volunteer.calendar_token: token}).where(Volunteer.id == volunteer.id)
    return token


async def feed(token: str) -> bytes:
    volunteer = await Volunteer.objects().where(Volunteer.calendar_token == token).first() if token else None
    if volunteer is None:
        raise NotFound(_("This calendar link is not valid (it may have been renewed)."))
    since = local_today() - dt.timedelta(days=FEED_PAST_DAYS)
    rows = await Assignment.select(
        Assignment.id, Assignment.shift.id.as_alias("shift_id"), Assignment.shift.title.as_alias("title"),
        Assignment.shift.kind.as_alias("kind"), Assignment.shift.starts_at.as_alias("starts_at"),
        Assignment.shift.ends_at.as_alias("ends_at"), Assignment.shift.latitude.as_alias("latitude"),
        Assignment.shift.longitude.as_alias("longitude"),
    ).where((Assignment.volunteer == volunteer.id) & (Assignment.status == CONFIRMED)
            & (Assignment.shift.status == SHIFT_OPEN) & (Assignment.shift.day >= since)).order_by(Assignment.shift.starts_at)
    zone = ZoneInfo(get_settings().timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//Volunteer Hub//volunteer shifts//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("My volunteer shifts"))
    stamp = dt.datetime.now(dt.timezone.utc)
    for row in rows:
        event = Event()
        event.add("uid", f"shift-{row['shift_id']}-assignment-{row['id']}@volunteer-hub")
        event.add("summary", row["title"])
        event.add("dtstart", row["starts_at"].replace(tzinfo=zone))
        event.add("dtend", row["ends_at"].replace(tzinfo=zone))
        event.add("dtstamp", stamp)
        event.add("geo", (row["latitude"], row["longitude"]))
        calendar.add_component(event)
    return calendar.to_ical()
