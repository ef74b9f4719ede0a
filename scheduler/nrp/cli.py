"""Commands ``nrp``, ``nrp-check`` and ``bench nrp`` (dispatched from ``scheduler.__main__``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scheduler.nrp.check import check_roster_files, check_roster_text
from scheduler.nrp.instance import load_instance, resolve_instance_path, write_roster
from scheduler.nrp.search import SearchOptions, solve_instance


def _format_bound(bound: float | None) -> str:
    if bound is None:
        return "none"
    return str(int(bound)) if float(bound).is_integer() else f"{bound:.1f}"


def run_nrp(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler nrp", description="Solve a Curtois-Qu instance.")
    parser.add_argument("instance", help="instance file, or a name/number in the benchmark folder")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--roster", help="write the roster here (EmployeeID,Day,ShiftID per worked shift)")
    parser.add_argument("--instance-dir", help="benchmark folder (default: $NRP_INSTANCE_DIR or ../shared/benchmarks/nrp)")
    parser.add_argument("--no-lns", action="store_true", help="skip large-neighbourhood search (for measurements)")
    parser.add_argument("--no-construct", action="store_true", help="skip the constructive first roster (for measurements)")
    parser.add_argument("--no-full-model", action="store_true", help="skip the full-model thread (for measurements)")
    parser.add_argument(
        "--neighbourhoods", help="LNS neighbourhood kinds, comma-separated (people, window, targeted, people_targeted; for measurements)"
    )
    parser.add_argument("--log", action="store_true", help="print search progress")
    args = parser.parse_args(argv)

    path = resolve_instance_path(args.instance, Path(args.instance_dir) if args.instance_dir else None)
    instance = load_instance(path)
    options = SearchOptions(
        time_limit=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        log=args.log,
        use_lns=not args.no_lns,
        use_construction=not args.no_construct,
        use_full_model=not args.no_full_model,
    )
    if args.neighbourhoods:
        options.neighbourhoods = tuple(kind.strip() for kind in args.neighbourhoods.split(",") if kind.strip())
    outcome = solve_instance(instance, options)
    status = outcome.status
    if outcome.roster is not None:
        if args.roster:
            write_roster(outcome.roster, args.roster)
        # Guard the claim "the printed objective is what nrp-check computes" on every run.
        lines = "\n".join(f"{e},{d},{s}" for (e, d), s in outcome.roster.items())
        check = check_roster_text(path.read_text(), lines)
        if not check.feasible or check.objective != outcome.objective:
            status = "ERROR"
            print(f"evaluator disagrees: objective {check.objective}, violations {[str(v) for v in check.violations[:5]]}")
    if args.log:
        print(f"first_feasible_s={outcome.first_feasible_s} stats={outcome.stats}")
    objective = "none" if outcome.objective is None else str(outcome.objective)
    print(
        f"instance={instance.name} status={status} objective={objective} bound={_format_bound(outcome.bound)} "
        f"wall_s={outcome.wall_s:.1f}"
    )
    return 0 if status in ("OPTIMAL", "FEASIBLE") else 1


def run_check(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler nrp-check", description="Check a roster against an instance.")
    parser.add_argument("instance")
    parser.add_argument("roster")
    parser.add_argument("--instance-dir")
    args = parser.parse_args(argv)
    path = resolve_instance_path(args.instance, Path(args.instance_dir) if args.instance_dir else None)
    result = check_roster_files(path, args.roster)
    for violation in result.violations:
        print(f"VIOLATION {violation}")
    print(
        f"on_requests={result.on_request_cost} off_requests={result.off_request_cost} "
        f"under_cover={result.under_cover_cost} over_cover={result.over_cover_cost}"
    )
    print(f"instance={path.stem} feasible={'yes' if result.feasible else 'no'} violations={len(result.violations)} objective={result.objective}")
    return 0 if result.feasible else 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["nrp"]:
        return run_nrp(argv[1:])
    if argv[:1] == ["nrp-check"]:
        return run_check(argv[1:])
    if argv[:2] == ["bench", "nrp"]:
        from scheduler.nrp.bench import main as bench_main

        return bench_main(argv[2:])
    print("usage: python -m scheduler nrp|nrp-check|bench nrp ...", file=sys.stderr)
    return 2
