"""Solve a Formulation with OR-Tools CP-SAT.

The model is written straight into CP-SAT's protocol buffer (``CpModel.proto``) from the
formulation's lists, rather than through ``model.add(expression)``: on a district week (283,000
variables, 165,000 constraints) that is about three times faster, and it is the same model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from scheduler.formulation import Formulation
from scheduler.model import Progress, SolveOptions

# CP-SAT's integer domains are int64; "no bound" on a row is written as a huge finite value.
_INF = 2**62


@dataclass
class SolverOutcome:
    status: str
    pair_values: np.ndarray | None  # None when no solution was found
    bound: float | None
    solutions_found: int = 0
    first_solution_s: float | None = None  # from clock_start (see solve)
    solve_s: float = 0.0
    translate_s: float = 0.0
    history: list[tuple[float, float, float]] = field(default_factory=list)  # (elapsed, objective, bound)
    stopped: bool = False  # cut short by SolveOptions.stop


def translate(formulation: Formulation) -> cp_model.CpModel:
    """The formulation as a CP-SAT model; variable k of the model is variable k of the formulation."""
    model = cp_model.CpModel()
    proto = model.proto
    variables = proto.variables
    for lower, upper in zip(formulation.lower, formulation.upper):
        variables.add().domain.extend((lower, upper))
    constraints = proto.constraints
    for row_vars, coefficients, low, high in formulation.rows:
        linear = constraints.add().linear
        linear.vars.extend(row_vars)
        linear.coeffs.extend(coefficients)
        linear.domain.extend((-_INF if low == float("-inf") else int(low), _INF if high == float("inf") else int(high)))
    for group in formulation.at_most_one:
        constraints.add().at_most_one.literals.extend(group)
    coefficients, offset = formulation.objective_vector()
    nonzero = np.flatnonzero(coefficients)
    proto.objective.vars.extend(nonzero.tolist())
    proto.objective.coeffs.extend(coefficients[nonzero].tolist())
    proto.objective.offset = float(offset)
    return model


def add_hint(model: cp_model.CpModel, values: np.ndarray) -> None:
    """A complete starting solution (every variable, auxiliary ones included)."""
    model.proto.solution_hint.vars.extend(range(len(values)))
    model.proto.solution_hint.values.extend(values.tolist())


# Above this many variables the solver runs only large-neighbourhood search around the start
# schedule (see configure).
LNS_ONLY_VARIABLES = 100_000


def configure(solver: cp_model.CpSolver, options: SolveOptions, num_vars: int = 0) -> None:
    parameters = solver.parameters
    parameters.num_workers = max(1, options.workers)
    parameters.random_seed = options.seed
    parameters.max_time_in_seconds = options.time_limit_s
    parameters.relative_gap_limit = options.relative_gap
    parameters.log_search_progress = options.log
    # Tuned on the district week (283k variables, 2 workers): one light presolve pass instead of
    # several heavy ones, and the whole root LP at once rather than rows added lazily.
    parameters.max_presolve_iterations = 1
    parameters.cp_model_probing_level = 0
    parameters.symmetry_level = 0
    parameters.add_lp_constraints_lazily = False
    parameters.root_lp_iterations = 200_000
    if options.deterministic_time is not None:
        # Interleaved search runs the workers in fixed batches, so with a deterministic-time
        # limit the whole run, and its answer, repeat for the same seed and worker count.
        parameters.max_deterministic_time = options.deterministic_time
        parameters.interleave_search = True
    if num_vars <= LNS_ONLY_VARIABLES:
        # Smaller models: a full-problem worker with the complete linear relaxation
        # (linearization level 2, CP-SAT's max_lp) proves the bound. With two workers CP-SAT's
        # portfolio has one full-problem worker, default_lp (level 1), the other running LNS,
        # which improves the objective but not the bound: on a generated 50-volunteer district
        # (2 schools) the bound stayed 36% below the objective after 5 s while SCIP proved the
        # optimum in 0.2 s. With level 2 CP-SAT proves it in about 0.3 s. So with one worker
        # that worker runs level 2, with two both default_lp and max_lp are full workers (LNS
        # shares their time); from three workers on CP-SAT's own portfolio already brings
        # workers that close the bound.
        if options.workers <= 1:
            parameters.linearization_level = 2
        elif options.workers == 2:
            parameters.num_full_subsolvers = 2
            parameters.subsolvers.extend(["default_lp", "max_lp"])
    else:
        # On a district week (283k variables, 2 workers) the full-problem worker holds its own
        # copy of the whole model with its LP (about 600 MB, a third of the peak memory), its root
        # LP does not finish within a minute, and its bound stays far below the flow bound; the
        # improvements come from LNS around the hint. So on models this large both workers run
        # LNS: less memory and a better objective at the limit.
        parameters.use_lns_only = True


class _ProgressRecorder(cp_model.CpSolverSolutionCallback):
    """Counts improving solutions, keeps their times, and forwards each to the caller's callable."""

    def __init__(self, started: float, below_min_vars: list, missing_constant: int, min_seats_total: int, progress, outer_bound: float, gap_limit: float, stop: threading.Event | None = None):
        super().__init__()
        self.stop = stop
        self.stopped = False
        self.outer_bound = outer_bound
        self.gap_limit = gap_limit
        self.started = started
        self.below_min_vars = below_min_vars
        self.missing_constant = missing_constant
        self.min_seats_total = min_seats_total
        self.progress = progress
        self.count = 0
        self.first_s: float | None = None
        self.history: list[tuple[float, float, float]] = []

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.started
        self.count += 1
        if self.first_s is None:
            self.first_s = elapsed
        objective = self.objective_value
        bound = max(self.best_objective_bound, self.outer_bound)
        self.history.append((elapsed, objective, bound))
        if self.progress is not None:
            missing = self.missing_constant + sum(self.value(v) for v in self.below_min_vars)
            coverage = 1.0 - missing / self.min_seats_total if self.min_seats_total else 1.0
            self.progress(Progress(objective=objective, bound=bound, coverage_min=coverage, elapsed_s=elapsed, source="cpsat"))
        if self.gap_limit > 0 and objective - bound <= self.gap_limit * max(1.0, abs(objective)):
            self.stop_search()  # within the gap limit of a bound CP-SAT does not know about
        elif self.stop is not None and self.stop.is_set():
            self.stopped = True
            self.stop_search()  # the watcher does this too; here it costs nothing


def solve(
    model: cp_model.CpModel,
    formulation: Formulation,
    options: SolveOptions,
    min_seats_total: int,
    missing_constant: int,
    clock_start: float,
    outer_bound: float = float("-inf"),
) -> SolverOutcome:
    """Run CP-SAT on a translated model. Progress times count from ``clock_start``; bounds
    reported to progress are the better of CP-SAT's and ``outer_bound`` (e.g. the flow bound)."""
    solver = cp_model.CpSolver()
    configure(solver, options, formulation.num_vars)
    below_min = [model.get_int_var_from_proto_index(v) for v in formulation.below_min_var.values()]
    recorder = _ProgressRecorder(clock_start, below_min, missing_constant, min_seats_total, options.progress, outer_bound, options.relative_gap, options.stop)
    finished = threading.Event()
    stopped = threading.Event()
    watcher = None
    if options.stop is not None:

        def watch() -> None:
            # Wait on the caller's event until the solve ends. Once it is set, ask CP-SAT to stop
            # (thread-safe) and keep asking every 0.1 s until the solve returns: a request made
            # just before the search has really started (stop_search is a no-op then) is not lost.
            while not finished.is_set():
                if options.stop.wait(0.1) and not finished.is_set():
                    stopped.set()
                    solver.stop_search()
                    finished.wait(0.1)

        watcher = threading.Thread(target=watch, name="cpsat-stop-watcher", daemon=True)
        watcher.start()
    started = time.perf_counter()
    try:
        status = solver.solve(model, recorder)
    finally:
        finished.set()
        if watcher is not None:
            watcher.join()
    solve_s = time.perf_counter() - started

    status_name = solver.status_name(status)
    has_solution = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    pair_values = None
    if has_solution:
        solution = np.asarray(solver.response_proto.solution, dtype=np.int64)
        pair_values = solution[: formulation.num_pairs]
    bound = solver.best_objective_bound if has_solution or status == cp_model.UNKNOWN else None
    return SolverOutcome(
        status=status_name,
        pair_values=pair_values,
        bound=bound,
        solutions_found=recorder.count,
        first_solution_s=recorder.first_s,
        solve_s=solve_s,
        history=recorder.history,
        stopped=stopped.is_set() or recorder.stopped,
    )
