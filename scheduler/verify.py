"""An independent checker of a schedule.

Deliberately written apart from the model code: it imports only the plain data classes, and
recomputes every hard rule and every objective term from the problem's definitions in plain
Python, so a mistake in the solver model (or its shortcuts: pruned pairs, clique constraints,
auxiliary variables) shows up as a disagreement here instead of being repeated.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.model import Assignment, Problem, Shift, Volunteer


@dataclass
class Verdict:
    violations: list[str]
    objective: int
    terms: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.violations


def _distance_m(ax: int, ay: int, bx: int, by: int) -> int:
    return math.isqrt((ax - bx) ** 2 + (ay - by) ** 2)


def _travel_minutes(distance_m: int, speed_kmh: int) -> int:
    metres_per_hour = speed_kmh * 1000
    return (distance_m * 60 + metres_per_hour - 1) // metres_per_hour


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _windows(volunteer: Volunteer) -> list[tuple[datetime, datetime]]:
    return sorted((_naive(a.start), _naive(a.end)) for a in volunteer.availability)


def _available(volunteer: Volunteer, shift: Shift, windows: list | None = None) -> bool:
    """Is the whole shift inside the volunteer's availability (adjacent windows joined)?"""
    needed_from, needed_to = _naive(shift.start), _naive(shift.end)
    windows = _windows(volunteer) if windows is None else windows
    covered_to = None
    for start, end in windows:
        if covered_to is not None and start <= covered_to:
            covered_to = max(covered_to, end)
        elif start <= needed_from:
            covered_to = end
        else:
            break
        if covered_to >= needed_to:
            return True
    return False


def _eligible(volunteer: Volunteer, shift: Shift, windows: list | None = None) -> bool:
    return (
        volunteer.age >= shift.min_age
        and shift.skills_for_all <= volunteer.skills
        and _distance_m(volunteer.home.x_m, volunteer.home.y_m, shift.location.x_m, shift.location.y_m) <= volunteer.max_travel_m
        and _available(volunteer, shift, windows)
    )


def _why_ineligible(volunteer: Volunteer, shift: Shift) -> str:
    if volunteer.age < shift.min_age:
        return f"age {volunteer.age} below {shift.min_age}"
    if not shift.skills_for_all <= volunteer.skills:
        return f"lacks {sorted(shift.skills_for_all - volunteer.skills)}"
    distance = _distance_m(volunteer.home.x_m, volunteer.home.y_m, shift.location.x_m, shift.location.y_m)
    if distance > volunteer.max_travel_m:
        return f"{distance} m from home, more than {volunteer.max_travel_m} m"
    return "not available for the whole shift"


def _week(shift: Shift) -> tuple[int, int]:
    year, week, _ = shift.start.isocalendar()
    return year, week


def _eligible_counts(problem: Problem, shifts: list[Shift]) -> list[int]:
    """How many of the shifts each volunteer is eligible for. Shifts are bucketed on a 1 km grid
    so each volunteer only looks at shifts within reach."""
    cell = 1000
    buckets: dict[tuple[int, int], list[Shift]] = defaultdict(list)
    for shift in shifts:
        buckets[(shift.location.x_m // cell, shift.location.y_m // cell)].append(shift)
    counts = []
    for volunteer in problem.volunteers:
        reach = volunteer.max_travel_m // cell + 1
        cx, cy = volunteer.home.x_m // cell, volunteer.home.y_m // cell
        windows = _windows(volunteer)
        count = 0
        for gx in range(cx - reach, cx + reach + 1):
            for gy in range(cy - reach, cy + reach + 1):
                for shift in buckets.get((gx, gy), ()):
                    if _eligible(volunteer, shift, windows):
                        count += 1
        counts.append(count)
    return counts


def verify(problem: Problem, assignments: list[Assignment], claimed_objective: int | None = None) -> Verdict:
    violations: list[str] = []
    volunteers = {v.id: v for v in problem.volunteers}
    all_shifts = {s.id: s for s in problem.shifts}
    now = _naive(problem.now) if problem.now else None
    active = [s for s in problem.shifts if now is None or _naive(s.start) >= now]
    active_ids = {s.id for s in active}
    weights = problem.weights
    excluded = set(problem.excluded)

    # ------------------------------------------------------------ hard rules
    seen: set[Assignment] = set()
    people_on: dict[str, list[Volunteer]] = defaultdict(list)
    shifts_of: dict[str, list[Shift]] = defaultdict(list)
    for a in assignments:
        if a in seen:
            violations.append(f"{a.volunteer_id} -> {a.shift_id}: listed twice")
            continue
        seen.add(a)
        volunteer, shift = volunteers.get(a.volunteer_id), all_shifts.get(a.shift_id)
        if volunteer is None or shift is None:
            violations.append(f"{a.volunteer_id} -> {a.shift_id}: unknown volunteer or shift")
            continue
        if shift.id not in active_ids:
            violations.append(f"{a.volunteer_id} -> {a.shift_id}: the shift is in the past")
            continue
        if not _eligible(volunteer, shift):
            violations.append(f"{a.volunteer_id} -> {a.shift_id}: not eligible ({_why_ineligible(volunteer, shift)})")
        if a in excluded:
            violations.append(f"{a.volunteer_id} -> {a.shift_id}: an excluded pair (the volunteer declined the shift)")
        people_on[shift.id].append(volunteer)
        shifts_of[volunteer.id].append(shift)

    for shift in active:
        people = people_on[shift.id]
        if len(people) > shift.max_seats:
            violations.append(f"shift {shift.id}: {len(people)} people on {shift.max_seats} seats")
        if people:
            for skill, needed in shift.required_skills.items():
                have = sum(1 for p in people if skill in p.skills)
                if have < needed:
                    violations.append(f"shift {shift.id}: staffed with {have} of the {needed} people with {skill} it needs")

    speed = problem.travel_speed_kmh
    for volunteer_id, worked in shifts_of.items():
        volunteer = volunteers[volunteer_id]
        worked = sorted(worked, key=lambda s: s.start)
        for i, first in enumerate(worked):
            for second in worked[i + 1 :]:
                gap = timedelta(minutes=_travel_minutes(_distance_m(first.location.x_m, first.location.y_m, second.location.x_m, second.location.y_m), speed))
                if _naive(second.start) < _naive(first.end) + gap and _naive(first.start) < _naive(second.end) + gap:
                    violations.append(f"{volunteer_id}: shifts {first.id} and {second.id} overlap or leave no time to travel")
        by_week: dict[tuple[int, int], list[Shift]] = defaultdict(list)
        for shift in worked:
            by_week[_week(shift)].append(shift)
        for week, in_week in by_week.items():
            if len(in_week) > volunteer.max_shifts_per_week:
                violations.append(f"{volunteer_id}: {len(in_week)} shifts in week {week}, limit {volunteer.max_shifts_per_week}")
            worked_minutes = sum(int((s.end - s.start).total_seconds() // 60) for s in in_week)
            if worked_minutes > volunteer.max_minutes_per_week:
                violations.append(f"{volunteer_id}: {worked_minutes} minutes in week {week}, limit {volunteer.max_minutes_per_week}")

    for a in problem.fixed:
        if a.shift_id in active_ids and a not in seen:
            violations.append(f"fixed assignment {a.volunteer_id} -> {a.shift_id} was dropped")

    # ------------------------------------------------------------- objective
    valid = [a for a in seen if a.shift_id in active_ids and a.volunteer_id in volunteers]
    filled = Counter(a.shift_id for a in valid)
    terms = dict.fromkeys(("below_min", "below_ideal", "fairness", "preferences_distance", "continuity", "team_split", "stability"), 0)
    for shift in active:
        terms["below_min"] += weights.below_min * shift.priority * max(0, shift.min_seats - filled[shift.id])
        terms["below_ideal"] += weights.below_ideal * shift.priority * max(0, shift.ideal_seats - filled[shift.id])

    weeks_in_period = len({_week(s) for s in active})
    eligible_counts = _eligible_counts(problem, active)
    # A declined shift is not offered: it does not count towards the fair share.
    position = {v.id: k for k, v in enumerate(problem.volunteers)}
    for a in excluded:
        volunteer, shift = volunteers.get(a.volunteer_id), all_shifts.get(a.shift_id)
        if volunteer is not None and shift is not None and shift.id in active_ids and _eligible(volunteer, shift):
            eligible_counts[position[volunteer.id]] -= 1
    offers = [min(count, v.max_shifts_per_week * weeks_in_period) for count, v in zip(eligible_counts, problem.volunteers)]
    total_offer = sum(offers)
    demand = sum(s.ideal_seats for s in active)
    load = Counter(a.volunteer_id for a in valid)
    largest_excess = 0
    if total_offer:
        for volunteer, offer in zip(problem.volunteers, offers):
            fair_share = max(1, (demand * offer + total_offer - 1) // total_offer)  # ceil, in integers
            excess = max(0, load[volunteer.id] - fair_share)
            terms["fairness"] += weights.fairness_over * excess
            largest_excess = max(largest_excess, excess)
    terms["fairness"] += weights.fairness_max * largest_excess

    for a in valid:
        volunteer, shift = volunteers[a.volunteer_id], all_shifts[a.shift_id]
        distance = _distance_m(volunteer.home.x_m, volunteer.home.y_m, shift.location.x_m, shift.location.y_m)
        missed = 0
        for preference in volunteer.preferences:
            matches = getattr(shift, preference.field) == preference.value
            if (preference.weight > 0) != matches and preference.weight != 0:
                missed += abs(preference.weight)
        terms["preferences_distance"] += weights.distance_per_km * distance // 1000 + weights.preference * missed

    distinct_regulars = {(a.volunteer_id, all_shifts[a.shift_id].place, all_shifts[a.shift_id].slot, _week(all_shifts[a.shift_id])) for a in valid}
    terms["continuity"] = weights.continuity * len(distinct_regulars)

    activities_of_team_day: dict[tuple, set[str]] = defaultdict(set)
    for a in valid:
        volunteer, shift = volunteers[a.volunteer_id], all_shifts[a.shift_id]
        if volunteer.team and shift.team_activity:
            activities_of_team_day[(volunteer.team, _naive(shift.start).date())].add(shift.id)
    terms["team_split"] = weights.team_split * sum(len(ids) - 1 for ids in activities_of_team_day.values())

    published = {a for a in problem.published if a.shift_id in active_ids}
    if published:
        terms["stability"] = weights.stability * len(published.symmetric_difference(valid))

    objective = sum(terms.values())
    if claimed_objective is not None and claimed_objective != objective:
        violations.append(f"objective claimed {claimed_objective}, recomputed {objective}")
    return Verdict(violations, objective, terms)
