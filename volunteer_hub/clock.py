"""The district's local time. Shift times are stored as local wall-clock times, so every rule that
asks "has it started?" compares against this."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from volunteer_hub.settings import get_settings


def local_now() -> dt.datetime:
    return dt.datetime.now(ZoneInfo(get_settings().timezone)).replace(tzinfo=None, microsecond=0)


def local_today() -> dt.date:
    return local_now().date()


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week holding ``day``."""
    return day - dt.timedelta(days=day.weekday())


def at_minute(day: dt.date, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
