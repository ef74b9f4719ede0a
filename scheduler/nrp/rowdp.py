"""Exact pricing of one person's row by dynamic programming over the days (numpy).

Column generation's pricing problem is a shortest path: each day the person is off or works one
shift type, every hard rule is about that one row, and the cost of a row is a sum over its days. So
a forward pass over the days with a state that remembers just enough for the rules finds the least
reduced cost exactly, and a backward pass recovers the rows. The state after a day:

- ``last``: off (0) or the shift type worked (1..T), for forbidden successions and run changes;
- ``run``: length of the current run of worked days (up to the maximum) or of days off (capped at
  the minimum);
- ``edge``: 1 while the current run started on day 0 (the benchmark exempts runs that touch the
  horizon's ends from the minimum run lengths; the end is handled by accepting any final state);
- ``minutes``: total worked, in units of the greatest common divisor of the shift lengths;
- ``weekends``: weekends worked so far (only if the limit can bind);
- one count per shift type whose maximum can bind.

Why: a CP-SAT call per pricing problem cost ~14 ms on Instance7 (one thread), most of each
branch-and-price node. The state space there is a few thousand values a day, so a pass is a few
dozen array operations per day. Instances whose state space is too large keep CP-SAT.
"""

from __future__ import annotations

import itertools
import math
from functools import reduce

import numpy as np

from scheduler.nrp.instance import Instance

# Beyond this many states a day, pricing stays with CP-SAT (memory and time grow with it).
MAX_STATES = 200_000
_TOLERANCE = 1e-7


class RowDP:
    def __init__(self, instance: Instance, p: int):
        person = instance.staff[p]
        self.horizon = horizon = instance.horizon
        self.shift_ids = [shift.id for shift in instance.shifts]
        types = len(self.shift_ids)
        # allowed[d]: shift indices (1..T) the person may work on day d
        self.allowed = [
            [1 + self.shift_ids.index(t) for t in instance.allowed_shifts(person, d)] for d in range(horizon)
        ]
        ever = sorted({t for day in self.allowed for t in day})
        minutes = {t: instance.shifts[t - 1].minutes for t in ever}
        unit = reduce(math.gcd, minutes.values(), 0) or 1
        self.units = {t: minutes[t] // unit for t in ever}
        self.max_units = person.max_total_minutes // unit
        self.min_units = -(-person.min_total_minutes // unit)
        self.max_run = person.max_consecutive_shifts
        self.min_run = max(person.min_consecutive_shifts, 1)
        self.off_cap = max(person.min_consecutive_days_off, 1)
        saturdays = len(range(5, horizon, 7))
        self.track_weekends = person.max_weekends < saturdays
        # Binding counts: shift index -> axis position among the count axes. A limit binds if it is
        # below both the days the type may be worked and the most shifts a row can hold.
        days_allowed = {t: sum(t in day for day in self.allowed) for t in ever}
        self.limit = {t: person.max_shifts.get(self.shift_ids[t - 1], 0) for t in ever}
        work_days = sum(1 for day in self.allowed if day)
        most = min(work_days, self.max_units // min(self.units.values())) if ever else 0
        self.counted = [t for t in ever if self.limit[t] < min(days_allowed[t], most)]
        self.count_axis = {t: 5 + i for i, t in enumerate(self.counted)}
        # Where every shift has the same length the minutes give the number of shifts, so a limit close
        # to that number is kept as a count of the *other* shifts, capped where no row can need more
        # (at most 14 early shifts of at most 18: a count of 0..4 others instead of 0..14 earlies).
        # Why: Instance8's state spaces were up to 3.8 million; with these, at most 427,500.
        self.shift_units = next(iter(self.units.values())) if len(set(self.units.values())) == 1 else None
        self.others_cap = {
            t: most - self.limit[t] for t in self.counted if self.shift_units is not None and most - self.limit[t] < self.limit[t]
        }
        self.shape = (
            types + 1,
            max(self.max_run, self.off_cap, 1),
            2,
            max(self.max_units, 0) + 1,
            person.max_weekends + 1 if self.track_weekends else 1,
            *(self.others_cap[t] + 1 if t in self.others_cap else self.limit[t] + 1 for t in self.counted),
        )
        # Work on shift t may follow work on these shift types.
        self.may_precede = {
            t: np.array([l for l in range(1, types + 1) if self.shift_ids[t - 1] not in instance.shifts[l - 1].forbidden_next])
            for t in ever
        }
        self._slice_cache: dict = {}

    @property
    def states(self) -> int:
        return math.prod(self.shape)

    def _weekend_step(self, day: int, from_work: bool) -> int:
        """Weekends added by working on ``day``: Saturday counts one; Sunday one unless Saturday was worked."""
        if not self.track_weekends:
            return 0
        if day % 7 == 5:
            return 1
        if day % 7 == 6:
            return 0 if from_work else 1
        return 0

    def _slices(self, lead: int, t: int, weekend_step: int):
        """Slices (destination, source) over arrays whose axes from ``lead`` on are minutes, weekends
        and counts, that move each state to the one after working shift t once; None if none can."""
        key = (lead, t, weekend_step)
        if key not in self._slice_cache:
            dst = [slice(None)] * (lead + len(self.shape) - 3)
            src = list(dst)
            steps = [(lead, self.units[t]), (lead + 1, weekend_step)]
            if t in self.count_axis and t not in self.others_cap:
                steps.append((lead + self.count_axis[t] - 3, 1))
            for axis, step in steps:
                size = self.shape[axis - lead + 3]
                if step >= size:
                    self._slice_cache[key] = None
                    break
                if step:
                    dst[axis] = slice(step, None)
                    src[axis] = slice(0, size - step)
            else:
                self._slice_cache[key] = (tuple(dst), tuple(src))
        return self._slice_cache[key]

    def _work(self, target: np.ndarray, source: np.ndarray, t: int, weekend_step: int, cost: float) -> None:
        """``target`` (all infinite) gets ``source`` moved by working shift t once, plus ``cost``."""
        lead = source.ndim - (len(self.shape) - 3)
        slices = self._slices(lead, t, weekend_step)
        if slices is None:
            return
        dst, src = slices
        others = [u for u in self.others_cap if u != t]
        if not others:
            np.add(source[src], cost, out=target[dst])
            return
        moved = np.full(source.shape, np.inf)
        moved[dst] = source[src]
        # Counts of other shifts than u go up by one, staying at their cap once there.
        for u in others:
            axis = lead + self.count_axis[u] - 3
            cap = self.shape[self.count_axis[u]]
            at = [slice(None)] * source.ndim
            below = list(at)
            at[axis] = slice(1, cap)
            below[axis] = slice(0, cap - 1)
            step = np.full(source.shape, np.inf)
            step[tuple(at)] = moved[tuple(below)]
            at[axis] = below[axis] = cap - 1
            np.minimum(step[tuple(at)], moved[tuple(below)], out=step[tuple(at)])
            moved = step
        np.add(moved, cost, out=target)

    def forward(self, costs: list[dict[int, float]]) -> np.ndarray:
        """Least cost of reaching each state after each day. ``costs[d]`` maps the choices allowed on
        day d (0 for off, else the shift index) to their cost; a choice left out is forbidden."""
        values = np.full((self.horizon, *self.shape), np.inf)  # one allocation: per day it cost a fifth
        inner = self.shape[3:]
        start = np.full(inner, np.inf)
        start[(0,) * len(inner)] = 0.0
        for day in range(self.horizon):
            choice = costs[day]
            new = values[day]
            if day == 0:
                if 0 in choice:
                    new[(0, 0, 1) + (0,) * len(inner)] = choice[0]
                for t, cost in choice.items():
                    if t:
                        self._work(new[t, 0, 1], start, t, self._weekend_step(day, False), cost)
                continue
            prev = values[day - 1]
            if 0 in choice:
                # Off may end a work run of at least the minimum (or one that started on day 0).
                work_end = prev[1:, :, 1].min(axis=(0, 1))
                if self.min_run <= self.shape[1]:
                    np.minimum(work_end, prev[1:, self.min_run - 1 :, 0].min(axis=(0, 1)), out=work_end)
                off = new[0]
                cap = self.off_cap
                off[1:cap] = prev[0, : cap - 1]
                np.minimum(off[cap - 1], prev[0, cap - 1], out=off[cap - 1])
                np.minimum(off[0, 0], work_end, out=off[0, 0])
                if choice[0]:
                    off += choice[0]
            work_choices = [t for t in choice if t]
            if work_choices:
                # Work may follow a run of days off of at least the minimum (or one from day 0).
                off_end = np.minimum(prev[0, self.off_cap - 1 :, 0].min(axis=0), prev[0, :, 1].min(axis=0))
                continued: dict[bytes, np.ndarray] = {}
                for t in work_choices:
                    cost = choice[t]
                    self._work(new[t, 0, 0], off_end, t, self._weekend_step(day, False), cost)
                    if self.max_run >= 2 and len(self.may_precede[t]):
                        key = self.may_precede[t].tobytes()
                        if key not in continued:
                            continued[key] = prev[self.may_precede[t], : self.max_run - 1].min(axis=0)
                        self._work(new[t, 1 : self.max_run], continued[key], t, self._weekend_step(day, True), cost)
        return values

    def final_values(self, values: np.ndarray) -> np.ndarray:
        """The last day's values with rows short of the minimum minutes set to infinity."""
        last = values[-1].copy()
        last[:, :, :, : self.min_units] = np.inf
        for t, cap in self.others_cap.items():
            # At most limit[t] of the row's shifts are t: at least shifts - limit[t] others (a count at
            # its cap meets any need).
            shifts = np.arange(self.shape[3]) // self.shift_units
            others = np.arange(cap + 1)
            too_few = (others[None, :] < shifts[:, None] - self.limit[t]) & (others[None, :] < cap)
            shape = [1] * last.ndim
            shape[3], shape[self.count_axis[t]] = self.shape[3], cap + 1
            last[np.broadcast_to(too_few.reshape(shape), last.shape)] = np.inf
        return last

    def best_states(self, values: np.ndarray, count: int) -> list[tuple[float, tuple[int, ...]]]:
        final = self.final_values(values)
        flat = final.ravel()
        finite = np.flatnonzero(np.isfinite(flat))
        if not len(finite):
            return []
        if len(finite) > count:
            finite = finite[np.argpartition(flat[finite], count - 1)[:count]]
        finite = finite[np.argsort(flat[finite], kind="stable")]
        return [(float(flat[i]), tuple(int(x) for x in np.unravel_index(i, final.shape))) for i in finite]

    def _predecessors(self, day: int, state: tuple[int, ...]):
        last, run, edge, units, weekends, *counts = state
        if last == 0:
            if run >= 1:
                yield (0, run - 1, edge, units, weekends, *counts)
            if run == self.off_cap - 1:
                yield (0, run, edge, units, weekends, *counts)
            if run == 0 and edge == 0:
                for before in range(1, self.shape[0]):
                    for r in range(self.shape[1]):
                        if r >= self.min_run - 1:
                            yield (before, r, 0, units, weekends, *counts)
                        yield (before, r, 1, units, weekends, *counts)
            return
        if run == 0 and edge:
            return  # a work run from day 0 has no day before it
        units -= self.units[last]
        if last in self.count_axis and last not in self.others_cap:
            counts[self.count_axis[last] - 5] -= 1
        # Counts of other shifts than ``last``: one less, or the same at the cap.
        choices = []
        for t in self.counted:
            value = counts[self.count_axis[t] - 5]
            if t in self.others_cap and t != last:
                choices.append([value - 1, value] if value == self.others_cap[t] else [value - 1])
            else:
                choices.append([value])
        for before_counts in itertools.product(*choices):
            if run == 0:
                week = weekends - self._weekend_step(day, False)
                for r in range(self.shape[1]):
                    if r >= self.off_cap - 1:
                        yield (0, r, 0, units, week, *before_counts)
                    yield (0, r, 1, units, week, *before_counts)
            else:
                week = weekends - self._weekend_step(day, True)
                for before in self.may_precede[last]:
                    yield (int(before), run - 1, edge, units, week, *before_counts)

    def row(self, values: np.ndarray, costs: list[dict[int, float]], state: tuple[int, ...]) -> dict[int, str]:
        """The row that reaches ``state`` on the last day at its least cost."""
        row: dict[int, str] = {}
        for day in range(self.horizon - 1, -1, -1):
            last = state[0]
            if last:
                row[day] = self.shift_ids[last - 1]
            if day == 0:
                break
            target = values[day][state] - costs[day][last]
            prev = values[day - 1]
            for candidate in self._predecessors(day, state):
                if min(candidate) < 0:
                    continue
                value = prev[candidate]
                if math.isfinite(value) and abs(value - target) <= _TOLERANCE * (1 + abs(target)):
                    state = candidate
                    break
            else:
                raise AssertionError(f"no predecessor for day {day} state {state}")
        return row
