"""Reusable CP-SAT rule builders for rosters: one person, a horizon of days, kinds of shift.

The builders work on generic inputs so that the Curtois-Qu benchmark adapter (``scheduler.nrp``) and
volunteer planning can share them:

* ``shifts_by_day``: for one person, a list over days of ``{kind: literal}`` where the literal means
  "works a shift of this kind on this day". A kind missing from a day's mapping cannot be worked that
  day. A literal is a CP-SAT Boolean variable, its negation, or a plain ``True``/``False`` for a
  decision that is already fixed (large-neighbourhood search fixes most of the roster this way).
* ``worked_by_day``: for one person, a list over days of literals "works any shift this day", as
  returned by :func:`add_one_shift_per_day`.

Hard rules are added to the model directly. Soft rules return a cost: a linear expression (or a plain
int when everything is fixed) to add to the objective, so callers decide how to weigh and sum them.
Fixed literals are folded in Python rather than passed to the solver, which keeps models with mostly
fixed decisions small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Union

from ortools.sat.python import cp_model

Literal = Union[cp_model.IntVar, bool]
"""A CP-SAT Boolean variable, its ``.Not()``, or a fixed ``True``/``False``."""

ShiftsByDay = Sequence[Mapping[str, Literal]]
Cost = Union[cp_model.LinearExpr, int]


def negate(literal: Literal) -> Literal:
    if isinstance(literal, bool):
        return not literal
    return literal.Not()


def _split_fixed(literals: Iterable[Literal]) -> tuple[int, list]:
    """(number of literals fixed to True, the literals that are still decisions)."""
    fixed_true = 0
    decisions = []
    for literal in literals:
        if literal is True:
            fixed_true += 1
        elif literal is not False:
            decisions.append(literal)
    return fixed_true, decisions


def _add_clause(model: cp_model.CpModel, literals: Iterable[Literal]) -> None:
    """At least one literal true; a clause with a fixed True literal is dropped."""
    clause = []
    for literal in literals:
        if literal is True:
            return
        if literal is not False:
            clause.append(literal)
    if not clause:
        raise ValueError("clause of fixed False literals: the fixed part already breaks the rule")
    model.add_bool_or(clause)


def _add_at_most(model: cp_model.CpModel, literals: Iterable[Literal], limit: int) -> None:
    fixed_true, decisions = _split_fixed(literals)
    if fixed_true + len(decisions) <= limit:
        return  # cannot be broken
    if len(decisions) == 0:
        raise ValueError("the fixed part already exceeds the limit")
    if limit - fixed_true == 1:
        model.add_at_most_one(decisions)
    elif limit - fixed_true <= 0:
        for literal in decisions:
            model.add(literal == 0)
    else:
        model.add(sum(decisions) <= limit - fixed_true)


def add_one_shift_per_day(model: cp_model.CpModel, shifts_by_day: ShiftsByDay, name: str = "") -> list[Literal]:
    """At most one shift per day; returns per day the literal "works that day"."""
    worked_by_day: list[Literal] = []
    for day, kinds in enumerate(shifts_by_day):
        fixed_true, decisions = _split_fixed(kinds.values())
        if fixed_true > 1:
            raise ValueError(f"{name} day {day}: two shifts fixed on the same day")
        if fixed_true == 1:
            for literal in decisions:
                model.add(literal == 0)
            worked_by_day.append(True)
        elif not decisions:
            worked_by_day.append(False)
        elif len(decisions) == 1:
            worked_by_day.append(decisions[0])
        else:
            worked = model.new_bool_var(f"works_{name}_{day}")
            model.add(sum(decisions) == worked)  # also the at-most-one
            worked_by_day.append(worked)
    return worked_by_day


def add_forbidden_successions(
    model: cp_model.CpModel, shifts_by_day: ShiftsByDay, forbidden_next: Mapping[str, Iterable[str]]
) -> None:
    """A shift of kind s on day d forbids the kinds ``forbidden_next[s]`` on day d+1 (no wrap-around).

    Posted as one at-most-one per day and group of kinds that forbid the same followers,
    {kinds of the group on d} + {their forbidden kinds on d+1}, which is valid because a person works
    at most one shift a day (:func:`add_one_shift_per_day`). This is far smaller and tighter than one
    clause per forbidden pair (Instance24 of the Curtois-Qu set: 96,000 pair clauses per person, about
    4 s of presolve), and grouping the kinds cuts Instance24's at-most-ones from 32 to 8 a day.
    """
    for day in range(len(shifts_by_day) - 1):
        today, tomorrow = shifts_by_day[day], shifts_by_day[day + 1]
        groups: dict[tuple[str, ...], list[Literal]] = {}
        for kind, literal in today.items():
            if literal is False:
                continue
            followers = tuple(sorted(next_kind for next_kind in forbidden_next.get(kind, ()) if next_kind in tomorrow))
            if followers:
                groups.setdefault(followers, []).append(literal)
        for followers, literals in groups.items():
            _add_at_most(model, [*literals, *(tomorrow[next_kind] for next_kind in followers)], 1)


def forbidden_successions_for_min_rest(
    shift_times: Mapping[str, tuple[int, int]], min_rest_minutes: int
) -> dict[str, set[str]]:
    """Successions that leave less than ``min_rest_minutes`` between a shift and the next day's.

    ``shift_times[kind] = (start, end)`` in minutes from the start of its day; an end past 1440 means the
    shift runs overnight. Use the result with :func:`add_forbidden_successions`.
    """
    forbidden: dict[str, set[str]] = {}
    for kind, (_, end) in shift_times.items():
        for next_kind, (next_start, _) in shift_times.items():
            if 24 * 60 + next_start - end < min_rest_minutes:
                forbidden.setdefault(kind, set()).add(next_kind)
    return forbidden


def add_max_consecutive_days(model: cp_model.CpModel, worked_by_day: Sequence[Literal], max_days: int) -> None:
    """At most ``max_days`` worked days in a row: every window of max_days+1 days has a day off."""
    for start in range(len(worked_by_day) - max_days):
        _add_at_most(model, worked_by_day[start : start + max_days + 1], max_days)


def add_min_run_length(
    model: cp_model.CpModel, literals_by_day: Sequence[Literal], min_length: int, exempt_boundary: bool = True
) -> None:
    """Every maximal run of days whose literal is true lasts at least ``min_length`` days.

    For runs of worked days pass ``worked_by_day``; for runs of days off pass their negations. With
    ``exempt_boundary`` a run touching the first or last day may be shorter (it may continue outside
    the horizon), as in the Curtois-Qu benchmark; without it the days outside count as false.
    Each too-short run pattern "false, true x L, false" is forbidden by one clause.
    """
    horizon = len(literals_by_day)
    for length in range(1, min_length):
        for start in range(0, horizon - length + 1):
            end = start + length - 1
            if exempt_boundary and (start == 0 or end == horizon - 1):
                continue
            clause = [negate(literals_by_day[day]) for day in range(start, end + 1)]
            if start > 0:
                clause.append(literals_by_day[start - 1])
            if end < horizon - 1:
                clause.append(literals_by_day[end + 1])
            _add_clause(model, clause)


def weekends(horizon: int, first_weekday: int = 0) -> list[list[int]]:
    """Day indexes of each weekend (Saturday, Sunday) in the horizon; weekday 0 is Monday."""
    groups: dict[int, list[int]] = {}
    for day in range(horizon):
        weekday = (first_weekday + day) % 7
        if weekday >= 5:
            week = (first_weekday + day) // 7
            groups.setdefault(week, []).append(day)
    return [groups[week] for week in sorted(groups)]


def add_max_weekends(
    model: cp_model.CpModel,
    worked_by_day: Sequence[Literal],
    max_weekends: int,
    first_weekday: int = 0,
    name: str = "",
) -> list[Literal]:
    """At most ``max_weekends`` weekends with any worked day; returns per weekend "works that weekend"."""
    worked_weekends: list[Literal] = []
    for index, days in enumerate(weekends(len(worked_by_day), first_weekday)):
        fixed_true, decisions = _split_fixed(worked_by_day[day] for day in days)
        if fixed_true:
            worked_weekends.append(True)
        elif not decisions:
            worked_weekends.append(False)
        elif len(decisions) == 1:
            worked_weekends.append(decisions[0])
        else:
            weekend = model.new_bool_var(f"weekend_{name}_{index}")
            model.add_max_equality(weekend, decisions)
            worked_weekends.append(weekend)
    _add_at_most(model, worked_weekends, max_weekends)
    return worked_weekends


def add_max_count_per_kind(model: cp_model.CpModel, shifts_by_day: ShiftsByDay, max_counts: Mapping[str, int]) -> None:
    """At most ``max_counts[kind]`` shifts of each listed kind over the horizon."""
    for kind, limit in max_counts.items():
        _add_at_most(model, (day[kind] for day in shifts_by_day if kind in day), limit)


def total_minutes(shifts_by_day: ShiftsByDay, minutes_by_kind: Mapping[str, int]) -> Cost:
    fixed = 0
    coefficients, literals = [], []
    for kinds in shifts_by_day:
        for kind, literal in kinds.items():
            if literal is True:
                fixed += minutes_by_kind[kind]
            elif literal is not False:
                literals.append(literal)
                coefficients.append(minutes_by_kind[kind])
    if not literals:
        return fixed
    return cp_model.LinearExpr.weighted_sum(literals, coefficients) + fixed


def add_total_minutes_bounds(
    model: cp_model.CpModel,
    shifts_by_day: ShiftsByDay,
    minutes_by_kind: Mapping[str, int],
    min_minutes: int | None = None,
    max_minutes: int | None = None,
) -> None:
    """Total minutes worked over the horizon within [min_minutes, max_minutes] (None: no bound)."""
    minutes = total_minutes(shifts_by_day, minutes_by_kind)
    if isinstance(minutes, int):
        if (min_minutes is not None and minutes < min_minutes) or (max_minutes is not None and minutes > max_minutes):
            raise ValueError("the fixed part already breaks the total minutes bounds")
        return
    if min_minutes is not None:
        model.add(minutes >= min_minutes)
    if max_minutes is not None:
        model.add(minutes <= max_minutes)


def shift_on_request_cost(shifts_by_day: ShiftsByDay, day: int, kind: str, weight: int) -> Cost:
    """``weight`` unless the person works exactly this kind on this day."""
    literal = shifts_by_day[day].get(kind, False)
    if isinstance(literal, bool):
        return 0 if literal else weight
    return weight * negate(literal)


def shift_off_request_cost(shifts_by_day: ShiftsByDay, day: int, kind: str, weight: int) -> Cost:
    """``weight`` if the person works this kind on this day."""
    literal = shifts_by_day[day].get(kind, False)
    if isinstance(literal, bool):
        return weight if literal else 0
    return weight * literal


def add_coverage_cost(
    model: cp_model.CpModel,
    assigned: Iterable[Literal],
    required: int,
    under_weight: int,
    over_weight: int,
    name: str = "",
) -> Cost:
    """Cost of one day's cover of one kind: under_weight per missing person, over_weight per extra one.

    ``assigned`` holds, for everyone who could take the shift, the literal "works it". Shortfall and
    excess are defined exactly (max(0, ...)), so the cost of any solution is its true cost, not an
    upper bound of it.
    """
    fixed_true, decisions = _split_fixed(assigned)

    def exact(count: int) -> int:
        return under_weight * max(0, required - count) + over_weight * max(0, count - required)

    if not decisions:
        return exact(fixed_true)
    if len(decisions) == 1:
        # One open decision: the cost is exactly linear in it.
        base = exact(fixed_true)
        return base + (exact(fixed_true + 1) - base) * decisions[0]
    count = sum(decisions) + fixed_true
    most = fixed_true + len(decisions)
    cost: Cost = 0
    if under_weight and required > fixed_true:
        if most <= required:
            cost = cost + under_weight * (required - count)  # never more than required: exact and linear
        else:
            shortfall = model.new_int_var(0, required - fixed_true, f"under_{name}")
            model.add_max_equality(shortfall, [required - count, 0])
            cost = cost + under_weight * shortfall
    if over_weight and most > required:
        if fixed_true >= required:
            cost = cost + over_weight * (count - required)  # never fewer than required: exact and linear
        else:
            excess = model.new_int_var(0, most - required, f"over_{name}")
            model.add_max_equality(excess, [count - required, 0])
            cost = cost + over_weight * excess
    return cost
