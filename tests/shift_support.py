"""Helpers for the shift tests: volunteers and shifts made straight in the database, and one logged-in
client per volunteer (each with its own cookies), all talking to the same app."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import httpx

from support import VOLUNTEER_PASSWORD, log_in

from volunteer_hub.accounts.tables import ROLE_VOLUNTEER, User
from volunteer_hub.clock import local_now
from volunteer_hub.shifts.tables import Shift
from volunteer_hub.volunteers.tables import AvailabilityWindow, Volunteer, VolunteerSkill


@lru_cache(maxsize=1)
def _password_hash() -> str:
    from volunteer_hub.accounts.passwords import hash_password

    return hash_password(VOLUNTEER_PASSWORD)  # argon2 is slow on purpose: hash once for every test volunteer


async def make_volunteer(grid_id: int, phone: str, *, birth_year: int = 1985, skills: tuple[str, ...] = (),
                         max_shifts: int = 5, max_minutes: int = 600, always_available: bool = True,
                         locale: str = "zh_CN") -> Volunteer:
    user = User(login=phone, password_hash=_password_hash(), role=ROLE_VOLUNTEER, display_name=f"志愿者{phone[-4:]}",
                locale=locale)
    await user.save()
    volunteer = Volunteer(user=user.id, name=f"志愿者{phone[-4:]}", phone=phone, birth_year=birth_year, home_grid=grid_id,
                          max_shifts_per_week=max_shifts, max_minutes_per_week=max_minutes)
    await volunteer.save()
    for skill in skills:
        await VolunteerSkill(volunteer=volunteer.id, skill=skill).save()
    if always_available:
        await AvailabilityWindow.insert(*[AvailabilityWindow(volunteer=volunteer.id, weekday=day, start_minute=0,
                                                             end_minute=24 * 60) for day in range(7)])
    return volunteer


async def make_shift(refs: dict, *, starts_in: dt.timedelta = dt.timedelta(days=2), minutes: int = 60,
                     seats_min: int = 1, seats_max: int = 1, key: str = "test:1", **overrides) -> Shift:
    """A shift at the reference site, starting ``starts_in`` from now (whole minutes)."""
    starts_at = (local_now() + starts_in).replace(second=0)
    site = refs["site"]
    values = dict(source_key=key, site=site.id, grid=site.grid, kind="cleanup", title=f"清扫 · {site.name}",
                  day=starts_at.date(), starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=minutes),
                  latitude=site.latitude, longitude=site.longitude, seats_min=seats_min, seats_ideal=seats_max,
                  seats_max=seats_max, adults_only=True, required_skills="", needs_lead=False, priority=2)
    values.update(overrides)
    shift = Shift(**values)
    await shift.save()
    return shift


async def volunteer_client(app_client: httpx.AsyncClient, phone: str) -> httpx.AsyncClient:
    """A second client on the same app (same transport), logged in as this volunteer."""
    other = httpx.AsyncClient(transport=app_client._transport, base_url=str(app_client.base_url))
    await log_in(other, phone, VOLUNTEER_PASSWORD)
    return other
