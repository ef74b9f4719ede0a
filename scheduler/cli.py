"""``python -m scheduler generate | solve | verify | bench``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date

from scheduler.model import ProblemError, SolveOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scheduler", description="Volunteer shift scheduler")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic district as problem JSON")
    generate.add_argument("--volunteers", type=int, default=10_000)
    generate.add_argument("--schools", type=int, default=60)
    generate.add_argument("--sites", type=int, default=40)
    generate.add_argument("--days", type=int, default=5)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--supply-ratio", type=float, default=None, help="volunteer capacity / ideal seats (default: natural supply)")
    generate.add_argument("--fixed-share", type=float, default=0.01, help="share of volunteers with one locked shift")
    generate.add_argument("--start", type=date.fromisoformat, default=None, help="first day (default 2026-11-30, a Monday)")
    generate.add_argument("--out", required=True)

    solve = commands.add_parser("solve", help="solve a problem JSON and write the result JSON")
    solve.add_argument("problem")
    solve.add_argument("--time-limit", type=float, default=60.0, help="seconds")
    solve.add_argument("--workers", type=int, default=2)
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--gap", type=float, default=0.0, help="stop at this relative gap (0.01 = 1%%)")
    solve.add_argument("--deterministic-time", type=float, default=None, help="CP-SAT deterministic time limit: same answer on every run")
    solve.add_argument("--method", choices=("cpsat", "greedy", "mip"), default="cpsat")
    solve.add_argument("--progress", action="store_true", help="print each improving solution")
    solve.add_argument("--log", action="store_true", help="print the solver's own log")
    solve.add_argument("--out", required=True)

    verify = commands.add_parser("verify", help="check a result against every hard rule and recompute its objective")
    verify.add_argument("problem")
    verify.add_argument("result")

    bench = commands.add_parser("bench", help="run the benchmark matrix and write docs/BENCHMARKS.md")
    bench.add_argument("--quick", action="store_true", help="small instances and short limits, for a smoke test")
    bench.add_argument("--time-limit", type=float, default=None, help="seconds per solve (default 60, quick 5)")
    bench.add_argument("--doc", default="docs/BENCHMARKS.md", help="file whose scheduler-district section is rewritten")
    bench.add_argument("--no-write", action="store_true", help="print the table only")
    bench.add_argument("--keep", default=None, help="folder for the generated problems and results (default: a temporary folder)")
    bench.add_argument("--json", default=None, help="also write every measured figure to this JSON file")
    return parser


def _generate(args) -> int:
    from scheduler.generate import DEFAULT_START, DistrictSpec, generate
    from scheduler.io import write_problem

    spec = DistrictSpec(
        volunteers=args.volunteers,
        schools=args.schools,
        sites=args.sites,
        days=args.days,
        seed=args.seed,
        supply_ratio=args.supply_ratio,
        fixed_share=args.fixed_share,
        start=args.start or DEFAULT_START,
    )
    problem = generate(spec)
    write_problem(problem, args.out)
    seats = sum(s.ideal_seats for s in problem.shifts)
    print(f"volunteers={len(problem.volunteers)} shifts={len(problem.shifts)} ideal_seats={seats} fixed={len(problem.fixed)} out={args.out}")
    return 0


def _solve(args) -> int:
    from scheduler.io import read_problem, write_result
    from scheduler.solve import solve

    def show(progress) -> None:
        # The first feasible schedule (greedy) comes before any bound exists.
        bound = "none" if progress.bound is None else f"{progress.bound:.0f}"
        print(
            f"solution source={progress.source} objective={progress.objective:.0f} bound={bound} "
            f"coverage_min={progress.coverage_min:.4f} elapsed_s={progress.elapsed_s:.2f}",
            flush=True,
        )

    options = SolveOptions(
        method=args.method,
        time_limit_s=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        relative_gap=args.gap,
        deterministic_time=args.deterministic_time,
        progress=show if args.progress else None,
        log=args.log,
    )
    result = solve(read_problem(args.problem), options)
    write_result(result, args.out)
    short = [s for s in result.shortfalls if s.filled < s.min_seats]
    if result.shortfalls:
        causes = Counter()
        for shortfall in result.shortfalls:
            causes.update(shortfall.reasons)
        no_one = sum(1 for s in result.shortfalls if s.no_eligible_person)
        lead = sum(1 for s in result.shortfalls if s.lead_missing)
        print(
            f"shifts_below_ideal={len(result.shortfalls)} no_eligible_person={no_one} without_required_person={lead} "
            "people_not_on_them_by_cause: " + " ".join(f"{cause}={count}" for cause, count in causes.items())
        )
    print(f"assignments={len(result.assignments)} shifts_below_min={len(short)} build_s={result.build_s:.2f} first_solution_s={result.first_solution_s} solutions={result.solutions_found}")
    print(result.summary_line())
    return 0


def _verify(args) -> int:
    from scheduler.io import read_problem, read_result
    from scheduler.verify import verify

    result = read_result(args.result)
    verdict = verify(read_problem(args.problem), result.assignments, result.objective)
    for violation in verdict.violations:
        print(f"VIOLATION {violation}")
    print(" ".join(f"{term}={value}" for term, value in verdict.terms.items()))
    print(f"violations={len(verdict.violations)}")
    print(f"objective={verdict.objective}")
    return 0 if verdict.ok else 1


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "solve":
            return _solve(args)
        if args.command == "verify":
            return _verify(args)
        from scheduler.bench import main as bench_main

        return bench_main(args)
    except ProblemError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
