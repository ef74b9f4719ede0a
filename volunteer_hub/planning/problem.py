"""The database, as the shift solver sees it: one period and scope turned into a ``scheduler.Problem``.

The solver library knows nothing of tables; this module is the only translation between the two.
Ids become strings ("17"), places are the crossing or site ("crossing:3", "site:8"), and latitude
and longitude become whole metres on a local plane around the district, which is what the solver
measures distances on.

What is already decided goes in as fixed assignments: confirmed self sign-ups, locked planned
assignments, and the rows a manager locked or added by hand on the preview of the run being
re-solved. The planned assignments people have seen go in as ``published`` (for the stability
weight), and assignments a volunteer declined as ``excluded``. A fixed assignment is a fact: the
volunteer's availability, travel distance and weekly limits are widened to hold it if needed (a
volunteer may sign up outside their stated times after confirming).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field

from scheduler.model import Assignment as SolverAssignment
from scheduler.model import Interval, Location, Preference, Problem, Weights
from scheduler.model import Shift as SolverShift
from scheduler.model import Volunteer as SolverVolunteer

from volunteer_hub.clock import at_minute, local_now
from volunteer_hub.planning.tables import ORIGIN_MANUAL, PlanProposal
from volunteer_hub.reference.tables import Grid
from volunteer_hub.schools.tables import Crossing
from volunteer_hub.shifts.tables import (
    CANCELLED,
    CONFIRMED,
    ENDED_BY_PUBLICATION,
    PLANNED_SOURCES,
    SHIFT_OPEN,
    Assignment,
    Shift,
    TeamBooking,
)
from volunteer_hub.volunteers.services import ADULT_AGE
from volunteer_hub.volunteers.tables import (
    AvailabilityWindow,
    PreferredKind,
    PreferredSchool,
    PreferredSite,
    UnavailableDate,
    Volunteer,
    VolunteerSkill,
)

LEAD_SKILL = "lead"
# A re-solve weighs each change to the published schedule above a fair share's excess (400) and
# below a seat short of ideal (5,000): it fills seats, but does not reshuffle people for small gains.
RESOLVE_WEIGHTS = Weights(stability=1_000)
METRES_PER_DEGREE_LATITUDE = 110_574
METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_320


@dataclass
class Scope:
    start: dt.date
    end: dt.date  # inclusive
    grid_ids: tuple[int, ...] = ()  # empty: the whole district

    @property
    def key(self) -> str:
        grids = ",".join(str(g) for g in self.grid_ids) or "all"
        return f"{self.start.isoformat()}..{self.end.isoformat()}|{grids}"

    @property
    def grid_text(self) -> str:
        return ",".join(str(g) for g in self.grid_ids)

    def shift_condition(self):
        condition = (Shift.day >= self.start) & (Shift.day <= self.end) & (Shift.status == SHIFT_OPEN)
        if self.grid_ids:
            condition &= Shift.grid.is_in(list(self.grid_ids))
        return condition


def scope_from_text(start: dt.date, end: dt.date, grid_text: str) -> Scope:
    return Scope(start, end, tuple(int(g) for g in grid_text.split(",") if g))


class Plane:
    """Latitude and longitude to whole metres east and north of an origin (equirectangular: within a
    district of a few tens of kilometres the error is far below a metre per kilometre)."""

    def __init__(self, latitude: float, longitude: float):
        self.latitude, self.longitude = latitude, longitude
        self.metres_per_degree_longitude = METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(math.radians(latitude))

    def location(self, latitude: float, longitude: float) -> Location:
        return Location(round((longitude - self.longitude) * self.metres_per_degree_longitude),
                        round((latitude - self.latitude) * METRES_PER_DEGREE_LATITUDE))


@dataclass
class LoadedProblem:
    """The solver's problem and what the app needs to map its answer back."""

    problem: Problem
    shift_ids: list[int]
    volunteer_ids: list[int]
    fixed_origin: dict[tuple[int, int], str]  # (shift, volunteer) -> self / locked / manual
    signature: str
    notes: dict[str, int] = field(default_factory=dict)


def _place(row: dict) -> str:
    return f"crossing:{row['crossing']}" if row["crossing"] is not None else f"site:{row['site']}"


async def planned_assignments(scope: Scope, future_only: bool = True) -> list[dict]:
    """Live planned (solver-made or hand-made) confirmed assignments on the scope's open shifts."""
    condition = (Assignment.shift.id.is_in(Shift.select(Shift.id).where(scope.shift_condition()))
                 & (Assignment.status == CONFIRMED) & Assignment.source.is_in(list(PLANNED_SOURCES)))
    rows = await Assignment.select(Assignment.id, Assignment.shift, Assignment.volunteer, Assignment.locked,
                                   Assignment.source, Assignment.shift.starts_at.as_alias("starts_at")).where(condition)
    if future_only:
        now = local_now()
        rows = [row for row in rows if row["starts_at"] > now]
    return rows


async def input_signature(scope: Scope) -> str:
    """A fingerprint of what a run read that people change while it runs: the scope's shifts
    (times, seats, status) and their live assignments. Equal fingerprints: nothing changed."""
    shifts = await Shift.select(Shift.id, Shift.starts_at, Shift.ends_at, Shift.seats_max, Shift.status).where(
        (Shift.day >= scope.start) & (Shift.day <= scope.end)
        & (Shift.grid.is_in(list(scope.grid_ids)) if scope.grid_ids else (Shift.id > 0))).order_by(Shift.id)
    ids = [row["id"] for row in shifts]
    assignments = await Assignment.select(Assignment.id, Assignment.status, Assignment.locked).where(
        Assignment.shift.is_in(ids)).order_by(Assignment.id) if ids else []
    digest = hashlib.sha256()
    for row in shifts + assignments:
        digest.update(repr(sorted(row.items())).encode())
    return digest.hexdigest()


async def load_problem(scope: Scope, parent_run_id: int | None = None, stability: bool = False,
                       weights: Weights | None = None) -> LoadedProblem:
    now = local_now()
    shift_rows = await Shift.select().where(scope.shift_condition()).order_by(Shift.starts_at, Shift.id)
    shift_ids = [row["id"] for row in shift_rows]
    grids = {row["id"]: row for row in await Grid.select(Grid.id, Grid.latitude, Grid.longitude)}
    if grids:
        plane = Plane(sum(g["latitude"] for g in grids.values()) / len(grids),
                      sum(g["longitude"] for g in grids.values()) / len(grids))
    else:
        plane = Plane(0.0, 0.0)

    # What is decided already: self sign-ups, locked planned assignments, and (re-solve) the rows of
    # the earlier run that a manager locked or added by hand.
    live = await Assignment.select(Assignment.shift, Assignment.volunteer, Assignment.status, Assignment.source,
                                   Assignment.locked, Assignment.cancelled_by).where(Assignment.shift.is_in(shift_ids)) if shift_ids else []
    fixed_origin: dict[tuple[int, int], str] = {}
    published: set[tuple[int, int]] = set()
    excluded: set[tuple[int, int]] = set()
    for row in live:
        pair = (row["shift"], row["volunteer"])
        if row["status"] == CONFIRMED and row["source"] == "self":
            fixed_origin[pair] = "self"
        elif row["status"] == CONFIRMED and row["locked"]:
            fixed_origin[pair] = "locked"
        elif row["status"] == CONFIRMED:
            published.add(pair)
        elif row["status"] == CANCELLED and row["cancelled_by"] != ENDED_BY_PUBLICATION:
            excluded.add(pair)  # the volunteer left or declined this shift: do not put them back
    if parent_run_id is not None:
        kept = await PlanProposal.select(PlanProposal.shift, PlanProposal.volunteer, PlanProposal.origin).where(
            (PlanProposal.run == parent_run_id) & ((PlanProposal.locked == True) | (PlanProposal.origin == ORIGIN_MANUAL))  # noqa: E712
            & PlanProposal.shift.is_in(shift_ids or [0]))
        for row in kept:
            pair = (row["shift"], row["volunteer"])
            fixed_origin.setdefault(pair, "manual" if row["origin"] == ORIGIN_MANUAL else "locked")
    excluded -= set(fixed_origin)
    excluded -= published  # cancelled once, then planned again and still on it

    # Team seats a unit reserved and has not filled yet are not the solver's to give away.
    reserved: dict[int, int] = defaultdict(int)
    if shift_ids:
        for row in await TeamBooking.select(TeamBooking.shift, TeamBooking.unit, TeamBooking.seats).where(
                TeamBooking.shift.is_in(shift_ids)):
            reserved[row["shift"]] += row["seats"]
    volunteer_rows = await Volunteer.select(
        Volunteer.id, Volunteer.birth_year, Volunteer.home_grid, Volunteer.unit, Volunteer.max_shifts_per_week,
        Volunteer.max_minutes_per_week, Volunteer.max_travel_km).order_by(Volunteer.id)
    unit_of = {row["id"]: row["unit"] for row in volunteer_rows}
    fixed_on: dict[int, list[int]] = defaultdict(list)
    for shift_id, volunteer_id in fixed_origin:
        fixed_on[shift_id].append(volunteer_id)
    if reserved:
        members = await TeamBooking.select(TeamBooking.shift, TeamBooking.unit, TeamBooking.seats).where(
            TeamBooking.shift.is_in(list(reserved)))
        for booking in members:
            taken = sum(1 for v in fixed_on[booking["shift"]] if unit_of.get(v) == booking["unit"])
            reserved[booking["shift"]] -= min(taken, booking["seats"])

    skills_of: dict[int, set[str]] = defaultdict(set)
    for row in await VolunteerSkill.select(VolunteerSkill.volunteer, VolunteerSkill.skill):
        skills_of[row["volunteer"]].add(row["skill"])
    notes: dict[str, int] = defaultdict(int)
    shifts = []
    shift_by_id = {}
    for row in shift_rows:
        required = {skill for skill in (row["required_skills"] or "").split(",") if skill}
        required_counts = {}
        if row["needs_lead"]:
            on_it = fixed_on[row["id"]]
            if on_it and not any(LEAD_SKILL in skills_of[v] for v in on_it):
                # People are already on it without a lead: the solver would have to leave them off
                # or find a lead; it may add one, but the shift is not refused for lack of one.
                notes["lead_requirement_relaxed"] += 1
            else:
                required_counts[LEAD_SKILL] = 1
        seats_max = max(len(fixed_on[row["id"]]), row["seats_max"] - max(0, reserved.get(row["id"], 0)))
        seats_ideal = min(row["seats_ideal"], seats_max)
        seats_min = min(row["seats_min"], seats_ideal)
        shift = SolverShift(
            id=str(row["id"]), start=row["starts_at"], end=row["ends_at"],
            location=plane.location(row["latitude"], row["longitude"]), place=_place(row), kind=row["kind"],
            slot=row["slot"] or "friday", min_seats=seats_min, ideal_seats=seats_ideal, max_seats=seats_max,
            required_skills=required_counts, skills_for_all=frozenset(required),
            min_age=ADULT_AGE if row["adults_only"] else 0, priority=max(1, row["priority"]),
            team_activity=row["activity"] is not None)
        shifts.append(shift)
        shift_by_id[row["id"]] = row

    # Availability: each weekly window on each day of the period, except the days someone is away.
    windows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for row in await AvailabilityWindow.select(AvailabilityWindow.volunteer, AvailabilityWindow.weekday,
                                               AvailabilityWindow.start_minute, AvailabilityWindow.end_minute):
        windows[row["volunteer"]].append((row["weekday"], row["start_minute"], row["end_minute"]))
    away: dict[int, set[dt.date]] = defaultdict(set)
    for row in await UnavailableDate.select(UnavailableDate.volunteer, UnavailableDate.day).where(
            (UnavailableDate.day >= scope.start) & (UnavailableDate.day <= scope.end)):
        away[row["volunteer"]].add(row["day"])
    days = [scope.start + dt.timedelta(days=k) for k in range((scope.end - scope.start).days + 1)]

    preferences: dict[int, list[Preference]] = defaultdict(list)
    for row in await PreferredKind.select(PreferredKind.volunteer, PreferredKind.kind):
        preferences[row["volunteer"]].append(Preference("kind", row["kind"], 1))
    crossings_of: dict[int, list[int]] = defaultdict(list)
    for row in await Crossing.select(Crossing.id, Crossing.school):
        crossings_of[row["school"]].append(row["id"])
    for row in await PreferredSchool.select(PreferredSchool.volunteer, PreferredSchool.school):
        preferences[row["volunteer"]].extend(Preference("place", f"crossing:{c}", 1) for c in crossings_of[row["school"]])
    for row in await PreferredSite.select(PreferredSite.volunteer, PreferredSite.site):
        preferences[row["volunteer"]].append(Preference("place", f"site:{row['site']}", 1))

    fixed_of: dict[int, list[int]] = defaultdict(list)
    for shift_id, volunteer_id in fixed_origin:
        fixed_of[volunteer_id].append(shift_id)
    known_skills = {LEAD_SKILL}
    volunteers = []
    for row in volunteer_rows:
        v = row["id"]
        skills_of_v = skills_of[v]
        known_skills |= skills_of_v
        intervals = [Interval(at_minute(day, start), at_minute(day, end))
                     for day in days if day not in away[v]
                     for weekday, start, end in windows[v] if weekday == day.weekday() and end > start]
        grid = grids.get(row["home_grid"])
        home = plane.location(grid["latitude"], grid["longitude"]) if grid else Location(0, 0)
        max_travel_m = round(row["max_travel_km"] * 1000)
        max_shifts, max_minutes = row["max_shifts_per_week"], row["max_minutes_per_week"]
        if fixed_of[v]:
            # The fixed assignments are facts: make room for them in the volunteer's limits.
            per_week: dict[tuple, list[dict]] = defaultdict(list)
            for shift_id in fixed_of[v]:
                shift_row = shift_by_id[shift_id]
                intervals.append(Interval(shift_row["starts_at"], shift_row["ends_at"]))
                place = plane.location(shift_row["latitude"], shift_row["longitude"])
                max_travel_m = max(max_travel_m, math.isqrt((place.x_m - home.x_m) ** 2 + (place.y_m - home.y_m) ** 2))
                per_week[tuple(shift_row["day"].isocalendar()[:2])].append(shift_row)
            for rows_of_week in per_week.values():
                max_shifts = max(max_shifts, len(rows_of_week))
                max_minutes = max(max_minutes, sum(int((r["ends_at"] - r["starts_at"]).total_seconds() // 60)
                                                   for r in rows_of_week))
        volunteers.append(SolverVolunteer(
            id=str(v), age=scope.start.year - row["birth_year"], home=home, availability=tuple(intervals),
            skills=frozenset(skills_of_v), max_shifts_per_week=max_shifts, max_minutes_per_week=max_minutes,
            max_travel_m=max_travel_m, preferences=tuple(preferences[v]),
            team=str(row["unit"]) if row["unit"] is not None else None))
    for row in shift_rows:
        known_skills |= {skill for skill in (row["required_skills"] or "").split(",") if skill}

    def solver_pairs(pairs) -> tuple[SolverAssignment, ...]:
        return tuple(SolverAssignment(str(volunteer_id), str(shift_id)) for shift_id, volunteer_id in sorted(pairs))

    problem = Problem(
        volunteers=tuple(volunteers), shifts=tuple(shifts), skills=tuple(sorted(known_skills)),
        fixed=solver_pairs(fixed_origin), published=solver_pairs(published) if stability else (),
        excluded=solver_pairs(excluded), weights=weights or (RESOLVE_WEIGHTS if stability else Weights()), now=now)
    return LoadedProblem(problem=problem, shift_ids=shift_ids, volunteer_ids=[row["id"] for row in volunteer_rows],
                         fixed_origin=fixed_origin, signature=await input_signature(scope), notes=dict(notes))
