"""``bench nrp``: instance lists, the table, and writing only its own section of the benchmarks file."""

from __future__ import annotations

from pathlib import Path

from scheduler.nrp.bench import main, parse_instances, write_section

DATA = Path(__file__).parent / "data"

OTHER = "<!-- BEGIN scheduler-district -->\nthe district table\n<!-- END scheduler-district -->\n"


def test_parse_instances():
    assert parse_instances("all") == list(range(1, 25))
    assert parse_instances("1-3,7,Instance9") == [1, 2, 3, 7, 9]


def test_write_section_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n" + OTHER + "\n<!-- BEGIN scheduler-nrp -->\nold\n<!-- END scheduler-nrp -->\n\ntail\n")
    write_section(path, "new table\n")
    text = path.read_text()
    assert OTHER in text
    assert "old" not in text
    assert "<!-- BEGIN scheduler-nrp -->\nnew table\n<!-- END scheduler-nrp -->" in text
    assert text.endswith("\n\ntail\n")


def test_write_section_adds_markers_when_missing(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n" + OTHER)
    write_section(path, "table\n")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\n" + OTHER)
    assert text.endswith("<!-- BEGIN scheduler-nrp -->\ntable\n<!-- END scheduler-nrp -->\n")


def test_bench_writes_a_partial_table_with_checked_rosters(tmp_path, capsys):
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n" + OTHER)
    code = main(["--instances", "1", "--time-limits", "5", "--instance-dir", str(DATA), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "instance=Instance1 time_limit=5 " in printed and "checked=yes" in printed
    text = out.read_text()
    assert OTHER in text
    assert "**Partial table**: instances 1, time limits 5 s" in text
    row = next(line for line in text.splitlines() if line.startswith("| Instance1 |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:3] == ["Instance1", "607", "607"]  # best known, Gurobi's 60-minute objective
    assert int(cells[3]) >= 607
    assert cells[4].endswith("%")
    assert "python -m scheduler bench nrp --instances 1 --time-limits 5" in text


def test_runs_kept_in_json_are_merged_into_the_table(tmp_path, capsys):
    out = tmp_path / "BENCHMARKS.md"
    runs = tmp_path / "runs.json"
    common = ["--time-limits", "1", "--instance-dir", str(DATA), "--out", str(out), "--json", str(runs)]
    assert main(["--instances", "1", *common]) == 0
    assert main(["--instances", "2", *common]) == 0
    capsys.readouterr()
    text = out.read_text()
    assert "| Instance1 | 607 |" in text
    assert "| Instance2 | 828 |" in text
    assert "instances 1-2" in text


def test_a_table_of_all_instances_and_both_limits_with_runs_missing_says_it_is_partial():
    from scheduler.nrp.bench import Run, render

    runs = [Run(instance=f"Instance{n}", time_limit=60.0, status="FEASIBLE", objective=1000, bound=None,
                first_feasible_s=1.0, wall_s=60.0, load_before=1.0, checked=True) for n in range(1, 25)]
    runs.append(Run(instance="Instance13", time_limit=600.0, status="FEASIBLE", objective=900, bound=None,
                    first_feasible_s=1.0, wall_s=600.0, load_before=1.0, checked=True))
    text = render(runs, list(range(1, 25)), [60.0, 600.0], {}, "command", "now", "machine")
    assert "**Partial table**" in text and "23 of these runs not made yet" in text
    full = runs + [Run(instance=f"Instance{n}", time_limit=600.0, status="FEASIBLE", objective=900, bound=None,
                       first_feasible_s=1.0, wall_s=600.0, load_before=1.0, checked=True) for n in range(1, 25) if n != 13]
    assert "Partial table" not in render(full, list(range(1, 25)), [60.0, 600.0], {}, "command", "now", "machine")


def test_a_full_table_says_which_instances_miss_each_target():
    from scheduler.nrp.bench import Run, render

    def run(number: int, limit: float, objective: int | None) -> Run:
        return Run(instance=f"Instance{number}", time_limit=limit, status="FEASIBLE", objective=objective, bound=None,
                   first_feasible_s=1.0, wall_s=limit, load_before=1.0, checked=objective is not None)

    best = {f"Instance{n}": (1000, 900) for n in range(1, 25)}
    at_60 = {n: 1000 for n in range(1, 25)} | {8: 1001}
    at_600 = {n: 1050 for n in range(1, 25)} | {14: 1280, 20: None}  # Instance14's MIP figure is 1280
    runs = [run(n, 60.0, at_60[n]) for n in range(1, 25)] + [run(n, 600.0, at_600[n]) for n in range(1, 25)]
    text = render(runs, list(range(1, 25)), [60.0, 600.0], best, "command", "now", "machine")
    assert "| Instance14 | 1000 | 1280 | 1000 |" in text and "| Instance20 | 1000 | — | 1000 |" in text
    assert "- Instance1-12 at the best known value at 60 s: missed by Instance8 (1001)." in text
    assert "- Instance13-24 a feasible roster at 60 s and 600 s: missed by Instance20." in text
    assert "(13-19): missed by Instance14 (1280 against 1280)." in text
    assert "- Instance13-19 within 10% of the best known at 600 s: missed by Instance14 (1280)." in text
    met = [run(n, limit, 1000) for n in range(1, 25) for limit in (60.0, 600.0)]
    text = render(met, list(range(1, 25)), [60.0, 600.0], best, "command", "now", "machine")
    assert text.count(": met.") == 4
