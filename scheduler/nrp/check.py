"""Independent evaluator for Curtois-Qu rosters: ``python -m scheduler nrp-check INSTANCE ROSTER``.

Deliberately shares no code with the model (not even the instance parser): it reads the instance and
the roster itself and recomputes every hard rule and the objective with plain loops over days, so a
mistake in the model or its parser cannot hide behind the same mistake here.

Each violation is a ``Violation(rule, message)``; the rule codes are stable (tests rely on them):
``format``, ``unknown-employee``, ``unknown-shift``, ``day-range``, ``one-shift-per-day``, ``day-off``,
``succession``, ``max-shifts``, ``max-minutes``, ``min-minutes``, ``max-consecutive``,
``min-consecutive``, ``min-days-off``, ``max-weekends``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass
class CheckResult:
    violations: list[Violation] = field(default_factory=list)
    objective: int = 0
    on_request_cost: int = 0
    off_request_cost: int = 0
    under_cover_cost: int = 0
    over_cover_cost: int = 0

    @property
    def feasible(self) -> bool:
        return not self.violations

    def rules_violated(self) -> set[str]:
        return {v.rule for v in self.violations}


def _read_sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    name = None
    for line in text.replace("\r", "").split("\n"):
        line = line.strip()
        if line == "":
            name = None
        elif line.startswith("#"):
            pass
        elif line.startswith("SECTION_"):
            name = line
            sections[name] = []
        elif name is not None:
            sections[name].append([cell.strip() for cell in line.split(",")])
    return sections


def check_roster_text(instance_text: str, roster_text: str) -> CheckResult:
    result = CheckResult()

    def violation(rule: str, message: str) -> None:
        result.violations.append(Violation(rule, message))

    sec = _read_sections(instance_text)
    days = int(sec["SECTION_HORIZON"][0][0])
    length = {row[0]: int(row[1]) for row in sec["SECTION_SHIFTS"]}
    cannot_follow = {row[0]: [t for t in row[2].split("|") if t] if len(row) > 2 else [] for row in sec["SECTION_SHIFTS"]}
    contract = {}
    for row in sec["SECTION_STAFF"]:
        limits = {}
        for part in row[1].split("|"):
            if "=" in part:
                key, value = part.split("=")
                limits[key] = int(value)
        contract[row[0]] = {
            "limits": limits,
            "max_minutes": int(row[2]),
            "min_minutes": int(row[3]),
            "max_consecutive": int(row[4]),
            "min_consecutive": int(row[5]),
            "min_off": int(row[6]),
            "max_weekends": int(row[7]),
        }
    days_off = {row[0]: {int(x) for x in row[1:] if x != ""} for row in sec.get("SECTION_DAYS_OFF", [])}

    # grid[employee][day] = shift id or None
    grid = {employee: [None] * days for employee in contract}
    for number, line in enumerate(roster_text.replace("\r", "").split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != 3:
            violation("format", f"line {number}: expected EmployeeID,Day,ShiftID, got {line!r}")
            continue
        employee, day_text, shift = cells
        try:
            day = int(day_text)
        except ValueError:
            violation("format", f"line {number}: day {day_text!r} is not an integer")
            continue
        if employee not in contract:
            violation("unknown-employee", f"line {number}: employee {employee!r} is not in the instance")
            continue
        if shift not in length:
            violation("unknown-shift", f"line {number}: shift {shift!r} is not in the instance")
            continue
        if not 0 <= day < days:
            violation("day-range", f"line {number}: day {day} is outside 0..{days - 1}")
            continue
        if grid[employee][day] is not None:
            violation("one-shift-per-day", f"{employee} has two shifts on day {day} ({grid[employee][day]}, {shift})")
            continue
        grid[employee][day] = shift

    for employee, c in contract.items():
        row = grid[employee]
        for day in sorted(days_off.get(employee, ())):
            if 0 <= day < days and row[day] is not None:
                violation("day-off", f"{employee} works {row[day]} on day {day}, a day off")
        for day in range(days - 1):
            if row[day] is not None and row[day + 1] is not None and row[day + 1] in cannot_follow[row[day]]:
                violation("succession", f"{employee} works {row[day + 1]} on day {day + 1} after {row[day]} on day {day}")
        for shift in length:
            count = sum(1 for s in row if s == shift)
            allowed = c["limits"].get(shift, 0)
            if count > allowed:
                violation("max-shifts", f"{employee} works {shift} {count} times, at most {allowed}")
        minutes = sum(length[s] for s in row if s is not None)
        if minutes > c["max_minutes"]:
            violation("max-minutes", f"{employee} works {minutes} minutes, at most {c['max_minutes']}")
        if minutes < c["min_minutes"]:
            violation("min-minutes", f"{employee} works {minutes} minutes, at least {c['min_minutes']}")

        # Maximal runs of worked days and of days off, as (start, end inclusive, worked).
        runs = []
        start = 0
        for day in range(1, days + 1):
            if day == days or (row[day] is None) != (row[start] is None):
                runs.append((start, day - 1, row[start] is not None))
                start = day
        for first, last, worked in runs:
            run_length = last - first + 1
            touches_boundary = first == 0 or last == days - 1
            if worked and run_length > c["max_consecutive"]:
                violation("max-consecutive", f"{employee} works {run_length} days in a row from day {first}, at most {c['max_consecutive']}")
            if worked and not touches_boundary and run_length < c["min_consecutive"]:
                violation("min-consecutive", f"{employee} works only {run_length} days in a row from day {first}, at least {c['min_consecutive']}")
            if not worked and not touches_boundary and run_length < c["min_off"]:
                violation("min-days-off", f"{employee} has only {run_length} days off in a row from day {first}, at least {c['min_off']}")

        weekends = 0
        for saturday in range(5, days, 7):
            if row[saturday] is not None or (saturday + 1 < days and row[saturday + 1] is not None):
                weekends += 1
        if weekends > c["max_weekends"]:
            violation("max-weekends", f"{employee} works {weekends} weekends, at most {c['max_weekends']}")

    for employee, day_text, shift, weight in sec.get("SECTION_SHIFT_ON_REQUESTS", []):
        if grid.get(employee, [None] * days)[int(day_text)] != shift:
            result.on_request_cost += int(weight)
    for employee, day_text, shift, weight in sec.get("SECTION_SHIFT_OFF_REQUESTS", []):
        if grid.get(employee, [None] * days)[int(day_text)] == shift:
            result.off_request_cost += int(weight)
    for day_text, shift, required, weight_under, weight_over in sec.get("SECTION_COVER", []):
        day = int(day_text)
        assigned = sum(1 for employee in grid if grid[employee][day] == shift)
        result.under_cover_cost += int(weight_under) * max(0, int(required) - assigned)
        result.over_cover_cost += int(weight_over) * max(0, assigned - int(required))

    result.objective = result.on_request_cost + result.off_request_cost + result.under_cover_cost + result.over_cover_cost
    return result


def check_roster_files(instance_path: str | Path, roster_path: str | Path) -> CheckResult:
    return check_roster_text(Path(instance_path).read_text(), Path(roster_path).read_text())
