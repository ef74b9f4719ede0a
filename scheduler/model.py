"""Plain data of the scheduler: what goes in (a Problem) and what comes out (a Result).

Places are points on a local plane in whole metres, so that distances are exact integers
(``math.isqrt``) and every part of the engine, and the independent checker, computes the same
distance, travel time and cost without floating-point disagreement.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime


class ProblemError(ValueError):
    """The input cannot be scheduled as given (duplicate ids, unknown skill, bad times, ...)."""


@dataclass(frozen=True)
class Location:
    x_m: int
    y_m: int


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Preference:
    """A wish about shifts: ``field`` is "kind", "place" or "slot"; ``value`` what is wished.

    A positive weight is a liking (a shift that does not match it costs the weight), a negative
    weight a dislike (a shift that matches it costs the weight's size).
    """

    field: str
    value: str
    weight: int


@dataclass(frozen=True)
class Volunteer:
    id: str
    age: int
    home: Location
    availability: tuple[Interval, ...]
    skills: frozenset[str] = frozenset()
    max_shifts_per_week: int = 3
    max_minutes_per_week: int = 360
    max_travel_m: int = 3000
    preferences: tuple[Preference, ...] = ()
    team: str | None = None


@dataclass(frozen=True)
class Shift:
    """One dated, timed, placed unit of work.

    ``required_skills`` maps a skill to how many people on the shift must have it (a crossing needs
    one trained escort among its escorts); ``skills_for_all`` are skills everyone on it must have.
    ``place`` names the crossing or site and ``slot`` the time of day ("morning", "afternoon",
    "friday"); both serve continuity. ``team_activity`` marks shifts where teams should go together.
    """

    id: str
    start: datetime
    end: datetime
    location: Location
    place: str
    kind: str
    slot: str
    min_seats: int
    ideal_seats: int
    max_seats: int
    required_skills: dict[str, int] = field(default_factory=dict)
    skills_for_all: frozenset[str] = frozenset()
    min_age: int = 0
    priority: int = 1
    team_activity: bool = False


@dataclass(frozen=True)
class Assignment:
    volunteer_id: str
    shift_id: str


@dataclass(frozen=True)
class Weights:
    """Objective weights. The order of importance is set by their sizes: one seat below minimum
    at the lowest priority (1 x 250,000) costs more than one seat below ideal at any priority
    below 50 (priority x 5,000), and more than nine seats below ideal at priority 5 (225,000); a
    seat below ideal outweighs the fairness cost of the extra shift that fills it, and so on down.
    Much larger weights overflow the flow relaxation's costs on big districts (a 20,000-volunteer
    district with priorities up to 10 fails at 1,000,000). See README."""

    below_min: int = 250_000  # per seat below minimum, times the shift's priority
    below_ideal: int = 5_000  # per seat below ideal, times the shift's priority
    fairness_over: int = 400  # per shift a person works above their fair share
    fairness_max: int = 1_000  # on the largest excess over a fair share
    distance_per_km: int = 10  # per km from home to the shift (whole metres, rounded down)
    preference: int = 20  # per preference point missed
    continuity: int = 15  # per distinct person at a place and slot in a week
    team_split: int = 10  # per extra activity a team is split across on one day
    stability: int = 5  # per assignment added or removed against the published schedule


@dataclass(frozen=True)
class Problem:
    volunteers: tuple[Volunteer, ...]
    shifts: tuple[Shift, ...]
    skills: tuple[str, ...] = ()  # the known skills: any other skill name is an input error
    fixed: tuple[Assignment, ...] = ()  # locked by a manager or made by self sign-up
    published: tuple[Assignment, ...] = ()  # the schedule people have seen, when re-solving
    excluded: tuple[Assignment, ...] = ()  # pairs never to make (the volunteer declined the shift)
    weights: Weights = Weights()
    travel_speed_kmh: int = 12  # between two shifts, door to door
    now: datetime | None = None  # shifts starting before this are in the past and left alone


@dataclass(frozen=True)
class Progress:
    """One improving solution, as the progress callback receives it.

    ``source`` is "greedy" for the first feasible schedule (coverage-first greedy, no bound yet),
    "hint" for the schedule the solver starts from (the flow relaxation's assignment repaired, or
    the greedy one if that is better; with the flow bound) and "cpsat" for each improving solution
    the solver finds. ``elapsed_s`` counts from the call to ``solve``. The objective and
    coverage are the solver's own figures, which may still carry slack in auxiliary variables:
    the final Result recomputes them exactly from the assignments (never worse).
    """

    objective: float
    bound: float | None
    coverage_min: float
    elapsed_s: float
    source: str = "cpsat"


@dataclass
class SolveOptions:
    method: str = "cpsat"  # cpsat, greedy or mip
    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    relative_gap: float = 0.0  # stop when (objective - bound) / objective reaches this
    # A limit in CP-SAT's deterministic time units; with it (and interleaved search) a run gives
    # the same schedule for the same seed and workers even when the limit cuts the search short.
    deterministic_time: float | None = None
    progress: object = None  # a callable taking a Progress, or None
    log: bool = False
    # Set it (from any thread) to stop the solve as soon as it can: the best schedule found so far
    # is returned, never an exception, and the Result's stats carry "stopped": 1.
    stop: threading.Event | None = None


@dataclass
class Shortfall:
    """A shift left below its ideal seats, and why the people who could not come did not come.

    ``reasons`` counts volunteers by the first cause that keeps them off the shift, in the order
    underage, missing_skill, too_far, unavailable (these make them ineligible), declined (eligible,
    but the pair is in ``Problem.excluded``), then, among the eligible who did not decline,
    at_weekly_limit, on_overlapping_shift, not_chosen. ``eligible`` counts the people who could be
    put on the shift: eligible and not declined. ``lead_missing`` is set when no eligible person
    with a required skill was free, so the shift could not be staffed at all.
    """

    shift_id: str
    filled: int
    min_seats: int
    ideal_seats: int
    eligible: int
    reasons: dict[str, int]
    lead_missing: list[str] = field(default_factory=list)

    @property
    def no_eligible_person(self) -> bool:
        return self.eligible == 0


@dataclass
class Result:
    method: str
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, MODEL_INVALID, HEURISTIC
    assignments: list[Assignment]
    objective: int | None
    bound: float | None
    gap: float | None
    objective_terms: dict[str, int]
    coverage_min: float
    coverage_ideal: float
    wall_s: float
    build_s: float = 0.0  # index, model and translation into the solver's form
    first_solution_s: float | None = None  # from the end of the build to the first feasible schedule
    solutions_found: int = 0
    shortfalls: list[Shortfall] = field(default_factory=list)
    skipped_shifts: list[str] = field(default_factory=list)  # in the past, left alone
    stats: dict[str, float] = field(default_factory=dict)

    def summary_line(self) -> str:
        def fmt(value: float | None, spec: str) -> str:
            return "none" if value is None else format(value, spec)

        return (
            f"status={self.status} objective={fmt(self.objective, 'd')} bound={fmt(self.bound, '.0f')} "
            f"gap={fmt(self.gap, '.4f')} coverage_min={self.coverage_min:.4f} "
            f"coverage_ideal={self.coverage_ideal:.4f} wall_s={self.wall_s:.2f}"
        )
