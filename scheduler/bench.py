"""``python -m scheduler bench``: the benchmark matrix of issue 4, measured, printed and written to
the ``scheduler-district`` section of docs/BENCHMARKS.md.

Every solve runs in its own child process (``python -m scheduler solve ...``), so the peak memory
reported is that process's own peak resident set size (``ru_maxrss`` from ``os.wait4``), reading the
problem file included. Every result is then checked by the independent verifier.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scheduler.cpsat import LNS_ONLY_VARIABLES

BEGIN = "<!-- BEGIN scheduler-district -->"
END = "<!-- END scheduler-district -->"


@dataclass
class Scenario:
    name: str
    volunteers: int
    schools: int
    sites: int
    days: int = 5
    supply_ratio: float | None = None
    seed: int = 1


def matrix(quick: bool) -> tuple[Scenario, Scenario, list[Scenario]]:
    if quick:
        district = Scenario("district week (quick)", 1000, 8, 6)
        tight = Scenario("tight supply (quick)", 600, 8, 6, supply_ratio=0.7)
        scaling = [Scenario(f"scaling {n}", n, max(4, n // 170), max(3, n // 250)) for n in (500, 1000)]
        return district, tight, scaling
    district = Scenario("district week", 10_000, 60, 40)
    tight = Scenario("tight supply", 10_000, 60, 40, supply_ratio=0.8)
    scaling = [Scenario(f"scaling {n:,}", n, 60, 40) for n in (1_000, 5_000, 10_000, 20_000)]
    return district, tight, scaling


def _run(command: list[str]) -> tuple[int, str, float, float]:
    """Run a command; (exit code, stdout, wall seconds, peak RSS in MB of that process)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    wall = time.perf_counter() - started
    return process.returncode, text, wall, usage.ru_maxrss / 1024  # Linux: kilobytes


def _generate(scenario: Scenario, folder: Path) -> Path:
    path = folder / f"{scenario.volunteers}-{scenario.schools}-{scenario.sites}-{scenario.supply_ratio}-{scenario.seed}.json"
    if not path.exists():
        command = [sys.executable, "-m", "scheduler", "generate", "--volunteers", str(scenario.volunteers), "--schools", str(scenario.schools),
                   "--sites", str(scenario.sites), "--days", str(scenario.days), "--seed", str(scenario.seed), "--out", str(path)]
        if scenario.supply_ratio is not None:
            command += ["--supply-ratio", str(scenario.supply_ratio)]
        code, text, _, _ = _run(command)
        if code != 0:
            raise RuntimeError(f"generate failed: {text}")
    return path


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values (0 = all equal)."""
    values = sorted(values)
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((k + 1) * v for k, v in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


def fairness_gini(problem, assignments) -> float:
    """Gini of load relative to offer, over the volunteers who offered anything."""
    from scheduler.eligibility import ProblemIndex

    index = ProblemIndex(problem)
    load = Counter(a.volunteer_id for a in assignments)
    return gini([load[v.id] / int(offer) for v, offer in zip(index.volunteers, index.offer) if offer > 0])


def solve_and_measure(problem_path: Path, method: str, time_limit: float, workers: int, seed: int, folder: Path) -> dict:
    from scheduler.io import read_problem, read_result
    from scheduler.verify import verify

    out = folder / f"{problem_path.stem}-{method}.result.json"
    command = [sys.executable, "-m", "scheduler", "solve", str(problem_path), "--method", method, "--time-limit", str(time_limit),
               "--workers", str(workers), "--seed", str(seed), "--out", str(out)]
    code, text, wall, peak_mb = _run(command)
    if code != 0:
        return {"method": method, "error": text.strip().splitlines()[-1] if text.strip() else f"exit {code}", "peak_mb": peak_mb, "process_s": wall}
    result = read_result(out)
    problem = read_problem(problem_path)
    verdict = verify(problem, result.assignments, result.objective)
    need_weighted = sum(s.min_seats * s.priority for s in problem.shifts)
    weighted = result.stats.get("coverage_min_weighted", 0.0)
    return {
        "method": method,
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "build_s": result.build_s,
        "first_s": result.first_solution_s,
        "start_s": result.stats.get("hint_s"),
        "first_solver_s": result.stats.get("first_solver_solution_s"),
        "wall_s": result.wall_s,
        "process_s": wall,
        "peak_mb": peak_mb,
        "coverage_min": result.coverage_min,
        "coverage_ideal": result.coverage_ideal,
        "weighted_min_seats": round(weighted * need_weighted),
        "weighted_min_need": need_weighted,
        "gini": fairness_gini(problem, result.assignments),
        "verified": "ok" if verdict.ok else f"{len(verdict.violations)} violations",
        "first_gap": result.stats.get("hint_gap"),
        "returned_hint": bool(result.stats.get("returned_hint")),
        "improved": result.stats.get("hint_objective") is not None and result.objective < result.stats["hint_objective"],
        "pairs": result.stats.get("pairs"),
        "variables": result.stats.get("variables"),
        "shifts": len(problem.shifts),
        "seats": sum(s.ideal_seats for s in problem.shifts),
        "volunteers": len(problem.volunteers),
        "summary": text.strip().splitlines()[-1],
    }


def _f(value, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def _versions() -> str:
    import numpy
    import ortools

    return f"Python {platform.python_version()}, OR-Tools {ortools.__version__}, numpy {numpy.__version__}"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}){memory}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def run(quick: bool, time_limit: float, workers: int = 2, seed: int = 0, keep: str | None = None) -> tuple[str, dict]:
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="scheduler-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    district, tight, scaling = matrix(quick)
    loads = [_load()]
    measured: dict = {"district": {}, "tight": {}, "scaling": []}

    def report(label: str, row: dict) -> None:
        print(f"{label:<28} {row.get('method', ''):<7} {row.get('summary', row.get('error', ''))} peak_mb={_f(row.get('peak_mb'), '.0f')}", flush=True)

    for key, scenario in (("district", district), ("tight", tight)):
        path = _generate(scenario, folder)
        for method in ("cpsat", "greedy", "mip"):
            row = solve_and_measure(path, method, time_limit, workers, seed, folder)
            measured[key][method] = row
            report(scenario.name, row)
        loads.append(_load())
    for scenario in scaling:
        if scenario.volunteers == district.volunteers and (scenario.schools, scenario.sites) == (district.schools, district.sites):
            row = measured["district"]["cpsat"]
        else:
            row = solve_and_measure(_generate(scenario, folder), "cpsat", time_limit, workers, seed, folder)
            report(scenario.name, row)
        measured["scaling"].append((scenario, row))
    loads.append(_load())
    measured["loads"] = loads
    return render(measured, district, tight, quick, time_limit, workers, seed), measured


def render(measured: dict, district: Scenario, tight: Scenario, quick: bool, time_limit: float, workers: int, seed: int) -> str:
    command = "python -m scheduler bench" + (" --quick" if quick else "") + ("" if time_limit == 60 else f" --time-limit {time_limit:g}")
    lines = [
        "## Scheduler engine: district benchmarks",
        "",
        f"Command: `{command}` ({workers} workers, seed {seed}, time limit {time_limit:g} s per solve). "
        f"Measured {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M')} UTC on {_machine()}; {_versions()}.",
        f"Load average (1, 5, 15 min) at the start, after each scenario and at the end: {'; '.join(measured['loads'])} "
        "(the machine is shared, so times are those of a busy machine).",
        "",
        "Each solve runs in its own process; *peak MB* is that process's peak resident set size (ru_maxrss), "
        "*build* is validating, indexing, writing the model and translating it for the solver; *first feasible* "
        "counts from the end of the build to the first schedule that keeps every hard rule (the coverage-first greedy); "
        "*start schedule* to the schedule the solver starts from (the flow relaxation's assignment repaired by that "
        "greedy, or the greedy one if better), whose gap is against the flow bound; *first solver solution* "
        "to the first solution the solver itself reports (its copy of the hint, after its presolve). *bound* is the "
        "better of the flow relaxation's bound and the solver's own; *gap* = (objective - bound) / objective. "
        f"On models of more than {LNS_ONLY_VARIABLES:,} variables CP-SAT runs only large-neighbourhood search around "
        "the start schedule (no full-problem worker, so no bound of its own: the bound is the flow bound). "
        "The time limit applies to the solver, after the build and the start schedule. Greedy is first-come "
        "sign-up (no bound). Every schedule was re-checked by `verify`.",
        "",
    ]

    def scenario_table(title: str, scenario: Scenario, rows: dict) -> None:
        any_row = next((r for r in rows.values() if "shifts" in r), {})
        lines.append(
            f"### {title}: {scenario.volunteers:,} volunteers, {scenario.schools} schools, {scenario.sites} sites, {scenario.days} days"
            + (f", supply ratio {scenario.supply_ratio}" if scenario.supply_ratio else "")
            + (f" ({any_row.get('shifts', 0):,} shifts, {any_row.get('seats', 0):,} ideal seats, {any_row.get('pairs', 0):,} possible pairs)" if any_row else "")
        )
        lines.append("")
        lines.append("| method | status | objective | bound | gap at the limit | build s | first feasible s | start schedule s | gap of start schedule | first solver solution s | wall s | peak MB | min seats (priority-weighted) | coverage min | coverage ideal | Gini load/offer | verify |")
        lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for method in ("cpsat", "greedy", "mip"):
            row = rows.get(method)
            if row is None:
                continue
            if "error" in row:
                lines.append(f"| {method} | error: {row['error']} | | | | | | | | | {_f(row.get('process_s'))} | {_f(row.get('peak_mb'), '.0f')} | | | | | |")
                continue
            status = row["status"]
            if row["returned_hint"]:
                status += " (no solver solution: the start schedule)"
            elif method != "greedy" and not row["improved"]:
                status += " (no better than the start schedule)"
            lines.append(
                f"| {method} | {status} | {_f(row['objective'], ',')} | {_f(row['bound'], ',.0f')} | {_f(row['gap'], '.2%')} | "
                f"{_f(row['build_s'])} | {_f(row['first_s'])} | {_f(row['start_s'])} | {_f(row['first_gap'], '.2%')} | {_f(row['first_solver_s'])} | {_f(row['wall_s'])} | {_f(row['peak_mb'], ',.0f')} | "
                f"{row['weighted_min_seats']:,} / {row['weighted_min_need']:,} | {row['coverage_min']:.2%} | {row['coverage_ideal']:.2%} | "
                f"{row['gini']:.3f} | {row['verified']} |"
            )
        lines.append("")
        cp, gr, mp = rows.get("cpsat", {}), rows.get("greedy", {}), rows.get("mip", {})
        if "weighted_min_seats" in cp and "weighted_min_seats" in gr:
            diff = cp["weighted_min_seats"] - gr["weighted_min_seats"]
            lines.append(
                f"CP-SAT fills {diff:+,} priority-weighted minimum seats against greedy first-come sign-up "
                f"({cp['weighted_min_seats']:,} vs {gr['weighted_min_seats']:,}); Gini of load relative to offer {cp['gini']:.3f} vs {gr['gini']:.3f}."
            )
        if "objective" in cp and "objective" in mp and mp.get("objective") is not None:
            lines.append(f"MIP (SCIP) at the same limit: objective {mp['objective']:,} (gap {_f(mp['gap'], '.2%')}) against CP-SAT {cp['objective']:,} (gap {_f(cp['gap'], '.2%')}).")
        elif "error" in mp or mp.get("objective") is None:
            lines.append("MIP (SCIP) gave no schedule within the limit.")
        lines.append("")

    scenario_table("District week", district, measured["district"])
    scenario_table("Tight supply", tight, measured["tight"])
    lines.append("### Scaling (CP-SAT)")
    lines.append("")
    lines.append("| volunteers | shifts | possible pairs | variables | build s | first feasible s | start schedule s | gap of start schedule | objective | gap at the limit | wall s | peak MB | coverage min |")
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for scenario, row in measured["scaling"]:
        if "error" in row:
            lines.append(f"| {scenario.volunteers:,} | error: {row['error']} | | | | | | | | | {_f(row.get('process_s'))} | {_f(row.get('peak_mb'), '.0f')} | |")
            continue
        lines.append(
            f"| {scenario.volunteers:,} | {row['shifts']:,} | {row['pairs']:,} | {row['variables']:,} | {_f(row['build_s'])} | {_f(row['first_s'])} | {_f(row['start_s'])} | {_f(row['first_gap'], '.2%')} | "
            f"{_f(row['objective'], ',')} | {_f(row['gap'], '.2%')} | {_f(row['wall_s'])} | {_f(row['peak_mb'], ',.0f')} | {row['coverage_min']:.2%} |"
        )
    lines.append("")
    d = measured["district"].get("cpsat", {})
    if "build_s" in d:
        lines.append("Targets (district week, CP-SAT): " + "; ".join([
            f"build {d['build_s']:.1f} s (target < 10 s: {'met' if d['build_s'] < 10 else 'MISSED'})",
            f"first feasible {d['first_s']:.1f} s after the build (target < 10 s: {'met' if d['first_s'] is not None and d['first_s'] < 10 else 'MISSED'})",
            f"gap {_f(d['first_gap'], '.2%')} with the start schedule, {d['build_s'] + (d['start_s'] or 0):.1f} s after the start, "
            f"and {d['gap']:.2%} at the end, {d['wall_s']:.1f} s after the start "
            f"(target <= 1% within 60 s: {'met' if (d['gap'] <= 0.01 and d['wall_s'] <= 60) or (d['first_gap'] is not None and d['first_gap'] <= 0.01 and d['build_s'] + (d['start_s'] or 0) <= 60) else 'MISSED'})",
            f"peak memory {d['peak_mb']:,.0f} MB (target < 2,048 MB: {'met' if d['peak_mb'] < 2048 else 'MISSED'})",
        ]) + ".")
        lines.append("")
    return "\n".join(lines)


def write_section(doc: Path, section: str) -> None:
    """Replace the scheduler-district section of the file, leaving everything else as it is."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    block = f"{BEGIN}\n{section.rstrip()}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def main(args) -> int:
    time_limit = args.time_limit if args.time_limit is not None else (5.0 if args.quick else 60.0)
    section, measured = run(args.quick, time_limit, keep=getattr(args, "keep", None))
    print()
    print(section)
    if not args.no_write:
        write_section(Path(args.doc), section)
        print(f"\nwrote the scheduler-district section of {args.doc}")
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in measured.items() if k != "scaling"} | {"scaling": [r for _, r in measured["scaling"]]}, indent=1, default=str))
    return 0
