"""Solve the same Formulation through OR-Tools' linear-solver wrapper with a bundled MIP solver.

SCIP is bundled with the ortools wheel (CBC and HiGHS too); SCIP is the default. There is no
per-solution callback in this wrapper, so only the final answer is reported.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.linear_solver import pywraplp

from scheduler.cpsat import SolverOutcome
from scheduler.formulation import Formulation
from scheduler.model import SolveOptions

STATUS_NAMES = {
    pywraplp.Solver.OPTIMAL: "OPTIMAL",
    pywraplp.Solver.FEASIBLE: "FEASIBLE",
    pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
    pywraplp.Solver.UNBOUNDED: "UNBOUNDED",
    pywraplp.Solver.ABNORMAL: "ABNORMAL",
    pywraplp.Solver.MODEL_INVALID: "MODEL_INVALID",
    pywraplp.Solver.NOT_SOLVED: "UNKNOWN",
}


class MipModel:
    """The formulation in the linear-solver wrapper, ready to solve."""

    def __init__(self, formulation: Formulation, backend: str = "SCIP"):
        solver = pywraplp.Solver.CreateSolver(backend)
        if solver is None:
            raise RuntimeError(f"MIP backend {backend} is not available in this ortools build")
        self.backend = backend
        self.solver = solver
        self.formulation = formulation
        infinity = solver.infinity()
        self.variables = [solver.IntVar(lo, hi, f"v{k}") for k, (lo, hi) in enumerate(zip(formulation.lower, formulation.upper))]
        variables = self.variables
        for row_vars, coefficients, low, high in formulation.rows:
            row = solver.RowConstraint(max(low, -infinity), min(high, infinity), "")
            for v, c in zip(row_vars, coefficients):
                row.SetCoefficient(variables[v], c)
        for group in formulation.at_most_one:
            row = solver.RowConstraint(-infinity, 1, "")
            for v in group:
                row.SetCoefficient(variables[v], 1)
        coefficients, offset = formulation.objective_vector()
        self.objective = solver.Objective()
        for v in np.flatnonzero(coefficients).tolist():
            self.objective.SetCoefficient(variables[v], int(coefficients[v]))
        self.objective.SetOffset(offset)
        self.objective.SetMinimization()

    def add_hint(self, values: np.ndarray) -> None:
        self.solver.SetHint(self.variables, [float(h) for h in values.tolist()])


def solve(mip: MipModel, options: SolveOptions) -> SolverOutcome:
    # SolveOptions.stop is honoured only before this call (solve.py skips the solver when it is
    # set). Once SCIP runs, a stop request does not cut it short: it runs to its time or gap limit.
    # (MPSolver.InterruptSolve reports success on a district model but SCIP kept running until
    # its limit in our trial, so it is not used.)
    solver = mip.solver
    solver.SetTimeLimit(int(options.time_limit_s * 1000))
    solver.SetNumThreads(max(1, options.workers))
    if mip.backend == "SCIP":
        solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {options.seed}\n")
    if options.log:
        solver.EnableOutput()
    parameters = pywraplp.MPSolverParameters()
    if options.relative_gap > 0:
        parameters.SetDoubleParam(parameters.RELATIVE_MIP_GAP, options.relative_gap)
    started = time.perf_counter()
    status = solver.Solve(parameters)
    solve_s = time.perf_counter() - started
    has_solution = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    pair_values = None
    if has_solution:
        pair_values = np.array([round(mip.variables[p].solution_value()) for p in range(mip.formulation.num_pairs)], dtype=np.int64)
    return SolverOutcome(
        status=STATUS_NAMES.get(status, str(status)),
        pair_values=pair_values,
        bound=_bound(mip.objective.BestBound()) if has_solution else None,
        solutions_found=1 if has_solution else 0,
        first_solution_s=None,
        solve_s=solve_s,
    )


def _bound(value: float) -> float | None:
    """The solver's best bound, or None when it has none yet (SCIP reports -1e20 then)."""
    return None if not abs(value) < 1e18 else value
