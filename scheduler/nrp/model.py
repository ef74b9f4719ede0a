"""CP-SAT model of a Curtois-Qu instance, built from the engine's rule builders.

One Boolean per (person, day, shift type) that the person may work. The model can be built over a
*neighbourhood*: only the listed (person, day) cells are decisions, every other cell is fixed to the
current roster and folded into constants. The full model is the neighbourhood of all cells. Hard
rules are posted only for people with at least one free cell (a fixed person's rows are assumed to
satisfy them already), and the objective always counts the whole roster, so a sub-model's objective
value is the objective of the complete roster it describes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler import rules
from scheduler.nrp.instance import Instance, Roster, Staff

Cell = tuple[int, int]  # (person index, day)


@dataclass
class NrpModel:
    model: cp_model.CpModel
    shift_vars: dict[tuple[int, int, str], cp_model.IntVar]  # (person index, day, shift id) -> "works it"
    free_cells: set[Cell]
    objective: cp_model.LinearExpr


@dataclass
class SolveResult:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, MODEL_INVALID
    roster: Roster | None  # complete roster (fixed part + solved part) when a solution was found
    objective: int | None
    bound: float | None
    wall_s: float
    stats: dict = field(default_factory=dict)


def all_cells(instance: Instance) -> set[Cell]:
    return {(p, d) for p in range(len(instance.staff)) for d in range(instance.horizon)}


def add_person_rules(instance: Instance, model: cp_model.CpModel, person: Staff, shifts_by_day: rules.ShiftsByDay) -> None:
    """Every hard rule of the benchmark for one person's row."""
    worked = rules.add_one_shift_per_day(model, shifts_by_day, name=person.id)
    rules.add_forbidden_successions(model, shifts_by_day, {shift.id: shift.forbidden_next for shift in instance.shifts})
    shift_ids = set(instance.shift_ids)
    binding_counts = {t: n for t, n in person.max_shifts.items() if 0 < n < instance.horizon and t in shift_ids}
    rules.add_max_count_per_kind(model, shifts_by_day, binding_counts)
    rules.add_total_minutes_bounds(
        model, shifts_by_day, instance.minutes_by_shift, person.min_total_minutes, person.max_total_minutes
    )
    rules.add_max_consecutive_days(model, worked, person.max_consecutive_shifts)
    rules.add_min_run_length(model, worked, person.min_consecutive_shifts, exempt_boundary=True)
    rules.add_min_run_length(model, [rules.negate(w) for w in worked], person.min_consecutive_days_off, exempt_boundary=True)
    rules.add_max_weekends(model, worked, person.max_weekends, first_weekday=0, name=person.id)


def build_model(
    instance: Instance,
    free_cells: Iterable[Cell] | None = None,
    roster: Roster | None = None,
    kinds: dict[int, set[str]] | None = None,
) -> NrpModel:
    """Model with ``free_cells`` as decisions (None: all) and the other cells fixed to ``roster``.

    ``kinds`` (person index -> shift types) narrows the types a person's free cells may take: a
    smaller model whose solutions are solutions of the whole one."""
    roster = roster or {}
    free = all_cells(instance) if free_cells is None else set(free_cells)
    model = cp_model.CpModel()
    person_index = {person.id: p for p, person in enumerate(instance.staff)}

    shift_vars: dict[tuple[int, int, str], cp_model.IntVar] = {}
    free_people = sorted({p for p, _ in free})
    # shifts_by_day for every person, built lazily: only free people and requests need them.
    grids: dict[int, list[dict[str, rules.Literal]]] = {}

    def grid(p: int) -> list[dict[str, rules.Literal]]:
        if p not in grids:
            person = instance.staff[p]
            rows: list[dict[str, rules.Literal]] = []
            for d in range(instance.horizon):
                if (p, d) in free:
                    cell = {}
                    for t in instance.allowed_shifts(person, d):
                        if kinds is not None and p in kinds and t not in kinds[p]:
                            continue
                        var = model.new_bool_var(f"x_{person.id}_{d}_{t}")
                        shift_vars[(p, d, t)] = var
                        cell[t] = var
                    rows.append(cell)
                else:
                    worked = roster.get((person.id, d))
                    rows.append({worked: True} if worked else {})
            grids[p] = rows
        return grids[p]

    for p in free_people:
        add_person_rules(instance, model, instance.staff[p], grid(p))

    costs: list = []
    constant = 0
    for kind, requests in (("on", instance.on_requests), ("off", instance.off_requests)):
        for request in requests:
            p = person_index[request.employee]
            if (p, request.day) in free:
                shifts_by_day = grid(p)
            else:
                worked = roster.get((request.employee, request.day))
                shifts_by_day = {request.day: {worked: True} if worked else {}}
            cost_of = rules.shift_on_request_cost if kind == "on" else rules.shift_off_request_cost
            cost = cost_of(shifts_by_day, request.day, request.shift, request.weight)
            if isinstance(cost, int):
                constant += cost
            else:
                costs.append(cost)

    # Cover: fixed cells contribute a count, free cells their variables.
    fixed_count: dict[tuple[int, str], int] = {}
    for (employee, day), shift in roster.items():
        if (person_index[employee], day) not in free:
            fixed_count[(day, shift)] = fixed_count.get((day, shift), 0) + 1
    decisions: dict[tuple[int, str], list] = {}
    for (p, d, t), var in shift_vars.items():
        decisions.setdefault((d, t), []).append(var)
    for cover in instance.cover:
        key = (cover.day, cover.shift)
        assigned = [True] * fixed_count.get(key, 0) + decisions.get(key, [])
        cost = rules.add_coverage_cost(
            model, assigned, cover.requirement, cover.weight_under, cover.weight_over, name=f"{cover.day}_{cover.shift}"
        )
        if isinstance(cost, int):
            constant += cost
        else:
            costs.append(cost)

    objective = sum(costs) + constant
    model.minimize(objective)
    return NrpModel(model=model, shift_vars=shift_vars, free_cells=free, objective=objective)


def cover_counts(roster: Roster) -> dict[tuple[int, str], int]:
    """(day, shift type) -> how many people the roster puts on it."""
    counts: dict[tuple[int, str], int] = {}
    for (_, day), shift in roster.items():
        counts[(day, shift)] = counts.get((day, shift), 0) + 1
    return counts


def roster_objective(instance: Instance, roster: Roster) -> int:
    """The benchmark objective of a complete roster, from the instance's data (hard rules not checked).

    The search uses it to compare rosters; it does not depend on the solver's own objective value.
    """
    cost = 0
    for request in instance.on_requests:
        if roster.get((request.employee, request.day)) != request.shift:
            cost += request.weight
    for request in instance.off_requests:
        if roster.get((request.employee, request.day)) == request.shift:
            cost += request.weight
    counts = cover_counts(roster)
    for cover in instance.cover:
        assigned = counts.get((cover.day, cover.shift), 0)
        cost += cover.weight_under * max(0, cover.requirement - assigned) + cover.weight_over * max(0, assigned - cover.requirement)
    return cost


_STATUS_NAMES = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.UNKNOWN: "UNKNOWN",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
}


def add_hint(instance: Instance, nrp_model: NrpModel, roster: Roster, complete_within: float = 1.0) -> bool:
    """Hint ``roster`` to the model; returns whether the hint is complete.

    The roster gives the shift variables only. When every variable is hinted (the working-day,
    weekend, shortfall and excess variables too) CP-SAT starts from that solution at once; with only
    the shift variables hinted it must complete the rest within its small hint conflict limit, and
    on Instance13 neighbourhoods of 300 cells it often did not, ending UNKNOWN after its whole time
    (measured: targeted neighbourhoods of 100 cells, 30 s, 39 -> 54 sub-solves and 15 -> 39 proved
    optimal with the complete hint). So the model is copied with the shift variables fixed to the
    roster, that copy solved (propagation alone decides the rest), and its solution hinted. Should the
    copy find nothing within ``complete_within`` seconds, the shift variables alone are hinted.
    """
    values = {var.index: int(roster.get((instance.staff[p].id, d)) == t) for (p, d, t), var in nrp_model.shift_vars.items()}
    fixed = nrp_model.model.clone()
    fixed.clear_hints()
    for index, value in values.items():
        domain = fixed.proto.variables[index].domain  # a Boolean's domain is [0, 1]
        domain[0] = domain[1] = value
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = complete_within
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(fixed)
    nrp_model.model.clear_hints()
    hint = nrp_model.model.proto.solution_hint
    complete = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    pairs = enumerate(solver.response_proto.solution) if complete else values.items()
    for index, value in pairs:
        hint.vars.append(index)
        hint.values.append(value)
    return complete


def solve(
    instance: Instance,
    nrp_model: NrpModel,
    roster: Roster | None,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    hint: Roster | None = None,
    log: bool = False,
    stop_after_first: bool = False,
    parameters: dict | None = None,
) -> SolveResult:
    """Solve a (sub-)model; the returned roster is ``roster`` outside the free cells plus the solution."""
    if hint is not None:
        add_hint(instance, nrp_model, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log
    if stop_after_first:
        solver.parameters.stop_after_first_solution = True
    for key, value in (parameters or {}).items():
        setattr(solver.parameters, key, value)
    started = time.monotonic()
    status = solver.solve(nrp_model.model)
    wall = time.monotonic() - started
    name = _STATUS_NAMES.get(status, str(status))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SolveResult(name, None, None, None, wall)
    free = nrp_model.free_cells
    index = {person.id: p for p, person in enumerate(instance.staff)}
    result: Roster = {
        (employee, day): shift for (employee, day), shift in (roster or {}).items() if (index[employee], day) not in free
    }
    for (p, d, t), var in nrp_model.shift_vars.items():
        if solver.boolean_value(var):
            result[(instance.staff[p].id, d)] = t
    return SolveResult(
        name,
        result,
        # Evaluated on the returned solution: with several workers the response's objective_value has
        # been seen to disagree with the solution it came with (9.15, time limit reached).
        int(solver.value(nrp_model.objective)),
        solver.best_objective_bound,
        wall,
        stats={"conflicts": solver.num_conflicts, "branches": solver.num_branches},
    )
