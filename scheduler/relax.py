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
    big = 0
    if fixed:
        big = int(np.abs(pair_cost).sum()) + sum((weights.below_min + weights.below_ideal) * s.priority * s.max_seats for s in index.shifts) + 1

    # Nodes: 0 source, 1 sink, then volunteers, shifts, lead seats, overlap groups. Arcs are
    # written in numpy blocks.
    source, sink = 0, 1
    vol_node = 2 + np.arange(n_vol, dtype=np.int64)
    shift_node = 2 + n_vol + np.arange(n_shifts, dtype=np.int64)
    next_node = 2 + n_vol + n_shifts
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    arcs_so_far = 0

    def add(tails, heads, caps, costs) -> int:
        """Append a block of arcs; returns the number of the block's first arc."""
        nonlocal arcs_so_far
        tails = np.asarray(tails, dtype=np.int64)
        count = len(tails)
        blocks.append((tails, np.broadcast_to(np.asarray(heads, dtype=np.int64), count), np.broadcast_to(np.asarray(caps, dtype=np.int64), count), np.broadcast_to(np.asarray(costs, dtype=np.int64), count)))
        first = arcs_so_far
        arcs_so_far += count
        return first

    # A staffed shift with required skills has at least one person with one of them: that person
    # takes the first seat through the shift's lead node, everyone else the other seats.
    lead_node = np.full(n_shifts, -1, dtype=np.int64)
    required_bits = np.zeros(n_shifts, dtype=object if index.v_skills.dtype == object else np.int64)
    for j, shift in enumerate(index.shifts):
        if shift.required_skills and not unstaffable[j] and shift.max_seats > 0:
            lead_node[j] = next_node
            next_node += 1
            required_bits[j] = sum(index.skill_bit[skill] for skill in shift.required_skills)

    # Per person: at most their weekly limit over the period; the convex envelope of continuity
    # and fairness as the cost of each unit of load.
    weeks = max(1, len(index.weeks))
    pairs = np.flatnonzero(usable)
    owners = index.pair_volunteer[pairs]
    count = np.bincount(owners, minlength=n_vol)
    limits = np.array([v.max_shifts_per_week for v in index.volunteers], dtype=np.int64) * weeks
    most = np.minimum(count, limits)
    active = most > 0
    share = np.maximum(1, np.minimum(index.fairness_allowance.astype(np.int64), most))
    people = np.flatnonzero(active)
    add(np.full(len(people), source), vol_node[people], share[people], (SCALE * weights.continuity) // share[people])
    over = people[most[people] > share[people]]
    over_first = add(np.full(len(over), source), vol_node[over], most[over] - share[over], SCALE * weights.fairness_over)
    over_arcs = np.arange(over_first, over_first + len(over))
    total_supply = int(most[people].sum())

    # Per person, at most one shift of each group of shifts that all overlap in time.
    keep = active[owners]
    pairs, owners = pairs[keep], owners[keep]
    shifts_of = index.pair_shift[pairs]
    # each person's possible shifts, by start, cut into runs that share a common moment
    order = np.lexsort((index.s_start[shifts_of], owners))
    owner_list = owners[order].tolist()
    start_list = index.s_start[shifts_of[order]].tolist()
    end_list = index.s_end[shifts_of[order]].tolist()
    run_of_sorted = [0] * len(order)
    run, previous, run_end = -1, -1, 0
    for k, (owner, begin, finish) in enumerate(zip(owner_list, start_list, end_list)):
        if owner != previous or begin >= run_end:
            run, previous, run_end = run + 1, owner, finish
        else:
            run_end = min(run_end, finish)
        run_of_sorted[k] = run
    group_of_pair = np.zeros(len(order), dtype=np.int64)
    group_of_pair[order] = run_of_sorted
    group_size = np.bincount(group_of_pair, minlength=run + 1)
    skills = index.v_skills.astype(np.int64) if index.v_skills.dtype != object else None
    if skills is None:  # more than 62 skills: Python ints
        has_lead = np.array([lead_node[j] >= 0 and (index.v_skills[v] & int(required_bits[j])) != 0 for v, j in zip(owners.tolist(), shifts_of.tolist())], dtype=bool)
    else:
        has_lead = (lead_node[shifts_of] >= 0) & ((skills[owners] & required_bits[shifts_of]) != 0)
    group_leads = np.bincount(group_of_pair, weights=has_lead, minlength=len(group_size)) > 0
    needs_node = (group_size > 1) | group_leads
    group_node = np.full(len(group_size), -1, dtype=np.int64)
    group_node[needs_node] = next_node + np.arange(int(needs_node.sum()))
    next_node += int(needs_node.sum())
    group_owner = np.zeros(len(group_size), dtype=np.int64)
    group_owner[group_of_pair] = owners
    add(vol_node[group_owner[needs_node]], group_node[needs_node], 1, 0)
    tails = np.where(needs_node[group_of_pair], group_node[group_of_pair], vol_node[owners])
    is_fixed = np.zeros(n_pairs, dtype=bool)
    is_fixed[fixed] = True
    cost = SCALE * pair_cost[pairs] - np.where(is_fixed[pairs], SCALE * big, 0)
    pair_arc = np.full(n_pairs, -1, dtype=np.int64)
    lead_arc = np.full(n_pairs, -1, dtype=np.int64)
    first = add(tails, shift_node[shifts_of], 1, cost)
    pair_arc[pairs] = first + np.arange(len(pairs))
    first = add(tails[has_lead], lead_node[shifts_of[has_lead]], 1, cost[has_lead])
    lead_arc[pairs[has_lead]] = first + np.arange(int(has_lead.sum()))

    # Per shift, its seats, with the reward of filling each.
    seat_tails, seat_caps, seat_costs = [], [], []
    for j, shift in enumerate(index.shifts):
        full_shortfall = (weights.below_min * shift.min_seats + weights.below_ideal * shift.ideal_seats) * shift.priority
        offset += full_shortfall
        if unstaffable[j]:
            continue

        def reward(k: int) -> int:  # of seat k (1-based): filling it removes that much shortfall
            return ((weights.below_min if k <= shift.min_seats else 0) + (weights.below_ideal if k <= shift.ideal_seats else 0)) * shift.priority

        first_seat = 1
        if lead_node[j] >= 0:
            seat_tails.append(int(lead_node[j]))
            seat_caps.append(1)
            seat_costs.append(-SCALE * reward(1))
            first_seat = 2
        # seats first_seat..max in runs of equal reward (rewards only fall as seats fill)
        k = first_seat
        while k <= shift.max_seats:
            end = k
            while end + 1 <= shift.max_seats and reward(end + 1) == reward(k):
                end += 1
            seat_tails.append(int(shift_node[j]))
            seat_caps.append(end - k + 1)
            seat_costs.append(-SCALE * reward(k))
            k = end + 1
    add(seat_tails, sink, seat_caps, seat_costs)
    # No more can flow than there are seats; the rest of the supply stays home (the direct arc).
    seats = sum(s.max_seats for j, s in enumerate(index.shifts) if not unstaffable[j])
    supply = max(1, min(total_supply, seats))
    add([source], sink, supply, 0)
    tails_all = np.concatenate([b[0] for b in blocks]).astype(np.int32)
    heads_all = np.concatenate([b[1] for b in blocks]).astype(np.int32)
    caps_all = np.concatenate([b[2] for b in blocks]).astype(np.int64)
    costs_all = np.concatenate([b[3] for b in blocks]).astype(np.int64)

    def run(capacities: np.ndarray) -> tuple[int, min_cost_flow.SimpleMinCostFlow]:
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tails_all, heads_all, capacities, costs_all)
        flow.set_nodes_supplies(np.array([source, sink], dtype=np.int32), np.array([supply, -supply], dtype=np.int64))
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"flow relaxation failed with status {status}")
        scaled = int(flow.optimal_cost()) + SCALE * big * len(fixed) + SCALE * offset
        return -((-scaled) // SCALE), flow  # ceiling

    bound, flow = run(caps_all)
    if weights.fairness_max and len(over_arcs) and flow.flows(over_arcs).any():
        # The flow put someone above their fair share, which the largest-excess term (dropped
        # above) would charge. Every schedule either keeps everyone within their share (so it
        # costs at least the flow without the over-share arcs) or has an excess of at least one
        # (so it costs at least the first flow plus fairness_max): the smaller of the two bounds
        # them all.
        within = caps_all.copy()
        within[over_arcs] = 0
        bound_within, _ = run(within)
        bound = min(bound_within, bound + weights.fairness_max)
    values = np.zeros(n_pairs, dtype=np.int64)
    routed = np.flatnonzero(pair_arc >= 0)
    if len(routed):
        values[routed] = flow.flows(pair_arc[routed])
    led = np.flatnonzero(lead_arc >= 0)
    if len(led):
        values[led] += flow.flows(lead_arc[led])
    return FlowRelaxation(bound=int(bound), pair_values=values)
