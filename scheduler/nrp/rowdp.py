"""Exact pricing of one person's row by dynamic programming over the days (a numba kernel).

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
- one count per shift type whose maximum can bind and that the program tracks.

A program may leave per-type limits out (``tracked``): its least cost is then a lower bound, exact
when its cheapest row keeps them. Column generation starts each person with none and keeps a limit
once a cheapest row breaks it: each count multiplies the states by its range (Instance8: at most
17,100 states a day instead of 427,500; its root relaxation 4.5 -> 1.3 s on an Intel Xeon).
The kernel releases the GIL, so threads solving CP-SAT models beside it keep running their Python.

Why: a CP-SAT call per pricing problem cost ~14 ms on Instance7 (one thread), most of each
branch-and-price node. The state space there is a few thousand values a day. Instances whose state
space is too large keep CP-SAT.

Why numba: the pass written as numpy array operations (a few dozen a day) spent most of its time in
Python and in allocating; profiled, the dynamic programs took 46.6 of 60 s of branch and price on
Instance8. The compiled loop also skips the states no row can use (minutes that can no longer reach
the minimum or that the days so far cannot hold; a run from day 0 is in one slot). Mean time a call
with random costs (people of at most 450,000 states), numpy pass against this one, with the same
least costs and rows: Instance7 5.2 -> 1.4 ms, Instance8 25 -> 9 ms, Instance12 7.6 -> 2.5 ms.
It compiles when the module is first imported (about 4 s) and is cached on disk from then on.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections import Counter
from functools import reduce

import numba
import numpy as np

from scheduler.nrp.instance import Instance

# Beyond this many states a day, pricing stays with CP-SAT (memory and time grow with it).
MAX_STATES = 200_000
_TOLERANCE = 1e-7


_scratch_buffers = threading.local()


def _scratch(size: int) -> np.ndarray:
    """A float array of ``size`` values, this thread's own, reused from call to call."""
    buffer = getattr(_scratch_buffers, "values", None)
    if buffer is None or buffer.size < size:
        buffer = _scratch_buffers.values = np.empty(size)
    return buffer[:size]


@numba.njit(cache=True, nogil=True)
def _least_before(prev, may_follow, t, run, edge, i):
    """The least value of a work state (any shift that shift t may follow) in run slot ``run`` and
    ``edge``, at inner state i of the day before."""
    best = np.inf
    for last in range(1, prev.shape[0]):
        if may_follow[t, last] and prev[last, run, edge, i] < best:
            best = prev[last, run, edge, i]
    return best


# Compiled when this module is imported (typed signature), from the disk cache after the first time:
# a solve must not pay for it on its clock (a fresh checkout's first Instance1 solve ended FEASIBLE
# in its 20 s when the compilation fell inside them under load).
@numba.njit(
    "void(float64[:, :, :, :, ::1], boolean[:, ::1], float64[:, ::1], int64[:, ::1], int64[:, :, ::1],"
    " boolean[:, ::1], int64, int64, int64, int64[::1], int64[::1])",
    cache=True,
    nogil=True,
)
def _forward_kernel(values, allowed, cost, weekend_step, moves, may_follow, min_run, off_cap, max_run, first, stop):
    """The forward pass on ``values`` (days, last, run, edge, inner); inner
    is the minutes, weekends and counts axes flattened, minutes slowest. ``moves[t, step, i]``: the
    inner state after working shift t from inner state i when the weekends go up by ``step`` (-1
    where a limit breaks); ``weekend_step[d, w]``: that step for work on day d after a worked day
    (w = 1) or not. Only inner states in ``first[d]:stop[d]`` are kept on day d (their minutes can
    still reach the minimum and are not above what d + 1 days can hold): only those are set, the
    rest of ``values`` is left as it was. A run from day 0 (edge 1) is in one run slot only. So most
    of the work of a day is skipped."""
    days, kinds, runs, _, inner = values.shape
    for d in range(days):
        values[d, :, :, :, first[d] : stop[d]] = np.inf
    if allowed[0, 0] and first[0] == 0:
        values[0, 0, 0, 1, 0] = cost[0, 0]
    for t in range(1, kinds):
        if allowed[0, t]:
            target = moves[t, weekend_step[0, 0], 0]
            if first[0] <= target < stop[0]:
                values[0, t, 0, 1, target] = cost[0, t]
    work_end = np.empty(inner)
    off_end = np.empty(inner)
    for d in range(1, days):
        prev = values[d - 1]
        new = values[d]
        lo, hi = first[d - 1], stop[d - 1]  # the source states
        keep_lo, keep_hi = first[d], stop[d]
        edge_work = d - 1  # a work run from day 0 has run slot d - 1 on day d - 1
        edge_off = min(d - 1, off_cap - 1)
        if allowed[d, 0]:
            c = cost[d, 0]
            # Off may end a work run of at least the minimum (or one that started on day 0).
            for i in range(max(lo, keep_lo), min(hi, keep_hi)):
                best = np.inf
                for last in range(1, kinds):
                    for r in range(min_run - 1, runs):
                        if prev[last, r, 0, i] < best:
                            best = prev[last, r, 0, i]
                    if edge_work < runs and prev[last, edge_work, 1, i] < best:
                        best = prev[last, edge_work, 1, i]
                work_end[i] = best
                if best + c < new[0, 0, 0, i]:
                    new[0, 0, 0, i] = best + c
            for r in range(1, off_cap):
                for i in range(max(lo, keep_lo), min(hi, keep_hi)):
                    new[0, r, 0, i] = prev[0, r - 1, 0, i] + c
            for i in range(max(lo, keep_lo), min(hi, keep_hi)):  # the run of days off stays at its cap
                value = prev[0, off_cap - 1, 0, i] + c
                if value < new[0, off_cap - 1, 0, i]:
                    new[0, off_cap - 1, 0, i] = value
                value = prev[0, edge_off, 1, i] + c
                slot = min(edge_off + 1, off_cap - 1)
                if value < new[0, slot, 1, i]:
                    new[0, slot, 1, i] = value
        any_work = False
        for t in range(1, kinds):
            any_work = any_work or allowed[d, t]
        if not any_work:
            continue
        # Work may follow a run of days off of at least the minimum (or one from day 0).
        for i in range(lo, hi):
            best = prev[0, edge_off, 1, i]
            for r in range(off_cap - 1, runs):
                if prev[0, r, 0, i] < best:
                    best = prev[0, r, 0, i]
            off_end[i] = best
        for t in range(1, kinds):
            if not allowed[d, t]:
                continue
            c = cost[d, t]
            fresh = moves[t, weekend_step[d, 0]]
            onward = moves[t, weekend_step[d, 1]]
            for i in range(lo, hi):
                target = fresh[i]
                if keep_lo <= target < keep_hi and off_end[i] + c < new[t, 0, 0, target]:
                    new[t, 0, 0, target] = off_end[i] + c
                target = onward[i]
                if not keep_lo <= target < keep_hi:
                    continue
                for r in range(max_run - 1):
                    best = _least_before(prev, may_follow, t, r, 0, i)
                    if best + c < new[t, r + 1, 0, target]:
                        new[t, r + 1, 0, target] = best + c
                if edge_work < max_run - 1:
                    best = _least_before(prev, may_follow, t, edge_work, 1, i)
                    if best + c < new[t, edge_work + 1, 1, target]:
                        new[t, edge_work + 1, 1, target] = best + c


class RowDP:
    def __init__(self, instance: Instance, p: int, tracked: set[str] | None = None):
        """``tracked``: the shift types whose per-type limit the program keeps (default: all). Left
        out, a limit is relaxed: the program's rows must then be checked (:meth:`broken_limits`)."""
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
        counted = [t for t in ever if self.limit[t] < min(days_allowed[t], most)]
        # Where every shift has the same length the minutes give the number of shifts, so a limit close
        # to that number is kept as a count of the *other* shifts, capped where no row can need more
        # (at most 14 early shifts of at most 18: a count of 0..4 others instead of 0..14 earlies).
        # Why: Instance8's state spaces were up to 3.8 million; with these, at most 427,500.
        self.shift_units = next(iter(self.units.values())) if len(set(self.units.values())) == 1 else None
        others_cap = {
            t: most - self.limit[t] for t in counted if self.shift_units is not None and most - self.limit[t] < self.limit[t]
        }
        # Each limit tracked multiplies the states by its count's range. Those left out, by shift type.
        self.untracked_limits = {
            self.shift_ids[t - 1]: self.limit[t] for t in counted if tracked is not None and self.shift_ids[t - 1] not in tracked
        }
        counted = [t for t in counted if self.shift_ids[t - 1] not in self.untracked_limits]
        others_cap = {t: cap for t, cap in others_cap.items() if t in counted}
        self.counted = counted
        self.count_axis = {t: 5 + i for i, t in enumerate(counted)}
        self.others_cap = others_cap
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
        self._moves: np.ndarray | None = None  # built on the first forward pass (see _prepare)
        self._may_follow = np.zeros((types + 1, types + 1), dtype=np.bool_)
        for t, before in self.may_precede.items():
            self._may_follow[t, before] = True
        # Inner states kept on each day: minutes that the days left can still raise to the minimum,
        # and no more than the days so far can hold (minutes are the slowest inner axis).
        most_a_day = max(self.units.values(), default=0)
        self._minutes_kept = [
            (max(0, self.min_units - (horizon - 1 - day) * most_a_day), min(self.max_units, (day + 1) * most_a_day) + 1)
            for day in range(horizon)
        ]
        self._weekend_steps = np.array(
            [[self._weekend_step(day, False), self._weekend_step(day, True)] for day in range(horizon)], dtype=np.int64
        )

    def broken_limits(self, row: dict[int, str]) -> set[str]:
        """The shift types whose limit the row breaks (only a limit the program leaves out can be)."""
        worked = Counter(row.values())
        return {t for t, limit in self.untracked_limits.items() if worked[t] > limit}

    def _prepare(self) -> None:
        """The tables of the forward pass, sized by the state space: built when first needed, as
        people whose state space is too large are priced by CP-SAT instead (Instance13's largest
        would need 27 GiB)."""
        stride = math.prod(self.shape[4:])
        self._first = np.array([low * stride for low, _ in self._minutes_kept], dtype=np.int64)
        self._stop = np.array([high * stride for _, high in self._minutes_kept], dtype=np.int64)
        self._moves = self._inner_moves()
        self._final_index = self._final_states()

    def _inner_moves(self) -> np.ndarray:
        """``moves[t, step, i]``: the flat inner state (minutes, weekends, counts) after working shift t
        from inner state i with the weekends going up by ``step``; -1 where a limit is broken."""
        inner = self.shape[3:]
        size = math.prod(inner)
        moves = np.full((self.shape[0], 2, size), -1, dtype=np.int64)
        axes = [axis.ravel() for axis in np.indices(inner)]
        for t in self.units:
            for step in (0, 1):
                after = [axis.copy() for axis in axes]
                after[0] += self.units[t]
                after[1] += step
                for u in self.counted:
                    axis = self.count_axis[u] - 3
                    if u in self.others_cap and u != t:
                        # Counts of other shifts than u go up by one, staying at their cap once there.
                        np.minimum(after[axis] + 1, inner[axis] - 1, out=after[axis])
                    elif u == t and u not in self.others_cap:
                        after[axis] += 1
                valid = np.all([value < bound for value, bound in zip(after, inner)], axis=0)
                moves[t, step, valid] = np.ravel_multi_index([value[valid] for value in after], inner)
        return moves

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

    def forward(self, costs: list[dict[int, float]]) -> np.ndarray:
        """Least cost of reaching each state after each day. ``costs[d]`` maps the choices allowed on
        day d (0 for off, else the shift index) to their cost; a choice left out is forbidden.

        The array is this thread's scratch buffer, valid until its next ``forward`` call, and holds
        only the states whose minutes are in ``self._minutes_kept[day]``: read it through
        :meth:`best_states` and :meth:`row`. Why: allocating it afresh took as long as the pass
        (Instance8's largest state spaces: 28 x 427,500 values)."""
        if self._moves is None:
            self._prepare()
        kinds = self.shape[0]
        allowed = np.zeros((self.horizon, kinds), dtype=np.bool_)
        cost = np.zeros((self.horizon, kinds))
        for day, choice in enumerate(costs):
            for t, value in choice.items():
                allowed[day, t] = True
                cost[day, t] = value
        values = _scratch(self.horizon * self.states).reshape(self.horizon, *self.shape)
        _forward_kernel(
            values.reshape(self.horizon, kinds, self.shape[1], 2, -1),
            allowed,
            cost,
            self._weekend_steps,
            self._moves,
            self._may_follow,
            self.min_run,
            self.off_cap,
            self.max_run,
            self._first,
            self._stop,
        )
        return values

    def _final_states(self) -> np.ndarray:
        """Flat indices of the last day's states that end a valid row: minutes at least the minimum
        (and within what the forward pass keeps), and enough shifts other than each capped type."""
        final = np.ones(self.shape, dtype=np.bool_)
        final[:, :, :, : self.min_units] = False
        final[:, :, :, self._minutes_kept[-1][1] :] = False
        for t, cap in self.others_cap.items():
            # At most limit[t] of the row's shifts are t: at least shifts - limit[t] others (a count at
            # its cap meets any need).
            shifts = np.arange(self.shape[3]) // self.shift_units
            others = np.arange(cap + 1)
            too_few = (others[None, :] < shifts[:, None] - self.limit[t]) & (others[None, :] < cap)
            shape = [1] * final.ndim
            shape[3], shape[self.count_axis[t]] = self.shape[3], cap + 1
            final[np.broadcast_to(too_few.reshape(shape), final.shape)] = False
        return np.flatnonzero(final)

    def best_states(self, values: np.ndarray, count: int) -> list[tuple[float, tuple[int, ...]]]:
        """Up to ``count`` final states of least cost, cheapest first: (cost, state)."""
        candidates = self._final_index
        costs = values[-1].ravel()[candidates]
        finite = np.flatnonzero(np.isfinite(costs))
        if not len(finite):
            return []
        if len(finite) > count:
            finite = finite[np.argpartition(costs[finite], count - 1)[:count]]
        finite = finite[np.argsort(costs[finite], kind="stable")]
        return [
            (float(costs[i]), tuple(int(x) for x in np.unravel_index(candidates[i], self.shape))) for i in finite
        ]

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

    def _reached_predecessors(self, values: np.ndarray, day: int, state: tuple[int, ...]):
        """(state, least cost) of each distinct state of the day before that the forward pass
        reached and from which ``state`` follows, in the order :meth:`_predecessors` gives them."""
        prev = values[day - 1]
        low, high = self._minutes_kept[day - 1]
        seen = set()
        for candidate in self._predecessors(day, state):
            if candidate in seen or min(candidate) < 0 or not low <= candidate[3] < high:
                continue
            seen.add(candidate)
            value = prev[candidate]
            if math.isfinite(value):
                yield candidate, value

    def rows_within(
        self, values: np.ndarray, costs: list[dict[int, float]], limit: float, most: int, reached: dict | None = None
    ) -> list[dict[int, str]] | None:
        """Every row of cost at most ``limit`` (after a ``forward`` pass with ``costs``), or None if
        there are more than ``most``. A depth-first walk back from the final states: a state of the
        day before is followed only when its least cost plus the costs already walked stay within
        the limit, so every path walked ends in a row. Limits the program leaves out are not checked
        (see broken_limits). ``reached`` keeps each visited state's reached predecessors: pass the
        same dict to calls over the same ``values``.

        Why the memo: on Instance8 the walk at margin 0.7 visits 5,627 distinct states 51,954 times,
        and finding their predecessors was 85% of its time."""
        rows: list[dict[int, str]] = []
        reached = {} if reached is None else reached
        limit += _TOLERANCE * (1 + abs(limit))  # sums in another order round differently
        final = self._final_index
        last_costs = values[-1].ravel()[final]
        starts = [tuple(int(x) for x in np.unravel_index(final[i], self.shape)) for i in np.flatnonzero(last_costs <= limit)]
        # Each entry: (day, state, cost of the days after it, the row from the day after it on).
        stack = [(self.horizon - 1, state, 0.0, {}) for state in starts]
        while stack:
            day, state, after, row = stack.pop()
            last = state[0]
            if last:
                row = {**row, day: self.shift_ids[last - 1]}
            if day == 0:
                rows.append(row)
                if len(rows) > most:
                    return None
                continue
            walked = after + costs[day][last]
            predecessors = reached.get((day, state))
            if predecessors is None:
                predecessors = reached[(day, state)] = list(self._reached_predecessors(values, day, state))
            for candidate, value in predecessors:
                if value + walked <= limit:
                    stack.append((day - 1, candidate, walked, row))
        return rows

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
            for candidate, value in self._reached_predecessors(values, day, state):
                if abs(value - target) <= _TOLERANCE * (1 + abs(target)):
                    state = candidate
                    break
            else:
                raise AssertionError(f"no predecessor for day {day} state {state}")
        return row
