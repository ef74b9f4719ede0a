"""The one entry point: ``solve(problem, options) -> Result`` for every method.

Timeline of a CP-SAT or MIP solve, as reported in the Result:

1. build (``build_s``): validate and index the problem, prune to the possible pairs, write the
   model (``formulation.build``) and translate it into the solver's form;
2. first feasible schedule (``first_solution_s``, counted from the end of the build): the
   coverage-first greedy schedule, which keeps every hard rule (progress source "greedy");
3. the flow relaxation (``relax.py``): a proven lower bound, and its assignment repaired by the same
   greedy into a usually better schedule (``hint_s``, progress source "hint"); the better of the
   two is handed to the solver as a complete hint, so the solver never returns worse;
4. the solver runs until the time limit, the gap limit or a proven optimum; each improving
   solution goes to the progress callback.

``SolveOptions.stop`` (a ``threading.Event``) ends a solve early on request: it is checked before
the translation, after the greedy schedule and after the flow relaxation (the solver is skipped if
it is set), and during a CP-SAT search a watcher thread stops the search. The best schedule so far
is returned (the solver's, else the start schedule) with ``stats["stopped"] = 1``.
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from scheduler import cpsat, greedy, mip, relax
from scheduler.eligibility import ProblemIndex, coverage
from scheduler.formulation import Rule, build
from scheduler.model import Assignment, Problem, ProblemError, Progress, Result, SolveOptions

METHODS = ("cpsat", "greedy", "mip")


def solve(problem: Problem, options: SolveOptions | None = None, extra_rules: tuple[Rule, ...] = ()) -> Result:
    """Assign volunteers to shifts. Raises ProblemError for input that cannot be scheduled."""
    options = options or SolveOptions()
    if options.method not in METHODS:
        raise ValueError(f"unknown method {options.method!r}; choose from {METHODS}")
    started = time.perf_counter()
    index = ProblemIndex(problem)
    formulation = build(index, extra_rules)
    model_s = time.perf_counter() - started

    stats: dict = {
        "pairs": formulation.num_pairs,
        "variables": formulation.num_vars,
        "rows": len(formulation.rows),
        "at_most_one": len(formulation.at_most_one),
        "shifts": len(index.shifts),
        "volunteers": len(index.volunteers),
        "model_s": model_s,
    }
    min_seats_total = sum(s.min_seats for s in index.shifts)
    first_s = None
    if options.method == "greedy":
        pair_values = greedy.first_come(index, options.seed)
        broken = formulation.violations(formulation.evaluate(pair_values)[0])
        if broken:
            raise ProblemError(f"greedy sign-up could not keep the fixed assignments within the hard rules ({len(broken)} broken)")
        status, bound, solutions, build_s = "HEURISTIC", None, 1, model_s
        first_s = time.perf_counter() - started - build_s
    else:
        translate_started = time.perf_counter()
        translated = None
        if not _stop_requested(options):  # a stop already requested skips the solver: no need to translate
            translated = cpsat.translate(formulation) if options.method == "cpsat" else mip.MipModel(formulation)
        stats["translate_s"] = time.perf_counter() - translate_started
        build_s = time.perf_counter() - started

        def report(pairs: np.ndarray, objective: int, bound: float | None, source: str) -> None:
            if options.progress is None:
                return
            filled = Counter(index.pair_shift[np.flatnonzero(pairs)].tolist())
            missing = sum(max(0, s.min_seats - filled[j]) for j, s in enumerate(index.shifts))
            options.progress(
                Progress(
                    objective=float(objective),
                    bound=bound,
                    coverage_min=1.0 - missing / min_seats_total if min_seats_total else 1.0,
                    elapsed_s=time.perf_counter() - started,
                    source=source,
                )
            )

        # First feasible schedule: the coverage-first greedy, in well under a second.
        hint_pairs = greedy.coverage_first(index)
        hint, hint_terms = formulation.evaluate(hint_pairs)
        hint_objective = sum(hint_terms.values())
        first_s = time.perf_counter() - started - build_s
        stats["greedy_objective"] = hint_objective
        report(hint_pairs, hint_objective, None, "greedy")
        # Then the flow relaxation: a proven bound, and a better start repaired from its assignment
        # (skipped when a stop was requested: the greedy schedule is returned as it is).
        flow_bound = None
        if not _stop_requested(options):
            relax_started = time.perf_counter()
            relaxation = relax.relax(index)
            flow_bound = float(relaxation.bound)
            stats["relax_s"] = time.perf_counter() - relax_started
            stats["flow_bound"] = relaxation.bound
            repaired = greedy.coverage_first(index, start=relaxation.pair_values)
            repaired_values, repaired_terms = formulation.evaluate(repaired)
            if sum(repaired_terms.values()) < hint_objective:
                hint_pairs, hint, hint_terms = repaired, repaired_values, repaired_terms
                hint_objective = sum(repaired_terms.values())
            stats["hint_s"] = time.perf_counter() - started - build_s
            stats["hint_objective"] = hint_objective
            stats["hint_gap"] = _gap(hint_objective, relaxation.bound)
            report(hint_pairs, hint_objective, flow_bound, "hint")
        if translated is None or flow_bound is None or _stop_requested(options):
            # Stopped on request before the solver started: the start schedule is returned below.
            outcome = cpsat.SolverOutcome(status="UNKNOWN", pair_values=None, bound=None, stopped=True)
        elif options.relative_gap > 0 and _gap(hint_objective, flow_bound) <= options.relative_gap:
            # The starting schedule is already within the gap limit of the proven bound.
            outcome = cpsat.SolverOutcome(status="FEASIBLE", pair_values=hint_pairs, bound=None, solutions_found=1)
        elif options.method == "cpsat":
            cpsat.add_hint(translated, hint)
            missing_constant = sum(s.min_seats for j, s in enumerate(index.shifts) if j not in formulation.below_min_var)
            outcome = cpsat.solve(translated, formulation, options, min_seats_total, missing_constant, started, flow_bound)
        else:
            translated.add_hint(hint)
            outcome = mip.solve(translated, options)
        if outcome.stopped:
            stats["stopped"] = 1
        stats["solver_bound"] = outcome.bound
        stats["solve_s"] = outcome.solve_s
        if outcome.first_solution_s is not None:
            stats["first_solver_solution_s"] = outcome.first_solution_s - build_s
        if outcome.history:
            stats["history"] = outcome.history
        pair_values, status = outcome.pair_values, outcome.status
        if status == "INFEASIBLE":
            # Without locks the empty schedule keeps every rule, so only the locks can clash.
            raise ProblemError(
                "the fixed assignments cannot all be kept under the hard rules "
                "(for example a locked helper on a shift whose required trained person cannot come)"
            )
        # Both are proven lower bounds of the same model: report the better one.
        bound = max((b for b in (outcome.bound, flow_bound) if b is not None), default=None)
        solutions = outcome.solutions_found
        if pair_values is None and status not in ("INFEASIBLE", "MODEL_INVALID") and not formulation.violations(hint):
            # The limit struck before the solver loaded any solution (MIP on a big model, a very
            # short limit, or a stop on request): the start schedule keeps every hard rule, so
            # return it.
            pair_values, status, solutions = hint_pairs, "FEASIBLE", 1
            stats["returned_hint"] = 1
    wall_s = time.perf_counter() - started

    if pair_values is None:
        assignments: list[Assignment] = []
        objective, terms = None, {}
    else:
        assignments = [
            Assignment(index.volunteers[int(index.pair_volunteer[p])].id, index.shifts[int(index.pair_shift[p])].id)
            for p in np.flatnonzero(pair_values).tolist()
        ]
        _, terms = formulation.evaluate(pair_values)
        objective = sum(terms.values())
    gap = None
    if objective is not None and bound is not None:
        gap = _gap(objective, bound)
    if status == "FEASIBLE" and gap == 0:
        status = "OPTIMAL"  # the flow bound proves it
    filled_by_id = Counter(a.shift_id for a in assignments)
    coverage_min, coverage_ideal, coverage_weighted = coverage(index.shifts, filled_by_id)
    stats["coverage_min_weighted"] = coverage_weighted
    return Result(
        method=options.method,
        status=status,
        assignments=assignments,
        objective=objective,
        bound=bound,
        gap=gap,
        objective_terms=terms,
        coverage_min=coverage_min,
        coverage_ideal=coverage_ideal,
        wall_s=wall_s,
        build_s=build_s,
        first_solution_s=first_s,
        solutions_found=solutions,
        shortfalls=index.explain_shortfalls(assignments) if pair_values is not None else [],
        skipped_shifts=index.skipped_shifts,
        stats=stats,
    )


def _stop_requested(options: SolveOptions) -> bool:
    return options.stop is not None and options.stop.is_set()


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(1.0, abs(objective))
