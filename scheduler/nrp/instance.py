"""Reading a Curtois-Qu shift scheduling instance (schedulingbenchmarks.org format).

The format is described in ``shared/benchmarks/nrp/README.md``: ``SECTION_*`` headers, ``#`` comments,
comma-separated fields, sections ending at a blank line, CRLF line endings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

INSTANCE_DIR_ENV = "NRP_INSTANCE_DIR"


def default_instance_dir() -> Path:
    """The benchmark folder: ``$NRP_INSTANCE_DIR`` or the repository's sibling ``shared/benchmarks/nrp``."""
    override = os.environ.get(INSTANCE_DIR_ENV)
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "benchmarks" / "nrp"


def resolve_instance_path(name_or_path: str, instance_dir: Path | None = None) -> Path:
    """Accept a path, a file name in the benchmark folder, ``Instance7`` or just ``7``."""
    path = Path(name_or_path)
    if path.exists():
        return path
    folder = instance_dir or default_instance_dir()
    candidates = [folder / name_or_path, folder / f"{name_or_path}.txt", folder / f"Instance{name_or_path}.txt"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no instance {name_or_path!r} (looked in {folder})")


@dataclass(frozen=True)
class ShiftType:
    id: str
    minutes: int
    forbidden_next: tuple[str, ...]  # types that may not be worked the day after this one


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: dict[str, int]  # per shift type; 0 means never
    max_total_minutes: int
    min_total_minutes: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    weight_under: int
    weight_over: int


@dataclass
class Instance:
    name: str
    horizon: int
    shifts: list[ShiftType]
    staff: list[Staff]
    days_off: dict[str, set[int]] = field(default_factory=dict)
    on_requests: list[Request] = field(default_factory=list)
    off_requests: list[Request] = field(default_factory=list)
    cover: list[Cover] = field(default_factory=list)

    @property
    def shift_ids(self) -> list[str]:
        return [shift.id for shift in self.shifts]

    @property
    def shift_by_id(self) -> dict[str, ShiftType]:
        return {shift.id: shift for shift in self.shifts}

    @property
    def minutes_by_shift(self) -> dict[str, int]:
        return {shift.id: shift.minutes for shift in self.shifts}

    @property
    def staff_by_id(self) -> dict[str, Staff]:
        return {person.id: person for person in self.staff}

    def allowed_shifts(self, person: Staff, day: int) -> list[str]:
        """Shift types this person may work on this day under the per-day hard rules."""
        if day in self.days_off.get(person.id, ()):
            return []
        return [shift.id for shift in self.shifts if person.max_shifts.get(shift.id, 0) > 0]


def _sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if line.startswith("#"):
            continue
        if not line:
            current = None
            continue
        if line.startswith("SECTION_"):
            current = line
            sections[current] = []
            continue
        if current is None:
            raise ValueError(f"data outside a section: {line!r}")
        sections[current].append([part.strip() for part in line.split(",")])
    return sections


def parse_instance(text: str, name: str = "instance") -> Instance:
    sections = _sections(text)
    horizon = int(sections["SECTION_HORIZON"][0][0])

    shifts = []
    for fields in sections["SECTION_SHIFTS"]:
        forbidden = tuple(t for t in (fields[2].split("|") if len(fields) > 2 else []) if t)
        shifts.append(ShiftType(fields[0], int(fields[1]), forbidden))

    staff = []
    for fields in sections["SECTION_STAFF"]:
        max_shifts = {}
        for item in fields[1].split("|"):
            if item:
                shift_id, count = item.split("=")
                max_shifts[shift_id] = int(count)
        staff.append(
            Staff(
                id=fields[0],
                max_shifts=max_shifts,
                max_total_minutes=int(fields[2]),
                min_total_minutes=int(fields[3]),
                max_consecutive_shifts=int(fields[4]),
                min_consecutive_shifts=int(fields[5]),
                min_consecutive_days_off=int(fields[6]),
                max_weekends=int(fields[7]),
            )
        )

    days_off = {fields[0]: {int(d) for d in fields[1:] if d} for fields in sections.get("SECTION_DAYS_OFF", [])}

    def requests(section: str) -> list[Request]:
        return [Request(f[0], int(f[1]), f[2], int(f[3])) for f in sections.get(section, [])]

    cover = [Cover(int(f[0]), f[1], int(f[2]), int(f[3]), int(f[4])) for f in sections.get("SECTION_COVER", [])]
    return Instance(
        name=name,
        horizon=horizon,
        shifts=shifts,
        staff=staff,
        days_off=days_off,
        on_requests=requests("SECTION_SHIFT_ON_REQUESTS"),
        off_requests=requests("SECTION_SHIFT_OFF_REQUESTS"),
        cover=cover,
    )


def load_instance(path: str | Path) -> Instance:
    path = Path(path)
    return parse_instance(path.read_text(), name=path.stem)


Roster = dict[tuple[str, int], str]
"""(employee id, day) -> shift id for every worked shift."""


def write_roster(roster: Roster, path: str | Path) -> None:
    lines = [f"{employee},{day},{shift}" for (employee, day), shift in sorted(roster.items(), key=lambda kv: (kv[0][0], kv[0][1]))]
    Path(path).write_text("\n".join(lines) + ("\n" if lines else ""))
