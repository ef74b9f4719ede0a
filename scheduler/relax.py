"""A network-flow relaxation of the model: a proven lower bound in a second, and a near-optimal
starting schedule.

On a district week the CP-SAT model has a quarter of a million variables, and with two workers its
root LP does not finish within a minute. But the model is, at heart, a transportation problem
(people with a fair share of shifts, shifts with seats), and a min-cost flow solves that exactly
and fast. The flow network keeps:

* seats: per shift, the first ``min_seats`` seats earn (below_min + below_ideal) x priority, the
  seats up to ``ideal_seats`` earn below_ideal x priority, the rest up to ``max_seats`` nothing;
  the full shortfall is a constant, so filling a seat is a negative cost;
* per person, at most the shifts their weekly limit allows over the period, and at most one
  shift of each group of their possible shifts that overlap in time (overlap implies a clash);
* each pair's cost (distance, preferences, stability);
* per person, a convex lower envelope of continuity + fairness as a function of their load: the
  first shift opens at least one place-and-slot (``continuity``), shifts beyond the fair share each
  cost ``fairness_over``; below the fair share the continuity cost is spread evenly
  (``continuity / share`` a shift), which is never more than the true cost;
* fixed assignments, routed first (a large reward removed again from the total).

* required skills in part: the first seat of a shift with required skills can only be taken by
  someone with one of them (every staffed shift has such a person), and a shift that nobody with
  the skill can reach gets no flow at all.

It drops what a flow cannot say: the rest of required skills (people without the skill may take
the other seats of a shift without its lead), travel time between shifts that do not overlap, minute limits, the
per-week split of the shift limit, the largest-excess part of fairness, and teams. Every dropped
rule only lowers the minimum, and every kept cost is at most the true one, so the flow's optimum
is a lower bound of the model's optimum. Costs are scaled by ``SCALE`` and rounded down, and the
bound is rounded up to the next integer, which the optimum (an integer) is sure to reach.

The flow's assignment is usually close to feasible; ``greedy.coverage_first`` repairs it into a
schedule that keeps every hard rule, which the solver then starts from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from scheduler.eligibility import ProblemIndex

SCALE = 1000


@dataclass
class FlowRelaxation:
    bound: int  # proven lower bound of the objective
    pair_values: np.ndarray  # the flow's assignment (may break rules the flow does not see)


def _overlap_groups(starts: np.ndarray, ends: np.ndarray) -> list[list[int]]:
    """Split intervals into groups that share a common moment (so each group pairwise overlaps)."""
    order = np.argsort(starts, kind="stable").tolist()
    groups: list[list[int]] = []
    group_end = None
    for k in order:
        if groups and starts[k] < group_end:
            groups[-1].append(k)
            group_end = min(group_end, ends[k])
        else:
            groups.append([k])
            group_end = ends[k]
    return groups


def relax(index: ProblemIndex) -> FlowRelaxation:
    problem = index.problem
    weights = problem.weights
    n_pairs = len(index.pair_volunteer)
    n_vol = len(index.volunteers)
    n_shifts = len(index.shifts)
    offset = 0  # in objective units, unscaled

    # Shifts that cannot be staffed at all: their pairs carry no flow.
    unstaffable = np.zeros(n_shifts, dtype=bool)
    for j, shift in enumerate(index.shifts):
        for skill, needed in shift.required_skills.items():
            have = sum(1 for p in index.shift_pairs[j].tolist() if skill in index.volunteers[index.pair_volunteer[p]].skills)
            if have < needed:
                unstaffable[j] = True
    usable = ~unstaffable[index.pair_shift] if n_pairs else np.zeros(0, dtype=bool)

    pair_cost = index.pair_costs().astype(np.int64)
    if problem.published and weights.stability:
        published = [a for a in problem.published if a.shift_id in index.shift_number]
        offset += weights.stability * len(published)
        pair_cost = pair_cost + weights.stability
        for a in published:
            p = index.pair_of.get((index.volunteer_number[a.volunteer_id], index.shift_number[a.shift_id]))
            if p is not None:
                pair_cost[p] -= 2 * weights.stability

    fixed = index.fixed_pairs()
    fixed_set = set(fixed)
    big = 0
    if fixed:
        big = int(np.abs(pair_cost).sum()) + sum((weights.below_min + weights.below_ideal) * s.priority * s.max_seats for s in index.shifts) + 1

    # Nodes: 0 source, 1 sink, then volunteers, shifts, overlap groups.
    source, sink = 0, 1
    vol_node = 2 + np.arange(n_vol)
    shift_node = 2 + n_vol + np.arange(n_shifts)
    next_node = 2 + n_vol + n_shifts
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []

    def arc(tail: int, head: int, cap: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(cost)

    pair_arc = np.full(n_pairs, -1, dtype=np.int64)
    lead_arc = np.full(n_pairs, -1, dtype=np.int64)
    # A staffed shift with required skills has at least one person with one of them: that person
    # takes the first seat through the shift's lead node, everyone else the other seats.
    required = [frozenset(s.required_skills) for s in index.shifts]
    lead_node: dict[int, int] = {}
    for j, shift in enumerate(index.shifts):
        if shift.required_skills and not unstaffable[j] and shift.max_seats > 0:
            lead_node[j] = next_node
            next_node += 1
    weeks = max(1, len(index.weeks))
    total_supply = 0
    for v, volunteer in enumerate(index.volunteers):
        pairs = [p for p in index.volunteer_pairs[v] if usable[p]]
        if not pairs:
            continue
        most = min(len(pairs), volunteer.max_shifts_per_week * weeks)
        if most == 0:
            continue
        total_supply += most
        share = max(1, min(int(index.fairness_allowance[v]), most))
        arc(source, int(vol_node[v]), share, (SCALE * weights.continuity) // share)
        if most > share:
            arc(source, int(vol_node[v]), most - share, SCALE * weights.fairness_over)
        starts = index.s_start[index.pair_shift[pairs]]
        ends = index.s_end[index.pair_shift[pairs]]
        for group in _overlap_groups(starts, ends):
            leads = [lead_node.get(int(index.pair_shift[pairs[k]])) if volunteer.skills & required[int(index.pair_shift[pairs[k]])] else None for k in group]
            tail = int(vol_node[v])
            if len(group) > 1 or any(lead is not None for lead in leads):
                tail = next_node
                next_node += 1
                arc(int(vol_node[v]), tail, 1, 0)
            for k, lead in zip(group, leads):
                p = pairs[k]
                cost = SCALE * int(pair_cost[p]) - (SCALE * big if p in fixed_set else 0)
                pair_arc[p] = len(tails)
                arc(tail, int(shift_node[index.pair_shift[p]]), 1, cost)
                if lead is not None:
                    lead_arc[p] = len(tails)
                    arc(tail, lead, 1, cost)
    for j, shift in enumerate(index.shifts):
        full_shortfall = (weights.below_min * shift.min_seats + weights.below_ideal * shift.ideal_seats) * shift.priority
        offset += full_shortfall
        if unstaffable[j]:
            continue
        # reward of seat k (1-based): filling it removes that much shortfall
        def reward(k: int) -> int:
            return ((weights.below_min if k <= shift.min_seats else 0) + (weights.below_ideal if k <= shift.ideal_seats else 0)) * shift.priority

        first_seat = 1
        if j in lead_node:
            arc(lead_node[j], sink, 1, -SCALE * reward(1))
            first_seat = 2
        # seats first_seat..max in runs of equal reward (rewards only fall as seats fill)
        k = first_seat
        while k <= shift.max_seats:
            end = k
            while end + 1 <= shift.max_seats and reward(end + 1) == reward(k):
                end += 1
            arc(int(shift_node[j]), sink, end - k + 1, -SCALE * reward(k))
            k = end + 1
    # No more can flow than there are seats; the rest of the supply stays home (the direct arc).
    seats = sum(s.max_seats for j, s in enumerate(index.shifts) if not unstaffable[j])
    supply = max(1, min(total_supply, seats))
    arc(source, sink, supply, 0)

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32), np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64)
    )
    flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([supply, -supply], dtype=np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"flow relaxation failed with status {status}")
    scaled = int(flow.optimal_cost()) + SCALE * big * len(fixed) + SCALE * offset
    bound = -((-scaled) // SCALE)  # ceiling
    values = np.zeros(n_pairs, dtype=np.int64)
    routed = np.flatnonzero(pair_arc >= 0)
    if len(routed):
        values[routed] = flow.flows(pair_arc[routed])
    led = np.flatnonzero(lead_arc >= 0)
    if len(led):
        values[led] += flow.flows(lead_arc[led])
    return FlowRelaxation(bound=int(bound), pair_values=values)
