"""Small hand-made problems for the engine tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.model import Interval, Location, Problem, Shift, SolveOptions, Volunteer

MONDAY = datetime(2026, 11, 30)
SKILLS = ("trained_escort", "team_lead", "first_aid")


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hh, minutes=mm)


def volunteer(vid: str, *, x: int = 0, y: int = 0, age: int = 40, days=(0, 1, 2, 3, 4), hours=(6, 20), **extra) -> Volunteer:
    availability = tuple(Interval(at(d, hours[0]), at(d, hours[1])) for d in days)
    fields = dict(id=vid, age=age, home=Location(x, y), availability=availability, max_shifts_per_week=5, max_minutes_per_week=600, max_travel_m=5000)
    fields.update(extra)
    return Volunteer(**fields)


def shift(sid: str, *, day: int = 0, start: tuple[int, int] = (7, 30), minutes: int = 40, x: int = 0, y: int = 0, seats=(1, 1, 1), **extra) -> Shift:
    begin = at(day, *start)
    fields = dict(
        id=sid,
        start=begin,
        end=begin + timedelta(minutes=minutes),
        location=Location(x, y),
        place=extra.pop("place", sid),
        kind=extra.pop("kind", "escort"),
        slot=extra.pop("slot", "morning"),
        min_seats=seats[0],
        ideal_seats=seats[1],
        max_seats=seats[2],
    )
    fields.update(extra)
    return Shift(**fields)


def problem(volunteers, shifts, **extra) -> Problem:
    return Problem(volunteers=tuple(volunteers), shifts=tuple(shifts), skills=SKILLS, **extra)


def exact(**extra) -> SolveOptions:
    """Options for tiny cases: one worker, proven optimum well within the limit."""
    return SolveOptions(time_limit_s=20, workers=1, seed=0, **extra)


def pairs(result) -> set[tuple[str, str]]:
    return {(a.volunteer_id, a.shift_id) for a in result.assignments}
