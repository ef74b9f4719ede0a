"""A dated shift as the JSON API shows it (shared by the shift and school APIs)."""

from __future__ import annotations

import datetime as dt

import msgspec

from volunteer_hub.shifts.services import ShiftCard


class ShiftOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    slot: str | None
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    seats_min: int
    seats_ideal: int
    seats_max: int
    confirmed: int
    waitlisted: int
    seats_left: int
    status: str
    school_id: int | None
    site_id: int | None
    distance_km: float | None = None
    my_status: str | None = None


def shift_out(card: ShiftCard) -> ShiftOut:
    return msgspec.convert(card, ShiftOut, from_attributes=True)
