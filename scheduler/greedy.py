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
        for p in index.fixed_pairs():
            self.add(p)

    def fits(self, p: int) -> bool:
        index = self.index
        v, j = int(index.pair_volunteer[p]), int(index.pair_shift[p])
        if p in self.chosen or len(self.on_shift[j]) >= index.shifts[j].max_seats:
            return False
        volunteer = index.volunteers[v]
        week = index.s_week[j]
        same_week = [k for k in self.works[v] if index.s_week[k] == week]
        if len(same_week) + 1 > volunteer.max_shifts_per_week:
            return False
        if sum(int(index.s_length[k]) for k in same_week) + int(index.s_length[j]) > volunteer.max_minutes_per_week:
            return False
        return not any(index.clash(j, k) for k in self.works[v])

    def add(self, p: int) -> None:
        v, j = int(self.index.pair_volunteer[p]), int(self.index.pair_shift[p])
        self.chosen.add(p)
        self.on_shift[j].append(v)
        self.works[v].append(j)
        self.load[v] += 1

    def remove(self, p: int) -> None:
        v, j = int(self.index.pair_volunteer[p]), int(self.index.pair_shift[p])
        self.chosen.discard(p)
        self.on_shift[j].remove(v)
        self.works[v].remove(j)
        self.load[v] -= 1

    def missing_skills(self, j: int) -> dict[str, int]:
        """Required skills not yet present on shift j, with how many people are still needed."""
        shift = self.index.shifts[j]
        missing = {}
        for skill, needed in shift.required_skills.items():
            have = sum(1 for v in self.on_shift[j] if skill in self.index.volunteers[v].skills)
            if have < needed:
                missing[skill] = needed - have
        return missing

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


def coverage_first(index: ProblemIndex) -> np.ndarray:
    """Minimum seats everywhere first, then ideal seats; important and scarce shifts first."""
    schedule = Schedule(index)
    costs = index.pair_costs()
    allowance = index.fairness_allowance
    order = sorted(
        range(len(index.shifts)),
        key=lambda j: (-index.shifts[j].priority, len(index.shift_pairs[j]), int(index.s_start[j])),
    )

    def best(candidates: list[int]) -> int | None:
        fitting = [p for p in candidates if schedule.fits(p)]
        if not fitting:
            return None
        return min(fitting, key=lambda p: (int(schedule.load[index.pair_volunteer[p]] - allowance[index.pair_volunteer[p]]), int(costs[p]), p))

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
    return schedule.pair_values()
