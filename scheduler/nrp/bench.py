"""``python -m scheduler bench nrp``: solve Curtois-Qu instances and write the table to docs/BENCHMARKS.md.

Per instance and time limit it runs the same search as ``python -m scheduler nrp`` (in this process),
checks every roster with the independent evaluator, and records the objective, the bound, the time to
the first feasible roster and the load average when the run started (the figures depend on how busy
the machine was). Only the section between ``<!-- BEGIN scheduler-nrp -->`` and
``<!-- END scheduler-nrp -->`` of the benchmarks file is replaced; the rest is left as it is.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from scheduler.nrp.check import check_roster_text
from scheduler.nrp.instance import default_instance_dir, load_instance
from scheduler.nrp.search import SearchOptions, solve_instance

BEGIN = "<!-- BEGIN scheduler-nrp -->"
END = "<!-- END scheduler-nrp -->"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "docs" / "BENCHMARKS.md"
# Gurobi's objective after 60 minutes on Instance1-19, the "commercial MIP" figures of the issue
# (Curtois and Qu's 2014 technical report on these instances; read from the 60-minute table of
# github.com/ORProjects/NRP, ComputationalResults/README.md, which also has Instance13 3109,
# Instance15 4964 and Instance19 5420 as the benchmark's README does). None found for Instance20-24.
MIP_60_MIN = {
    f"Instance{number}": value
    for number, value in enumerate(
        (607, 828, 1001, 1716, 1143, 1950, 1056, 1323, 439, 4631, 3443, 4040, 3109, 1280, 4964, 3233, 5851, 4760, 5420),
        start=1,
    )
}


@dataclass
class Run:
    instance: str
    time_limit: float
    status: str
    objective: int | None
    bound: float | None
    first_feasible_s: float | None
    wall_s: float
    load_before: float
    checked: bool  # the evaluator found no violation and the same objective
    started: str = ""  # UTC
    machine: str = ""


def parse_instances(spec: str) -> list[int]:
    """``1-12``, ``1,5,9`` or ``all``."""
    if spec == "all":
        return list(range(1, 25))
    numbers: list[int] = []
    for part in spec.split(","):
        part = part.strip().removeprefix("Instance")
        if "-" in part:
            first, last = part.split("-")
            numbers.extend(range(int(first), int(last) + 1))
        elif part:
            numbers.append(int(part))
    return numbers


def read_best_known(folder: Path) -> dict[str, tuple[int, int]]:
    path = folder / "best_known.csv"
    if not path.exists():
        return {}
    with path.open() as handle:
        return {row["instance"]: (int(row["best_known_upper_bound"]), int(row["lower_bound"])) for row in csv.DictReader(handle)}


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def run_one(path: Path, time_limit: float, workers: int, seed: int, log: bool) -> Run:
    instance = load_instance(path)
    load = load_average()
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    outcome = solve_instance(instance, SearchOptions(time_limit=time_limit, workers=workers, seed=seed, log=log))
    checked = False
    if outcome.roster is not None:
        text = "".join(f"{e},{d},{s}\n" for (e, d), s in outcome.roster.items())
        check = check_roster_text(path.read_text(), text)
        checked = check.feasible and check.objective == outcome.objective
    return Run(
        instance=instance.name,
        time_limit=time_limit,
        status=outcome.status,
        objective=outcome.objective,
        bound=outcome.bound,
        first_feasible_s=outcome.first_feasible_s,
        wall_s=outcome.wall_s,
        load_before=load,
        checked=checked,
        started=started,
    )


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import ortools

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "scheduler/rules.py", "scheduler/nrp"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if commit and dirty:
            commit += " with uncommitted changes to the solver"
    except OSError:
        commit = ""
    return (
        f"{cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}, OR-Tools {ortools.__version__}; "
        f"{platform.system()} {platform.release()}; commit {commit or 'unknown'}"
    )


def _cell(value) -> str:
    return "—" if value is None else str(value)


def _bound(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _cpu_name(machine: str) -> str:
    """The processor's maker from a run's machine description ("AMD EPYC, 2 logical CPUs; ..." -> "AMD")."""
    words = machine.split(",", 1)[0].split()
    return words[0].replace("(R)", "") if words else "?"


def render(
    runs: list[Run], instances: list[int], limits: list[float], best: dict, command: str, started: str, machine: str
) -> str:
    by_key = {(run.instance, run.time_limit): run for run in runs}
    missing = [(f"Instance{number}", limit) for number in instances for limit in limits if (f"Instance{number}", limit) not in by_key]
    complete = instances == list(range(1, 25)) and limits == [60.0, 600.0] and not missing
    title = "### Curtois-Qu shift scheduling instances"
    lines = [title, ""]
    if not complete:
        lines += [
            f"**Partial table**: instances {_ranges(instances)}, time limits {', '.join(f'{t:g} s' for t in limits)}, "
            f"{len(missing)} of these runs not made yet (the full table is all 24 instances at 60 s and 600 s).",
            "",
        ]
    starts = sorted(run.started for run in runs if run.started) or [started]
    machines = sorted({re.sub(r"; commit .*$", "", run.machine) for run in runs if run.machine} or {re.sub(r"; commit .*$", "", machine)})
    lines += [
        f"Reproduce: `{command}` (each cell is one run of `python -m scheduler nrp InstanceN --time-limit T "
        "--workers W --seed S`; every roster is checked by `nrp-check`'s evaluator).",
        "",
        "Machine: " + "; or ".join(machines) + f". Runs started {starts[0]} to {starts[-1]}.",
        "",
        "Objective in the benchmark's units; gap = (ours - best known) / best known; bound = the best lower bound "
        "our search proved (column generation's, the full model's, or the best roster when branch and price searched its whole tree; — when none ran); first feasible = seconds to the first "
        "complete roster; load = 1-minute load average when the run started (other jobs shared the cores); "
        "CPU = the maker of each run's processor (the machines differ in speed, and a 60 s run whose dive does not "
        "end in time ends far from one that does); commit = the solver's commit for that row; MIP 60 min = Gurobi's "
        "objective after 60 minutes as published for the instance (Curtois and Qu, 2014; — where we found none).",
        "",
    ]
    header = ["Instance", "best known", "MIP 60 min"]
    for limit in limits:
        header += [f"obj {limit:g} s", f"gap {limit:g} s"]
    header += ["bound", "first feasible (s)", "load", "CPU", "commit"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for number in instances:
        name = f"Instance{number}"
        best_known = best.get(name, (None, None))[0]
        row = [name, _cell(best_known), _cell(MIP_60_MIN.get(name))]
        bounds, first, loads, cpus, commits = [], None, [], [], []
        for limit in limits:
            run = by_key.get((name, limit))
            if run is None:
                row += ["not run", ""]
                continue
            loads.append(run.load_before)
            cpus.append(_cpu_name(run.machine))
            found = re.search(r"commit (\w+)", run.machine)
            commit = found.group(1) + ("+uncommitted" if "uncommitted" in run.machine else "") if found else ""
            if commit and commit not in commits:
                commits.append(commit)
            if run.bound is not None:
                bounds.append(run.bound)
            if first is None and run.first_feasible_s is not None:
                first = run.first_feasible_s
            if run.objective is None:
                row += ["none", ""]
                continue
            mark = "" if run.checked else " (CHECK FAILED)"
            gap = "" if not best_known else f"{100.0 * (run.objective - best_known) / best_known:.1f}%"
            row += [f"{run.objective}{mark}", gap]
        row += [
            _bound(max(bounds) if bounds else None),
            "—" if first is None else f"{first:.1f}",
            "/".join(f"{load:.1f}" for load in loads) or "—",
            "/".join(cpus) or "—",
            "/".join(commits) or "—",
        ]
        lines.append("| " + " | ".join(row) + " |")
    if complete:
        lines += ["", *_target_lines(by_key, best)]
    lines += [
        "",
        "Search (`scheduler/nrp/search.py`): a first roster placed person by person, each row solved by CP-SAT "
        "against the rows already placed within the person's share of 30% of the time limit; where the share is "
        "under 0.2 s, or that finds nothing, the person's first feasible row (the cover objective with quick "
        "CP-SAT settings; else maximised minutes over one shift type of each length; else over all types), "
        "improved with itself as the hint for the rest of the share. Where the instance has at most 28 days (42 "
        "from 600 s on), or its pricing programs' states summed over people and days are at most 50,000 per second "
        "of the time limit (Instance16-18 at 600 s), and at most 20,000 shift variables or 100 per second of the time limit (Instance13 at 600 s), column generation (`scheduler/nrp/colgen.py`): a master LP over whole rows (HiGHS for branch and price, GLOP for the dive) priced "
        "exactly per person (a dynamic program over the days where the person's rule state is small, keeping "
        "only the per-type limits its cheapest rows have broken, else a "
        "one-person CP-SAT model with every hard rule), its Lagrangian bound, and then (root by 50% of the time "
        "limit, the rest by 85%): on instances of at most 20 people, branch and price (branching on one person's "
        "shift on one day, plunging from the node of least bound; a tree searched to the end proves the roster "
        "optimal) with one LNS thread beside it, the tree pruning by the best roster either found; on larger ones "
        "whose root took at most 10% of the time, no dive: from the root on, one on each core, two trees without "
        "pricing over a pool of rows (each person's rows within a margin of their least reduced cost at the "
        "root duals, the largest margin of 0.25-4 that keeps the pool within 8,000 rows), one first for rosters "
        "of at most halfway between the bound and the best roster, the other for rosters at most one below the "
        "best where that is higher, each then for any cheaper roster, and once its pool holds none, branch and "
        "price over the whole instance, pruning nodes whose bound is above halfway between the bound and the "
        "best roster, or above two below the best roster where that is higher (the trees break ties between "
        "branching cells at random, each its own way, the pool trees start over after 8 s and then after 1.5 "
        "times as long each time, aiming one higher after each start that found nothing cheaper (never above "
        "one below the best), and the branch-and-price ones shrink their master LP to 1,000 columns, the basis "
        "and those of least reduced cost, when it holds over 2,000); on the other larger ones "
        "a dive that fixes people to the rows the LP favours until it is integral (starting over, at most three "
        "times, after four backtracks; people still unfixed at its "
        "deadline, 85% of the time limit, are solved together on the "
        "compact model), and after it, in place of the full-model thread, "
        "column LNS: two thirds of the people (more after neighbourhoods searched to the end) freed at random and "
        "searched by branch and price from every row known for them, within 12 s each. "
        "Then, where those two trees do not take the cores, large-neighbourhood search (LNS): "
        "each step frees some cells (around a costly item of the incumbent, a cover shortfall or excess or a "
        "request not granted, over one to four weeks; the people of such an item over the whole horizon; "
        "everyone over one or a few days around such an item; everyone on such an item's day plus whole rows "
        "of people with unused minutes; a shortfall and an excess of the same shift type on a nearby day, with "
        "people working the excess and people free to fill the shortfall, over a few days around both; or people "
        "at random over the whole horizon), "
        "fixes the rest, and re-solves with CP-SAT from the incumbent as a complete hint; each thread takes mostly the kind that lately gained most per second. "
        "Alongside, when the full model has at most 20,000 shift variables and neither column LNS nor the two trees run, one thread solves the full model "
        "for solutions and the bound, and switches to LNS when, at a check every 20% of the time limit, its "
        "bound is below 80% of the incumbent and it found no improvement since the last check. Rules are posted "
        "by the builders in `scheduler/rules.py`.",
    ]
    return "\n".join(lines) + "\n"


def _target_lines(by_key: dict, best: dict) -> list[str]:
    """The issue's targets, read off the table: each says which instances miss it."""

    def objective(number: int, limit: float) -> int | None:
        run = by_key[(f"Instance{number}", limit)]
        return run.objective if run.checked else None

    def verdict(misses: list[str]) -> str:
        return "met" if not misses else "missed by " + ", ".join(misses)

    def best_known(number: int) -> int | None:
        return best.get(f"Instance{number}", (None, None))[0]

    at_best = [
        f"Instance{n} ({_cell(objective(n, 60.0))})"
        for n in range(1, 13)
        if objective(n, 60.0) is None or best_known(n) is None or objective(n, 60.0) > best_known(n)
    ]
    unfeasible = [f"Instance{n}" for n in range(13, 25) if objective(n, 60.0) is None or objective(n, 600.0) is None]
    above_mip = [
        f"Instance{n} ({_cell(objective(n, 600.0))} against {MIP_60_MIN[f'Instance{n}']})"
        for n in range(13, 25)
        if f"Instance{n}" in MIP_60_MIN and (objective(n, 600.0) is None or objective(n, 600.0) >= MIP_60_MIN[f"Instance{n}"])
    ]
    far = [
        f"Instance{n} ({_cell(objective(n, 600.0))})"
        for n in range(13, 20)
        if objective(n, 600.0) is None or best_known(n) is None or objective(n, 600.0) > 1.1 * best_known(n)
    ]
    return [
        "Targets (issue 7), read off this table:",
        f"- Instance1-12 at the best known value at 60 s: {verdict(at_best)}.",
        f"- Instance13-24 a feasible roster at 60 s and 600 s: {verdict(unfeasible)}.",
        f"- Instance13-24 at 600 s below the MIP's 60-minute result, where one is published (13-19): {verdict(above_mip)}.",
        f"- Instance13-19 within 10% of the best known at 600 s: {verdict(far)}.",
    ]


def _ranges(numbers: list[int]) -> str:
    parts, start, previous = [], None, None
    for number in numbers + [None]:
        if start is None:
            start = previous = number
        elif number is not None and number == previous + 1:
            previous = number
        else:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = previous = number
    return ",".join(parts)


def write_section(path: Path, body: str) -> None:
    """Replace the scheduler-nrp section of ``path`` (created with markers if missing); re-read just before."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"{BEGIN}\n{body}{END}"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler bench nrp", description="Curtois-Qu benchmark table.")
    parser.add_argument("--instances", default="all", help="e.g. all, 1-12, 13,15,19 (default all)")
    parser.add_argument("--time-limits", default="60,600", help="comma-separated seconds (default 60,600)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instance-dir", help="benchmark folder (default: $NRP_INSTANCE_DIR or ../shared/benchmarks/nrp)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="markdown file whose scheduler-nrp section is replaced")
    parser.add_argument(
        "--json", help="keep the raw runs here; runs already in the file are kept (same instance and limit: replaced) and tabled too"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table instead of writing the file")
    parser.add_argument("--log", action="store_true", help="print search progress")
    args = parser.parse_args(argv)

    folder = Path(args.instance_dir) if args.instance_dir else default_instance_dir()
    instances = parse_instances(args.instances)
    limits = [float(t) for t in args.time_limits.split(",") if t.strip()]
    best = read_best_known(folder)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_description()  # before the runs: the commit that produced the figures
    runs: list[Run] = []
    earlier: list[Run] = []
    if args.json and Path(args.json).exists():
        earlier = [Run(**item) for item in json.loads(Path(args.json).read_text())]
    for number in instances:
        path = folder / f"Instance{number}.txt"
        for limit in limits:
            run = run_one(path, limit, args.workers, args.seed, args.log)
            run.machine = machine
            runs.append(run)
            print(
                f"instance={run.instance} time_limit={limit:g} status={run.status} objective={_cell(run.objective)} "
                f"bound={_bound(run.bound)} first_feasible_s={_cell(run.first_feasible_s and round(run.first_feasible_s, 1))} "
                f"wall_s={run.wall_s:.1f} load={run.load_before:.2f} checked={'yes' if run.checked else 'NO'}",
                flush=True,
            )
    command = "python -m scheduler bench nrp"
    if args.instances != "all":
        command += f" --instances {args.instances}"
    if args.time_limits != "60,600":
        command += f" --time-limits {args.time_limits}"
    if args.workers != 2:
        command += f" --workers {args.workers}"
    if args.seed:
        command += f" --seed {args.seed}"
    if earlier:
        done = {(run.instance, run.time_limit) for run in runs}
        runs = [run for run in earlier if (run.instance, run.time_limit) not in done] + runs
        numbers = {int(run.instance.removeprefix("Instance")) for run in runs}
        instances = sorted(numbers | set(instances))
        limits = sorted({run.time_limit for run in runs} | set(limits))
        command = f"python -m scheduler bench nrp --instances {_ranges(instances)} --time-limits {','.join(f'{t:g}' for t in limits)}"
        if args.workers != 2:
            command += f" --workers {args.workers}"
        if args.seed:
            command += f" --seed {args.seed}"
        command += " (here run in parts, merged with --json)"
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(run) for run in runs], indent=1))
    body = render(runs, instances, limits, best, command, started, machine)
    if args.no_write:
        sys.stdout.write(body)
    else:
        write_section(Path(args.out), body)
        print(f"wrote the scheduler-nrp section of {args.out}")
    return 0 if all(run.checked for run in runs) else 1
