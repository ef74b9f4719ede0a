"""Two greedy schedules that respect every hard rule.

``first_come`` is the baseline the solver is compared with: self sign-up, first come first served.
Volunteers arrive in random order and each takes the shifts they like best while seats are left,
up to their weekly limits; a shift whose required people (e.g. a trained escort) never signed up
is cancelled. ``coverage_first`` is the solver's starting point: it fills minimum seats, then ideal
seats, most important and hardest-to-fill shifts first, preferring people below their fair share.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from scheduler.eligibility import ProblemIndex


class Schedule:
    """Pairs chosen so far, with the bookkeeping to test a further pair against the hard rules."""

    def __init__(self, index: ProblemIndex):
        self.index = index
        self.chosen: set[int] = set()
        self.on_shift: dict[int, list[int]] = defaultdict(list)  # shift -> volunteers
        self.works: dict[int, list[int]] = defaultdict(list)  # volunteer -> shifts
        self.load = np.zeros(len(index.volunteers), dtype=np.int64)
        self.week_count: dict[tuple, int] = defaultdict(int)  # (volunteer, week) -> shifts
        self.week_minutes: dict[tuple, int] = defaultdict(int)  # (volunteer, week) -> minutes
        self._length = index.s_length.tolist()
        self._max_seats = [s.max_seats for s in index.shifts]
        for p in index.fixed_pairs():
            self.add(p)

    def fits(self, p: int) -> bool:
        index = self.index
        v, j = int(index.pair_volunteer[p]), int(index.pair_shift[p])
        if p in self.chosen or len(self.on_shift[j]) >= self._max_seats[j]:
            return False
        volunteer = index.volunteers[v]
        key = (v, index.s_week[j])
        if self.week_count[key] + 1 > volunteer.max_shifts_per_week:
            return False
        if self.week_minutes[key] + self._length[j] > volunteer.max_minutes_per_week:
            return False
        return not any(index.clash(j, k) for k in self.works[v])

    def add(self, p: int) -> None:
        v, j = int(self.index.pair_volunteer[p]), int(self.index.pair_shift[p])
        self.chosen.add(p)
        self.on_shift[j].append(v)
        self.works[v].append(j)
        self.load[v] += 1
        key = (v, self.index.s_week[j])
        self.week_count[key] += 1
        self.week_minutes[key] += self._length[j]

    def remove(self, p: int) -> None:
        v, j = int(self.index.pair_volunteer[p]), int(self.index.pair_shift[p])
        self.chosen.discard(p)
        self.on_shift[j].remove(v)
        self.works[v].remove(j)
        self.load[v] -= 1
        key = (v, self.index.s_week[j])
        self.week_count[key] -= 1
        self.week_minutes[key] -= self._length[j]

    def missing_skills(self, j: int) -> dict[str, int]:
        """Required skills not yet present on shift j, with how many people are still needed."""
        shift = self.index.shifts[j]
        missing = {}
        for skill, needed in shift.required_skills.items():
            have = sum(1 for v in self.on_shift[j] if skill in self.index.volunteers[v].skills)
            if have < needed:
                missing[skill] = needed - have
        return missing

    def staff_locked_shifts(self, costs: np.ndarray) -> None:
        """Shifts with locked people but without their required people get them first, if anyone fits."""
        index = self.index
        locked_shifts = sorted({int(index.pair_shift[p]) for p in index.fixed_pairs()})
        for j in locked_shifts:
            for skill, count in self.missing_skills(j).items():
                candidates = [p for p in index.shift_pairs[j].tolist() if skill in index.volunteers[index.pair_volunteer[p]].skills]
                for p in sorted(candidates, key=lambda p: (int(costs[p]), p)):
                    if count == 0:
                        break
                    if self.fits(p):
                        self.add(p)
                        count -= 1

    def cancel_shifts_missing_skills(self, fixed: set[int]) -> None:
        """A shift cannot go ahead without its required people: send the others home."""
        index = self.index
        for j in range(len(index.shifts)):
            if self.on_shift[j] and self.missing_skills(j):
                for p in index.shift_pairs[j].tolist():
                    if p in self.chosen and p not in fixed:
                        self.remove(p)

    def pair_values(self) -> np.ndarray:
        values = np.zeros(len(self.index.pair_volunteer), dtype=np.int64)
        if self.chosen:
            values[np.fromiter(self.chosen, dtype=np.int64)] = 1
        return values


def first_come(index: ProblemIndex, seed: int = 0) -> np.ndarray:
    """Self sign-up: each volunteer, in random arrival order, takes their favourite shifts."""
    schedule = Schedule(index)
    costs = index.pair_costs()
    schedule.staff_locked_shifts(costs)  # a locked sign-up is a seat already taken
    arrival = list(range(len(index.volunteers)))
    random.Random(seed).shuffle(arrival)
    for v in arrival:
        skills = index.volunteers[v].skills
        for p in sorted(index.volunteer_pairs[v], key=lambda p: (costs[p], index.s_start[index.pair_shift[p]])):
            j = int(index.pair_shift[p])
            missing = schedule.missing_skills(j)
            brings_a_missing_skill = any(skill in skills for skill in missing)
            seats_left = index.shifts[j].max_seats - len(schedule.on_shift[j])
            # seats still needed for required people are not taken by others
            if not brings_a_missing_skill and seats_left <= sum(missing.values()):
                continue
            if schedule.fits(p):
                schedule.add(p)
    schedule.cancel_shifts_missing_skills(set(index.fixed_pairs()))
    return schedule.pair_values()


def coverage_first(index: ProblemIndex, start: np.ndarray | None = None) -> np.ndarray:
    """Minimum seats everywhere first, then ideal seats; important and scarce shifts first.

    With ``start`` (0/1 per pair, e.g. the flow relaxation's assignment), its pairs are taken
    first wherever they keep the hard rules, people with a required skill first; shifts that end
    up without their required people are emptied, and the seats left are filled as usual.
    """
    schedule = Schedule(index)
    costs = index.pair_costs()
    schedule.staff_locked_shifts(costs)
    if start is not None:
        fixed = set(index.fixed_pairs())
        wanted = np.flatnonzero(start).tolist()
        # required people first, so that helpers never take the seat a trained escort needs
        wanted.sort(key=lambda p: (not index.shifts[index.pair_shift[p]].required_skills.keys() & index.volunteers[index.pair_volunteer[p]].skills, p))
        for p in wanted:
            if p not in schedule.chosen and schedule.fits(p):
                schedule.add(p)
        schedule.cancel_shifts_missing_skills(fixed)
    allowance = index.fairness_allowance
    order = sorted(
        range(len(index.shifts)),
        key=lambda j: (-index.shifts[j].priority, len(index.shift_pairs[j]), int(index.s_start[j])),
    )

    def best(candidates: list[int]) -> int | None:
        """The candidate furthest below their fair share, then the cheapest, that fits."""
        if not candidates:
            return None
        pairs = np.asarray(candidates, dtype=np.int64)
        owners = index.pair_volunteer[pairs]
        order = np.lexsort((pairs, costs[pairs], schedule.load[owners] - allowance[owners]))
        for p in pairs[order].tolist():
            if schedule.fits(p):
                return p
        return None

    for target in ("min_seats", "ideal_seats"):
        for j in order:
            shift = index.shifts[j]
            pairs = index.shift_pairs[j].tolist()
            added: list[int] = []
            missing = schedule.missing_skills(j)
            for skill, count in missing.items():
                for _ in range(count):
                    pick = best([p for p in pairs if skill in index.volunteers[index.pair_volunteer[p]].skills])
                    if pick is None:
                        break
                    schedule.add(pick)
                    added.append(pick)
            if schedule.missing_skills(j):
                for p in added:  # the shift cannot be staffed; free the people for others
                    schedule.remove(p)
                continue
            while len(schedule.on_shift[j]) < getattr(shift, target):
                pick = best(pairs)
                if pick is None:
                    break
                schedule.add(pick)
    _move_leads(index, schedule, best)
    schedule.cancel_shifts_missing_skills(set(index.fixed_pairs()))
    return schedule.pair_values()


def _move_leads(index: ProblemIndex, schedule: Schedule, best) -> None:
    """Shifts left empty for want of their one required person: move such a person here from a
    shift where they are worth less (one move each; seats are valued as the objective does)."""
    weights = index.problem.weights
    fixed = set(index.fixed_pairs())

    def seat_value(j: int, k: int) -> int:  # what the k-th person (1-based) on shift j is worth
        shift = index.shifts[j]
        return ((weights.below_min if k <= shift.min_seats else 0) + (weights.below_ideal if k <= shift.ideal_seats else 0)) * shift.priority

    def has_skill(p: int, skill: str) -> bool:
        return skill in index.volunteers[index.pair_volunteer[p]].skills

    empty = [
        j for j, shift in enumerate(index.shifts)
        if not schedule.on_shift[j] and shift.min_seats > 0 and sum(shift.required_skills.values()) == 1
    ]
    empty.sort(key=lambda j: -index.shifts[j].priority * index.shifts[j].min_seats)
    for j in empty:
        shift = index.shifts[j]
        (skill,) = shift.required_skills
        pairs = index.shift_pairs[j].tolist()
        joiners = sum(1 for p in pairs if schedule.fits(p))
        for p in pairs:
            if not has_skill(p, skill):
                continue
            v = int(index.pair_volunteer[p])
            for k in list(schedule.works[v]):
                q = index.pair_of[(v, k)]
                if q in fixed:
                    continue
                on_k = schedule.on_shift[k]
                leads_on_k = [u for u in on_k if set(index.shifts[k].required_skills) & index.volunteers[u].skills]
                if index.shifts[k].required_skills and leads_on_k == [v] and len(on_k) > 1:
                    continue  # they hold that shift together
                loss = seat_value(k, len(on_k))
                schedule.remove(q)
                if not schedule.fits(p):
                    schedule.add(q)
                    continue
                gain = sum(seat_value(j, n) for n in range(1, min(shift.ideal_seats, 1 + joiners) + 1))
                if gain <= loss:
                    schedule.add(q)
                    continue
                schedule.add(p)
                while len(schedule.on_shift[j]) < shift.ideal_seats:
                    pick = best(pairs)
                    if pick is None:
                        break
                    schedule.add(pick)
                pick = best(index.shift_pairs[k].tolist())  # someone else may take the seat left
                if pick is not None:
                    schedule.add(pick)
                break
            if schedule.on_shift[j]:
                break
