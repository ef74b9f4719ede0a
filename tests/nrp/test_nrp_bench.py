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
    assert cells[:2] == ["Instance1", "607"]
    assert int(cells[2]) >= 607
    assert cells[3].endswith("%")
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
