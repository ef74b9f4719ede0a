"""Which volunteer-shift pairs are possible, which pairs of shifts clash, and why seats stay empty.

Everything here is computed once per problem with numpy over whole columns (one pass per shift over
all volunteers), so that a district week (10,000 people x 1,500 shifts = 15 million candidate
pairs) is pruned to the few hundred thousand possible pairs before any solver variable exists.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from scheduler.model import Assignment, Problem, ProblemError, Shift, Shortfall

EPOCH = datetime(2000, 1, 1)
INELIGIBILITY_REASONS = ("underage", "missing_skill", "too_far", "unavailable")


def minutes(moment: datetime) -> int:
    """Minutes since 2000-01-01 in local wall-clock time (a time zone, if any, is ignored)."""
    return int((moment.replace(tzinfo=None) - EPOCH).total_seconds() // 60)


def exact_distance_m(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """floor(sqrt(dx^2 + dy^2)) for integer metres, exactly (the same value as math.isqrt)."""
    squared = dx.astype(np.int64) ** 2 + dy.astype(np.int64) ** 2
    root = np.floor(np.sqrt(squared.astype(np.float64))).astype(np.int64)
    root -= (root * root > squared).astype(np.int64)
    root += ((root + 1) * (root + 1) <= squared).astype(np.int64)
    return root


def travel_minutes(distance_m: np.ndarray | int, speed_kmh: int) -> np.ndarray | int:
    """Whole minutes to cover a distance, rounded up."""
    return -((-np.asarray(distance_m) * 60) // (speed_kmh * 1000))


def validate(problem: Problem) -> None:
    """Raise ProblemError with a clear message for input that cannot be scheduled."""
    known_skills = set(problem.skills)

    def check_skills(owner: str, skills) -> None:
        unknown = sorted(set(skills) - known_skills)
        if unknown:
            raise ProblemError(f"{owner} names unknown skill(s) {unknown}; known: {sorted(known_skills)}")

    for kind, items in (("volunteer", problem.volunteers), ("shift", problem.shifts)):
        counts = Counter(item.id for item in items)
        duplicates = sorted(key for key, count in counts.items() if count > 1)
        if duplicates:
            raise ProblemError(f"duplicate {kind} id(s): {duplicates[:10]}")
    if problem.travel_speed_kmh <= 0:
        raise ProblemError("travel_speed_kmh must be positive")
    negative = sorted(name for name, value in vars(problem.weights).items() if value < 0)
    if negative:
        raise ProblemError(f"weights must not be negative: {negative}")
    for volunteer in problem.volunteers:
        check_skills(f"volunteer {volunteer.id}", volunteer.skills)
        if volunteer.max_shifts_per_week < 0 or volunteer.max_minutes_per_week < 0 or volunteer.max_travel_m < 0:
            raise ProblemError(f"volunteer {volunteer.id}: limits must not be negative")
        for interval in volunteer.availability:
            if interval.end <= interval.start:
                raise ProblemError(f"volunteer {volunteer.id}: availability {interval.start}..{interval.end} is empty")
        for preference in volunteer.preferences:
            if preference.field not in ("kind", "place", "slot"):
                raise ProblemError(f"volunteer {volunteer.id}: preference field {preference.field!r} unknown")
    for shift in problem.shifts:
        check_skills(f"shift {shift.id}", set(shift.required_skills) | set(shift.skills_for_all))
        if shift.end <= shift.start:
            raise ProblemError(f"shift {shift.id}: ends at {shift.end}, not after its start {shift.start}")
        if not 0 <= shift.min_seats <= shift.ideal_seats <= shift.max_seats:
            raise ProblemError(f"shift {shift.id}: seats must satisfy 0 <= min <= ideal <= max")
        if sum(shift.required_skills.values()) > shift.max_seats or min(shift.required_skills.values(), default=1) < 1:
            raise ProblemError(f"shift {shift.id}: required skill counts must be >= 1 and fit the seats")
        if shift.priority < 1:
            raise ProblemError(f"shift {shift.id}: priority must be at least 1")
    volunteer_ids = {v.id for v in problem.volunteers}
    shift_ids = {s.id for s in problem.shifts}
    for name, assignments in (("fixed", problem.fixed), ("published", problem.published)):
        for assignment in assignments:
            if assignment.volunteer_id not in volunteer_ids or assignment.shift_id not in shift_ids:
                raise ProblemError(f"{name} assignment {assignment} names an unknown volunteer or shift")
        duplicates = [a for a, count in Counter(assignments).items() if count > 1]
        if duplicates:
            raise ProblemError(f"{name} assignment listed twice: {duplicates[0]}")
    for assignment in problem.excluded:  # listing a pair twice is harmless
        if assignment.volunteer_id not in volunteer_ids or assignment.shift_id not in shift_ids:
            raise ProblemError(f"excluded pair {assignment} names an unknown volunteer or shift")
    both = set(problem.fixed) & set(problem.excluded)
    if both:
        first = min(both, key=lambda a: (a.volunteer_id, a.shift_id))
        raise ProblemError(
            f"{len(both)} pair(s) both fixed and excluded, e.g. {first.volunteer_id} -> {first.shift_id}: "
            "a volunteer cannot be locked on a shift they declined"
        )


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching or overlapping availability intervals joined, so 7:00-8:00 + 8:00-9:00 covers 7:30-8:30."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


@dataclass
class ShiftConflicts:
    """Clashing shifts (overlap in time, or too close to travel between), in compact form.

    ``cliques`` are groups of shifts that all overlap in time (a person takes at most one of each
    group); ``travel_pairs`` are pairs that do not overlap but leave too little time to travel.
    Together they cover every clashing pair.
    """

    cliques: list[np.ndarray]
    travel_pairs: list[tuple[int, int]]


class ProblemIndex:
    """Column arrays of a validated problem, its possible pairs and its clashes.

    Shifts are numbered over the *active* shifts only (those not in the past); ``pair_volunteer``
    and ``pair_shift`` list the possible pairs, grouped by shift.
    """

    def __init__(self, problem: Problem):
        validate(problem)
        self.problem = problem
        self.volunteers = problem.volunteers
        now = minutes(problem.now) if problem.now else None
        self.shifts: list[Shift] = [s for s in problem.shifts if now is None or minutes(s.start) >= now]
        self.skipped_shifts = [s.id for s in problem.shifts if now is not None and minutes(s.start) < now]
        self.volunteer_number = {v.id: i for i, v in enumerate(self.volunteers)}
        self.shift_number = {s.id: j for j, s in enumerate(self.shifts)}
        self.speed_kmh = problem.travel_speed_kmh
        self._columns()
        self._pairs()
        self.fairness_allowance, self.offer = self._fairness()
        self._check_fixed()

    # ----------------------------------------------------------------- columns
    def _columns(self) -> None:
        skill_bit = {skill: 1 << k for k, skill in enumerate(sorted(self.problem.skills))}
        self.skill_bit = skill_bit

        def bits(skills) -> int:
            return sum(skill_bit[s] for s in skills)

        vols, shifts = self.volunteers, self.shifts
        self.v_age = np.array([v.age for v in vols], dtype=np.int64)
        self.v_x = np.array([v.home.x_m for v in vols], dtype=np.int64)
        self.v_y = np.array([v.home.y_m for v in vols], dtype=np.int64)
        self.v_reach = np.array([v.max_travel_m for v in vols], dtype=np.int64)
        # Python ints: more than 63 skills would overflow an int64 column.
        self.v_skills = np.array([bits(v.skills) for v in vols], dtype=object if len(skill_bit) > 62 else np.int64)
        self.s_start = np.array([minutes(s.start) for s in shifts], dtype=np.int64)
        self.s_end = np.array([minutes(s.end) for s in shifts], dtype=np.int64)
        self.s_length = self.s_end - self.s_start
        self.s_x = np.array([s.location.x_m for s in shifts], dtype=np.int64)
        self.s_y = np.array([s.location.y_m for s in shifts], dtype=np.int64)
        self.s_week = [tuple(s.start.isocalendar()[:2]) for s in shifts]
        self.s_day = [s.start.date() for s in shifts]
        self.weeks = sorted(set(self.s_week))
        # availability as flat columns of merged intervals
        owners, starts, ends = [], [], []
        for i, v in enumerate(vols):
            for start, end in _merged([(minutes(a.start), minutes(a.end)) for a in v.availability]):
                owners.append(i)
                starts.append(start)
                ends.append(end)
        self.a_owner = np.array(owners, dtype=np.int64)
        self.a_start = np.array(starts, dtype=np.int64)
        self.a_end = np.array(ends, dtype=np.int64)
        self._bits = bits

    def eligibility_masks(self, j: int) -> dict[str, np.ndarray]:
        """For shift j, per volunteer: does each eligibility test pass?"""
        shift = self.shifts[j]
        need = self._bits(shift.skills_for_all)
        available = np.zeros(len(self.volunteers), dtype=bool)
        covering = (self.a_start <= self.s_start[j]) & (self.a_end >= self.s_end[j])
        available[self.a_owner[covering]] = True
        distance = exact_distance_m(self.v_x - self.s_x[j], self.v_y - self.s_y[j])
        return {
            "age": self.v_age >= shift.min_age,
            "skill": (self.v_skills & need) == need,
            "near": distance <= self.v_reach,
            "available": available,
            "distance": distance,
        }

    # ------------------------------------------------------------------- pairs
    def _pairs(self) -> None:
        # Declined pairs (Problem.excluded), per active shift: volunteer numbers never to put on it.
        self.declined: dict[int, np.ndarray] = {}
        declined_sets: dict[int, set[int]] = defaultdict(set)
        for a in self.problem.excluded:
            if a.shift_id in self.shift_number:  # a past shift is left alone anyway
                declined_sets[self.shift_number[a.shift_id]].add(self.volunteer_number[a.volunteer_id])
        for j, who in declined_sets.items():
            self.declined[j] = np.array(sorted(who), dtype=np.int64)
        pair_volunteer, pair_shift, pair_distance = [], [], []
        self.shift_pairs: list[np.ndarray] = []  # per shift: its pair numbers
        first = 0
        for j in range(len(self.shifts)):
            masks = self.eligibility_masks(j)
            who = np.flatnonzero(masks["age"] & masks["skill"] & masks["near"] & masks["available"])
            if j in self.declined:
                who = who[~np.isin(who, self.declined[j])]  # an eligible pair declined is no variable
            pair_volunteer.append(who)
            pair_shift.append(np.full(len(who), j, dtype=np.int64))
            pair_distance.append(masks["distance"][who])
            self.shift_pairs.append(np.arange(first, first + len(who)))
            first += len(who)
        empty = np.zeros(0, dtype=np.int64)
        self.pair_volunteer = np.concatenate(pair_volunteer) if pair_volunteer else empty
        self.pair_shift = np.concatenate(pair_shift) if pair_shift else empty
        self.pair_distance = np.concatenate(pair_distance) if pair_distance else empty
        self.pair_of = {(int(v), int(s)): p for p, (v, s) in enumerate(zip(self.pair_volunteer, self.pair_shift))}
        self.volunteer_pairs: list[list[int]] = [[] for _ in self.volunteers]
        for p, v in enumerate(self.pair_volunteer.tolist()):
            self.volunteer_pairs[v].append(p)

    def pair_costs(self) -> np.ndarray:
        """Per pair: distance from home plus preferences missed, in objective units (computed once)."""
        if getattr(self, "_pair_costs", None) is None:
            self._pair_costs = self._compute_pair_costs()
        return self._pair_costs

    def _compute_pair_costs(self) -> np.ndarray:
        weights = self.problem.weights
        cost = weights.distance_per_km * self.pair_distance // 1000
        preference_cost = np.zeros(len(cost), dtype=np.int64)
        for i, volunteer in enumerate(self.volunteers):
            if not volunteer.preferences:
                continue
            for p in self.volunteer_pairs[i]:
                shift = self.shifts[self.pair_shift[p]]
                preference_cost[p] = missed_preference_points(volunteer.preferences, shift)
        return cost + weights.preference * preference_cost

    # ---------------------------------------------------------------- fairness
    def _fairness(self) -> tuple[np.ndarray, np.ndarray]:
        """Each person's fair share of the period's shifts, in proportion to what they offered.

        offer = min(shifts they are eligible for, weekly shift limit x weeks in the period);
        allowance = max(1, ceil(ideal seats of the period x offer / all offers)). Integer arithmetic
        so the independent checker gets the same numbers.
        """
        eligible_count = np.bincount(self.pair_volunteer, minlength=len(self.volunteers)).astype(np.int64)
        limits = np.array([v.max_shifts_per_week for v in self.volunteers], dtype=np.int64) * len(self.weeks)
        offer = np.minimum(eligible_count, limits)
        total_offer = int(offer.sum())
        demand = sum(s.ideal_seats for s in self.shifts)
        if total_offer == 0:
            return np.zeros(len(self.volunteers), dtype=np.int64), offer
        allowance = np.maximum(1, -((-demand * offer) // total_offer))
        return allowance, offer

    # --------------------------------------------------------------- conflicts
    def travel_between(self, a: int, b: int) -> int:
        distance = math.isqrt(int(self.s_x[a] - self.s_x[b]) ** 2 + int(self.s_y[a] - self.s_y[b]) ** 2)
        return int(travel_minutes(distance, self.speed_kmh))

    def clash(self, a: int, b: int) -> bool:
        """Can one person not work both shifts a and b (overlap, or too little time to travel)?"""
        travel = self.travel_between(a, b)
        return bool(self.s_start[a] < self.s_end[b] + travel and self.s_start[b] < self.s_end[a] + travel)

    def conflicts(self) -> ShiftConflicts:
        n = len(self.shifts)
        if n == 0:
            return ShiftConflicts([], [])
        # Cliques of the interval graph: at each distinct start time, the shifts running then. A
        # clique is kept only if one of its shifts ends before the next start (else the next
        # clique contains it).
        starts = np.unique(self.s_start)
        cliques = []
        for k, t in enumerate(starts):
            members = np.flatnonzero((self.s_start <= t) & (self.s_end > t))
            following = starts[k + 1] if k + 1 < len(starts) else None
            if len(members) >= 2 and (following is None or self.s_end[members].min() <= following):
                cliques.append(members)
        # Pairs apart in time but too close to travel between: b starts after a ends, but sooner
        # than the travel time. Only shifts starting within the longest possible trip can qualify.
        span = max(int(self.s_x.max() - self.s_x.min()), 0) + max(int(self.s_y.max() - self.s_y.min()), 0)
        longest_trip = int(travel_minutes(span, self.speed_kmh))
        order = np.argsort(self.s_start, kind="stable")
        sorted_start = self.s_start[order]
        travel_pairs = []
        for a in range(n):
            low = np.searchsorted(sorted_start, self.s_end[a], side="left")
            high = np.searchsorted(sorted_start, self.s_end[a] + longest_trip, side="left")
            if high <= low:
                continue
            candidates = order[low:high]
            distance = exact_distance_m(self.s_x[candidates] - self.s_x[a], self.s_y[candidates] - self.s_y[a])
            too_close = self.s_start[candidates] < self.s_end[a] + travel_minutes(distance, self.speed_kmh)
            travel_pairs.extend((a, int(b)) for b in candidates[too_close])
        return ShiftConflicts(cliques, travel_pairs)

    # ------------------------------------------------------------------ locks
    def fixed_pairs(self) -> list[int]:
        """Pair numbers of the fixed assignments on active shifts; a lock that breaks a hard rule
        is reported as a ProblemError naming the rule."""
        pairs = []
        for assignment in self.problem.fixed:
            if assignment.shift_id not in self.shift_number:
                continue  # in the past
            v = self.volunteer_number[assignment.volunteer_id]
            j = self.shift_number[assignment.shift_id]
            if (v, j) not in self.pair_of:
                reason = self.ineligibility_reason(v, j)
                raise ProblemError(f"fixed assignment {assignment.volunteer_id} -> {assignment.shift_id} is not possible: {reason}")
            pairs.append(self.pair_of[(v, j)])
        return pairs

    def _check_fixed(self) -> None:
        pairs = self.fixed_pairs()
        per_shift = Counter(int(self.pair_shift[p]) for p in pairs)
        for j, count in per_shift.items():
            if count > self.shifts[j].max_seats:
                raise ProblemError(f"shift {self.shifts[j].id}: {count} fixed assignments exceed its {self.shifts[j].max_seats} seats")
        for j in per_shift:
            shift = self.shifts[j]
            for skill, needed in shift.required_skills.items():
                could_come = sum(1 for p in self.shift_pairs[j].tolist() if skill in self.volunteers[self.pair_volunteer[p]].skills)
                if could_come < needed:
                    raise ProblemError(
                        f"shift {shift.id}: people are locked on it, but it needs {needed} with {skill} and only {could_come} could come"
                    )
        by_volunteer: dict[int, list[int]] = defaultdict(list)
        for p in pairs:
            by_volunteer[int(self.pair_volunteer[p])].append(int(self.pair_shift[p]))
        for v, shifts in by_volunteer.items():
            volunteer = self.volunteers[v]
            for k, a in enumerate(shifts):
                for b in shifts[k + 1 :]:
                    if self.clash(a, b):
                        raise ProblemError(f"volunteer {volunteer.id}: fixed shifts {self.shifts[a].id} and {self.shifts[b].id} clash")
            for week in set(self.s_week[j] for j in shifts):
                in_week = [j for j in shifts if self.s_week[j] == week]
                if len(in_week) > volunteer.max_shifts_per_week or sum(int(self.s_length[j]) for j in in_week) > volunteer.max_minutes_per_week:
                    raise ProblemError(f"volunteer {volunteer.id}: fixed shifts exceed the weekly limit in week {week}")

    # ------------------------------------------------------------ explanation
    def ineligibility_reason(self, v: int, j: int) -> str:
        masks = self.eligibility_masks(j)
        for reason, test in zip(INELIGIBILITY_REASONS, ("age", "skill", "near", "available")):
            if not masks[test][v]:
                return reason
        return "eligible"

    def explain_shortfalls(self, assignments: list[Assignment]) -> list[Shortfall]:
        """For each shift below its ideal seats, count the volunteers by why they are not on it."""
        assigned_to: dict[int, list[int]] = defaultdict(list)  # shift -> volunteers
        works: dict[int, list[int]] = defaultdict(list)  # volunteer -> shifts
        for a in assignments:
            if a.shift_id in self.shift_number:
                v, j = self.volunteer_number[a.volunteer_id], self.shift_number[a.shift_id]
                assigned_to[j].append(v)
                works[v].append(j)
        shortfalls = []
        for j, shift in enumerate(self.shifts):
            filled = len(assigned_to[j])
            if filled >= shift.ideal_seats:
                continue
            masks = self.eligibility_masks(j)
            reasons = {}
            passed = np.ones(len(self.volunteers), dtype=bool)
            for reason, test in zip(INELIGIBILITY_REASONS, ("age", "skill", "near", "available")):
                reasons[reason] = int((passed & ~masks[test]).sum())
                passed &= masks[test]
            on_shift = set(assigned_to[j])
            declined = np.zeros(len(self.volunteers), dtype=bool)
            if j in self.declined:
                declined[self.declined[j]] = True
                declined[list(on_shift)] = False  # on it after all (a schedule from elsewhere): not a cause
            reasons["declined"] = int((passed & declined).sum())
            passed &= ~declined
            counts = Counter()
            for v in np.flatnonzero(passed).tolist():
                if v in on_shift:
                    continue
                counts[self._why_not_chosen(v, j, works[v])] += 1
            for reason in ("at_weekly_limit", "on_overlapping_shift", "not_chosen"):
                reasons[reason] = counts[reason]
            lead_missing = [
                skill
                for skill, needed in shift.required_skills.items()
                if sum(1 for v in on_shift if skill in self.volunteers[v].skills) < needed
            ]
            shortfalls.append(
                Shortfall(
                    shift_id=shift.id,
                    filled=filled,
                    min_seats=shift.min_seats,
                    ideal_seats=shift.ideal_seats,
                    eligible=int(passed.sum()),
                    reasons=reasons,
                    lead_missing=lead_missing,
                )
            )
        return shortfalls

    def _why_not_chosen(self, v: int, j: int, worked: list[int]) -> str:
        volunteer = self.volunteers[v]
        same_week = [k for k in worked if self.s_week[k] == self.s_week[j]]
        if len(same_week) + 1 > volunteer.max_shifts_per_week or sum(int(self.s_length[k]) for k in same_week) + int(self.s_length[j]) > volunteer.max_minutes_per_week:
            return "at_weekly_limit"
        if any(self.clash(j, k) for k in worked):
            return "on_overlapping_shift"
        return "not_chosen"


def missed_preference_points(preferences, shift: Shift) -> int:
    """Likes the shift does not meet plus dislikes it meets, in preference points."""
    points = 0
    for preference in preferences:
        matches = getattr(shift, preference.field) == preference.value
        if preference.weight > 0 and not matches:
            points += preference.weight
        elif preference.weight < 0 and matches:
            points -= preference.weight
    return points


def coverage(problem_shifts: list[Shift], filled: dict[str, int]) -> tuple[float, float, float]:
    """(share of minimum seats filled, share of ideal seats filled, priority-weighted minimum share)."""
    need_min = sum(s.min_seats for s in problem_shifts)
    need_ideal = sum(s.ideal_seats for s in problem_shifts)
    need_weighted = sum(s.min_seats * s.priority for s in problem_shifts)
    got_min = sum(min(filled.get(s.id, 0), s.min_seats) for s in problem_shifts)
    got_ideal = sum(min(filled.get(s.id, 0), s.ideal_seats) for s in problem_shifts)
    got_weighted = sum(min(filled.get(s.id, 0), s.min_seats) * s.priority for s in problem_shifts)
    return (
        got_min / need_min if need_min else 1.0,
        got_ideal / need_ideal if need_ideal else 1.0,
        got_weighted / need_weighted if need_weighted else 1.0,
    )
