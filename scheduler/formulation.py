"""The scheduling model, written once and solver-neutral.

A ``Formulation`` is integer variables with bounds, linear rows, at-most-one groups and a linear
objective split into named terms. ``cpsat.py`` and ``mip.py`` only translate it, so both solvers
solve the same model. Variables 0 .. P-1 are the possible volunteer-shift pairs (1 = assigned).

Soft terms use auxiliary variables whose cost pushes them to a known value ("at least the excess",
"at most the count"). Each one records that definition, so ``evaluate`` can compute the exact
objective of any assignment (a greedy schedule, a solver hint, an intermediate solution).

Rules are objects with ``apply(formulation, index)``; ``build`` applies the standard ones in order
and then any extra rules a caller passes, which is where further roster rules plug in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from scheduler.eligibility import ProblemIndex

TERMS = ("below_min", "below_ideal", "fairness", "preferences_distance", "continuity", "team_split", "stability")


@dataclass
class AuxDefinition:
    """How an auxiliary variable's value follows from the others once the solver settles it.

    sense "max": value = max(bound, each expression); "min": value = min(bound, each expression);
    "any": value = 1 if any listed variable is 1. An expression is (variables, coefficients, constant).
    """

    var: int
    sense: str
    bound: int
    expressions: list[tuple[list[int], list[int], int]]


@dataclass
class Formulation:
    num_pairs: int
    lower: list[int] = field(default_factory=list)
    upper: list[int] = field(default_factory=list)
    rows: list[tuple[list[int], list[int], float, float]] = field(default_factory=list)
    at_most_one: list[list[int]] = field(default_factory=list)
    costs: dict[str, dict[int, int]] = field(default_factory=lambda: {t: defaultdict(int) for t in TERMS})
    offsets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TERMS, 0))
    definitions: list[AuxDefinition] = field(default_factory=list)
    # named handles for callers: per shift its below-minimum variable (or None)
    below_min_var: dict[int, int] = field(default_factory=dict)
    # per shift with required skills: its "staffed" variable
    staffed_var: dict[int, int] = field(default_factory=dict)
    # per volunteer who can exceed their fair share: the excess variable
    excess_var: dict[int, int] = field(default_factory=dict)
    # per volunteer with two or more possible shifts: a variable equal to their number of shifts
    load_var: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lower = [0] * self.num_pairs
        self.upper = [1] * self.num_pairs

    @property
    def num_vars(self) -> int:
        return len(self.lower)

    def new_var(self, lower: int, upper: int) -> int:
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add_row(self, variables: list[int], coefficients: list[int], low: float, high: float) -> None:
        self.rows.append((variables, coefficients, low, high))

    def add_cost(self, term: str, var: int, coefficient: int) -> None:
        if coefficient:
            self.costs[term].setdefault(var, 0)
            self.costs[term][var] += coefficient

    def new_sum(self, variables: list[int], upper: int) -> int:
        """A variable equal to the sum of 0/1 variables; rows that share the sum stay short."""
        var = self.new_var(0, upper)
        self.add_row([var] + variables, [1] + [-1] * len(variables), 0, 0)
        self.definitions.append(AuxDefinition(var, "max", 0, [(variables, [1] * len(variables), 0)]))
        return var

    def new_excess(self, term: str, weight: int, expressions, upper: int, floor: int = 0) -> int:
        """A variable worth max(floor, each expression), charged ``weight`` per unit."""
        var = self.new_var(floor, upper)
        for variables, coefficients, constant in expressions:
            # var >= sum(coefficients * variables) + constant
            self.add_row([var] + list(variables), [1] + [-c for c in coefficients], constant, float("inf"))
        self.definitions.append(AuxDefinition(var, "max", floor, list(expressions)))
        self.add_cost(term, var, weight)
        return var

    def new_count_capped(self, term: str, weight: int, variables: list[int], cap: int) -> int:
        """A variable worth min(cap, sum of variables), charged ``weight`` (negative: a reward)."""
        var = self.new_var(0, cap)
        self.add_row([var] + variables, [1] + [-1] * len(variables), float("-inf"), 0)
        self.definitions.append(AuxDefinition(var, "min", cap, [(variables, [1] * len(variables), 0)]))
        self.add_cost(term, var, weight)
        return var

    def objective_vector(self) -> tuple[np.ndarray, int]:
        coefficients = np.zeros(self.num_vars, dtype=np.int64)
        for term_costs in self.costs.values():
            for var, coefficient in term_costs.items():
                coefficients[var] += coefficient
        return coefficients, sum(self.offsets.values())

    def violations(self, values: np.ndarray) -> list[str]:
        """Bounds, rows and at-most-one groups that a full assignment of values breaks."""
        broken = []
        lower, upper = np.asarray(self.lower), np.asarray(self.upper)
        out = np.flatnonzero((values < lower) | (values > upper))
        broken += [f"variable {k} = {values[k]} outside [{lower[k]}, {upper[k]}]" for k in out[:10].tolist()]
        for k, (variables, coefficients, low, high) in enumerate(self.rows):
            total = int(np.dot(values[variables], coefficients)) if variables else 0
            if not low <= total <= high:
                broken.append(f"row {k}: {total} outside [{low}, {high}]")
        for group in self.at_most_one:
            if int(values[group].sum()) > 1:
                broken.append(f"at most one of {group}")
        return broken

    def evaluate(self, pair_values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        """All variable values implied by the pair values, and the objective by term."""
        values = np.zeros(self.num_vars, dtype=np.int64)
        values[: self.num_pairs] = pair_values
        for definition in self.definitions:
            if definition.sense == "any":
                values[definition.var] = int(values[definition.expressions[0][0]].any())
                continue
            results = [int(np.dot(values[vs], cs)) + const for vs, cs, const in definition.expressions]
            if definition.sense == "max":
                values[definition.var] = max([definition.bound] + results)
            else:
                values[definition.var] = min([definition.bound] + results)
        terms = {}
        for term in TERMS:
            costs = self.costs[term]
            total = self.offsets[term]
            if costs:
                variables = np.fromiter(costs.keys(), dtype=np.int64, count=len(costs))
                coefficients = np.fromiter(costs.values(), dtype=np.int64, count=len(costs))
                total += int(np.dot(values[variables], coefficients))
            terms[term] = total
        return values, terms


class Rule(Protocol):
    def apply(self, formulation: Formulation, index: ProblemIndex) -> None: ...


# --------------------------------------------------------------------------- hard rules
class FixedAssignments:
    """Locked pairs stay assigned."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        for p in index.fixed_pairs():
            f.lower[p] = 1


class Seats:
    """At most max seats (the bound of the "filled" sum); and the soft costs of seats left below
    minimum and below ideal. Runs after RequiredSkills, whose "staffed" variables it uses."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        weights = index.problem.weights
        for j, shift in enumerate(index.shifts):
            pairs = index.shift_pairs[j].tolist()
            if not pairs and shift.min_seats + shift.ideal_seats == 0:
                continue
            filled = f.new_sum(pairs, upper=min(len(pairs), shift.max_seats)) if pairs else None
            for term, seats, weight in (
                ("below_min", shift.min_seats, weights.below_min),
                ("below_ideal", shift.ideal_seats, weights.below_ideal),
            ):
                if seats == 0:
                    continue
                if filled is None:  # nobody can come: the whole shortfall is a constant
                    f.offsets[term] += seats * weight * shift.priority
                    continue
                expressions = [([filled], [-1], seats)]
                if j in f.staffed_var:
                    # An unstaffed shift is short of all its seats. Implied by the rows already
                    # there, but it keeps the LP from splitting one trained escort over shifts.
                    expressions.append(([f.staffed_var[j]], [-seats], seats))
                var = f.new_excess(term, weight * shift.priority, expressions, upper=seats)
                if term == "below_min":
                    f.below_min_var[j] = var


class RequiredSkills:
    """A shift is staffed only with its required people present (e.g. one trained escort).

    With y = "shift is staffed": sum(all pairs) <= max seats * y, and sum(pairs with the skill)
    >= needed * y. The big-M row alone is weak in the LP relaxation (half a trained escort would
    let half a crew stand at the crossing); Seats adds "short of all seats unless staffed", which
    makes a fraction of an escort count only as that fraction of a staffed crossing.
    """

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        for j, shift in enumerate(index.shifts):
            if not shift.required_skills:
                continue
            pairs = index.shift_pairs[j].tolist()
            if not pairs:
                continue
            staffed = f.new_var(0, 1)
            f.definitions.append(AuxDefinition(staffed, "any", 0, [(pairs, [], 0)]))
            f.staffed_var[j] = staffed
            f.add_row(pairs + [staffed], [1] * len(pairs) + [-min(len(pairs), shift.max_seats)], float("-inf"), 0)
            for skill, needed in shift.required_skills.items():
                skilled = [p for p in pairs if skill in index.volunteers[index.pair_volunteer[p]].skills]
                f.add_row(skilled + [staffed], [1] * len(skilled) + [-needed], 0, float("inf"))


class NoClashes:
    """One person never works two shifts that overlap or leave too little time to travel."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        conflicts = index.conflicts()
        seen: set[tuple[int, ...]] = set()
        for clique in conflicts.cliques:
            pairs = np.concatenate([index.shift_pairs[j] for j in clique])
            if len(pairs) < 2:
                continue
            owners = index.pair_volunteer[pairs]
            order = np.argsort(owners, kind="stable")
            pairs, owners = pairs[order], owners[order]
            cuts = np.flatnonzero(np.diff(owners)) + 1
            for group in np.split(pairs, cuts):
                if len(group) >= 2:
                    key = tuple(sorted(group.tolist()))
                    if key not in seen:
                        seen.add(key)
                        f.at_most_one.append(list(key))
        for a, b in conflicts.travel_pairs:
            both = np.intersect1d(index.pair_volunteer[index.shift_pairs[a]], index.pair_volunteer[index.shift_pairs[b]], assume_unique=True)
            for v in both.tolist():
                f.at_most_one.append([index.pair_of[(v, a)], index.pair_of[(v, b)]])


class WeeklyLimits:
    """Per person and ISO week: at most so many shifts and so many minutes."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        for v, volunteer in enumerate(index.volunteers):
            by_week: dict[tuple, list[int]] = defaultdict(list)
            for p in index.volunteer_pairs[v]:
                by_week[index.s_week[index.pair_shift[p]]].append(p)
            for pairs in by_week.values():
                if len(pairs) > volunteer.max_shifts_per_week:
                    f.add_row(pairs, [1] * len(pairs), 0, volunteer.max_shifts_per_week)
                lengths = [int(index.s_length[index.pair_shift[p]]) for p in pairs]
                if sum(lengths) > volunteer.max_minutes_per_week:
                    f.add_row(pairs, lengths, 0, volunteer.max_minutes_per_week)


# --------------------------------------------------------------------------- soft terms
class Fairness:
    """Load in proportion to what people offered: each shift a person works above their fair
    share (``ProblemIndex._fairness``) costs ``fairness_over``, and the largest such excess costs
    ``fairness_max`` more, so nobody is far above their share."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        weights = index.problem.weights
        excesses = []
        for v, volunteer in enumerate(index.volunteers):
            pairs = index.volunteer_pairs[v]
            allowance = int(index.fairness_allowance[v])
            most = min(len(pairs), volunteer.max_shifts_per_week * len(index.weeks))
            if most <= allowance:
                continue  # can never exceed the share
            load = f.new_sum(pairs, upper=most)
            f.load_var[v] = load
            excess = f.new_excess("fairness", weights.fairness_over, [([load], [1], -allowance)], upper=most - allowance)
            f.excess_var[v] = excess
            excesses.append(excess)
        if excesses and weights.fairness_max:
            upper = max(f.upper[e] for e in excesses)
            f.new_excess("fairness", weights.fairness_max, [([e], [1], 0) for e in excesses], upper=upper)


class PreferencesAndDistance:
    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        costs = index.pair_costs()
        nonzero = np.flatnonzero(costs)
        term = f.costs["preferences_distance"]
        for p, cost in zip(nonzero.tolist(), costs[nonzero].tolist()):
            term[p] = term.get(p, 0) + cost


class Continuity:
    """Each distinct person at a place and slot in an ISO week costs ``continuity``, so the same
    escorts come back to the same crossing and children know them.

    Counting distinct people is weak in the LP relaxation: it can spread one person over five
    days at 0.2 each and pay a fifth. Per person we add the valid inequality
        distinct places-and-slots + excess over fair share >= shifts worked - (fair share - 1)
    (someone who works at all has at least one; beyond the fair share, every shift is excess),
    which stops that for everyone whose fair share is one shift, most people in a district.
    """

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        weight = index.problem.weights.continuity
        if not weight or not f.num_pairs:
            return
        # group the pairs by (volunteer, place, slot, week) with one sort over integer keys
        code_of: dict[tuple, int] = {}
        shift_code = np.array([code_of.setdefault((s.place, s.slot, index.s_week[j]), len(code_of)) for j, s in enumerate(index.shifts)], dtype=np.int64)
        keys = index.pair_volunteer * len(code_of) + shift_code[index.pair_shift]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        single = sizes == 1
        # a single pair counts once on both sides of the per-person inequality: cost on the pair
        singles = order[starts[single]]
        f.costs["continuity"].update(zip(singles.tolist(), [weight] * len(singles)))
        distinct_of: dict[int, list[int]] = defaultdict(list)  # per volunteer, their "distinct" vars
        repeated_pairs: dict[int, list[int]] = defaultdict(list)  # pairs in groups of two or more
        owners = index.pair_volunteer.tolist()
        order_list = order.tolist()
        weekly = [max(v.max_shifts_per_week, 1) for v in index.volunteers]
        # z = 1 if any pair of the group is chosen, as one row sum(pairs) <= most * z: short for
        # the LP (the per-person inequality below does the tightening). Written in bulk.
        cost = f.costs["continuity"]
        neg_inf = float("-inf")
        for first, size in zip(starts[~single].tolist(), sizes[~single].tolist()):
            pairs = order_list[first : first + size]
            v = owners[pairs[0]]
            z = len(f.lower)
            f.lower.append(0)
            f.upper.append(1)
            most = min(size, weekly[v])
            f.rows.append((pairs + [z], [1] * size + [-most], neg_inf, 0))
            f.definitions.append(AuxDefinition(z, "any", 0, [(pairs, [], 0)]))
            cost[z] = weight
            distinct_of[v].append(z)
            repeated_pairs[v] += pairs
        for v, distinct in distinct_of.items():
            low = 1 - int(index.fairness_allowance[v])
            if v in f.excess_var:
                # shifts in repeated groups = load - shifts in single groups
                singles_of_v = sorted(set(index.volunteer_pairs[v]) - set(repeated_pairs[v]))
                variables = distinct + [f.excess_var[v], f.load_var[v]] + singles_of_v
                coefficients = [1] * (len(distinct) + 1) + [-1] + [1] * len(singles_of_v)
            else:
                variables = distinct + repeated_pairs[v]
                coefficients = [1] * len(distinct) + [-1] * len(repeated_pairs[v])
            f.add_row(variables, coefficients, low, float("inf"))


class TeamsTogether:
    """A team split over several team activities on one day costs ``team_split`` per extra
    activity: y(team, shift) = any member there; cost = sum of y - min(1, sum of y) per day."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        weight = index.problem.weights.team_split
        if not weight:
            return
        members_on: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for p, (v, j) in enumerate(zip(index.pair_volunteer.tolist(), index.pair_shift.tolist())):
            team = index.volunteers[v].team
            if team and index.shifts[j].team_activity:
                members_on[(team, index.s_day[j])][j].append(p)
        for by_shift in members_on.values():
            if len(by_shift) < 2:
                continue  # only one activity that day: the team cannot be split
            present = []
            for pairs in by_shift.values():
                if len(pairs) == 1:
                    present.append(pairs[0])
                    f.add_cost("team_split", pairs[0], weight)
                else:
                    present.append(f.new_excess("team_split", weight, [([p], [1], 0) for p in pairs], upper=1))
            f.new_count_capped("team_split", -weight, present, cap=1)


class Stability:
    """When re-solving, each assignment added or removed against the published schedule costs
    ``stability``: cost = W * (published pairs dropped + new pairs)."""

    def apply(self, f: Formulation, index: ProblemIndex) -> None:
        weight = index.problem.weights.stability
        published = [a for a in index.problem.published if a.shift_id in index.shift_number]
        if not published or not weight:
            return
        kept = set()
        for a in published:
            f.offsets["stability"] += weight
            pair = index.pair_of.get((index.volunteer_number[a.volunteer_id], index.shift_number[a.shift_id]))
            if pair is not None:
                kept.add(pair)
        for p in range(f.num_pairs):
            f.add_cost("stability", p, -weight if p in kept else weight)


STANDARD_RULES: tuple[Rule, ...] = (
    FixedAssignments(),
    RequiredSkills(),
    Seats(),
    NoClashes(),
    WeeklyLimits(),
    Fairness(),
    PreferencesAndDistance(),
    Continuity(),
    TeamsTogether(),
    Stability(),
)


def build(index: ProblemIndex, extra_rules: tuple[Rule, ...] = ()) -> Formulation:
    formulation = Formulation(num_pairs=len(index.pair_volunteer))
    for rule in STANDARD_RULES + tuple(extra_rules):
        rule.apply(formulation, index)
    return formulation
