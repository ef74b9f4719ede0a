"""Planning a period: demand and supply, solver runs, the preview, hand adjustments, publishing and
rolling back.

A run never touches what volunteers see: it writes its own proposal (PlanProposal). Publishing is
one transaction that re-checks the hard rules against the schedule as it is *now* (people signed up
or cancelled while the solver ran), then replaces the period's planned assignments (solver-made and
hand-made; self sign-ups and locked ones stay), tells every volunteer whose shifts changed (in the
app and through the outbox for SMS or e-mail), and records the publication as a version that can be
restored later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from volunteer_hub.accounts.tables import User
from volunteer_hub.clock import local_now, local_today, week_start
from volunteer_hub.db import for_update, is_unique_violation, write_transaction
from volunteer_hub.errors import Conflict, DomainError, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.notifications.services import notify
from volunteer_hub.planning.problem import Scope, input_signature, planned_assignments, scope_from_text
from volunteer_hub.planning.tables import (
    ACTIVE_RUN_STATES,
    ORIGIN_MANUAL,
    ORIGIN_SELF,
    ORIGIN_SOLVER,
    RUN_CANCELLED,
    RUN_FAILED,
    RUN_QUEUED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    PlanProposal,
    PlanRun,
    PlanShortfall,
    PublishedVersion,
)
from volunteer_hub.planning.worker import fail_stale_runs_now, queue_wait_s, utc_now
from volunteer_hub.reference.tables import Grid
from volunteer_hub.schools.tables import School
from volunteer_hub.shifts.services import shift_when
from volunteer_hub.shifts.tables import (
    CANCELLED,
    CONFIRMED,
    ENDED_BY_PUBLICATION,
    PLANNED_SOURCES,
    SHIFT_OPEN,
    WAITLISTED,
    Assignment,
    Shift,
)
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.services import ADULT_AGE, is_available
from volunteer_hub.volunteers.tables import AvailabilityWindow, UnavailableDate, Volunteer, VolunteerSkill

MAX_PERIOD_DAYS = 31
TIME_LIMIT_RANGE_S = (5, 600)
DEFAULT_TIME_LIMIT_S = 60
PREVIEW_LIST_LIMIT = 200  # rows of the long lists shown on the preview (totals are always complete)


class NeedsOverride(DomainError):
    """A hand-made assignment breaks a hard rule: say which and ask the manager to confirm."""

    status_code = 409


# ------------------------------------------------------------------------------ period and scope


def parse_scope(week: str | None = None, start: str | None = None, end: str | None = None,
                grids: list[int] | None = None) -> Scope:
    """A period (an ISO week such as 2026-W50, or a start and end date; by default next week) and
    the grids it covers (none: the whole district)."""
    errors: dict[str, str] = {}
    first = last = None
    if start or end:
        try:
            first = dt.date.fromisoformat(start or "")
        except ValueError:
            errors["start"] = _("Dates are written as YYYY-MM-DD.")
        try:
            last = dt.date.fromisoformat(end or "")
        except ValueError:
            errors["end"] = _("Dates are written as YYYY-MM-DD.")
    elif week:
        match = re.fullmatch(r"(\d{4})-W(\d{1,2})", week.strip())
        try:
            if not match:
                raise ValueError
            first = dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
            last = first + dt.timedelta(days=6)
        except ValueError:
            errors["week"] = _("Weeks are written as YYYY-Www, for example 2026-W50.")
    else:
        first = week_start(local_today()) + dt.timedelta(days=7)
        last = first + dt.timedelta(days=6)
    if first and last:
        if last < first:
            errors["end"] = _("The end is before the start.")
        elif (last - first).days + 1 > MAX_PERIOD_DAYS:
            errors["end"] = _("A period is at most %(n)s days.", n=MAX_PERIOD_DAYS)
        elif last < local_today():
            errors["end"] = _("This period is over; only today and later can be planned.")
    if errors:
        raise ValidationFailed(_("Please check the period."), errors)
    return Scope(first, last, tuple(sorted(set(grids or ()))))


async def check_grids(scope: Scope) -> None:
    if scope.grid_ids:
        known = {row["id"] for row in await Grid.select(Grid.id).where(Grid.id.is_in(list(scope.grid_ids)))}
        if known != set(scope.grid_ids):
            raise ValidationFailed(_("Please check the period."), {"grids": _("Please choose grids from the list.")})


def iso_week(day: dt.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


# ------------------------------------------------------------------------------ demand and supply


@dataclass
class DemandRow:
    kind: str
    shifts: int = 0
    seats_min: int = 0
    seats_ideal: int = 0
    signed_up: int = 0


@dataclass
class DemandSupply:
    scope: Scope
    rows: list[DemandRow]
    shifts: int
    seats_min: int
    seats_ideal: int
    signed_up: int
    volunteers_available: int
    hours_offered: float
    volunteers_total: int


async def demand_supply(scope: Scope) -> DemandSupply:
    """What the period asks for (shifts and seats by kind) beside what volunteers offer (people with
    time in the period, and the hours they offer, capped by their weekly maximum)."""
    await check_grids(scope)
    shifts = await Shift.select(Shift.id, Shift.kind, Shift.seats_min, Shift.seats_ideal).where(scope.shift_condition())
    confirmed = Counter()
    if shifts:
        for row in await Assignment.select(Assignment.shift).where(
                Assignment.shift.is_in([s["id"] for s in shifts]) & (Assignment.status == CONFIRMED)):
            confirmed[row["shift"]] += 1
    by_kind: dict[str, DemandRow] = {}
    for row in shifts:
        entry = by_kind.setdefault(row["kind"], DemandRow(row["kind"]))
        entry.shifts += 1
        entry.seats_min += row["seats_min"]
        entry.seats_ideal += row["seats_ideal"]
        entry.signed_up += confirmed[row["id"]]
    days = [scope.start + dt.timedelta(days=k) for k in range((scope.end - scope.start).days + 1)]
    weeks = len({week_start(day) for day in days})
    window_minutes: dict[int, int] = defaultdict(int)
    windows = await AvailabilityWindow.select(AvailabilityWindow.volunteer, AvailabilityWindow.weekday,
                                              AvailabilityWindow.start_minute, AvailabilityWindow.end_minute)
    away: dict[int, set] = defaultdict(set)
    for row in await UnavailableDate.select(UnavailableDate.volunteer, UnavailableDate.day).where(
            (UnavailableDate.day >= scope.start) & (UnavailableDate.day <= scope.end)):
        away[row["volunteer"]].add(row["day"])
    weekday_count = Counter(day.weekday() for day in days)
    for row in windows:
        count = weekday_count[row["weekday"]]
        if count:
            window_minutes[row["volunteer"]] += count * max(0, row["end_minute"] - row["start_minute"])
    volunteers = await Volunteer.select(Volunteer.id, Volunteer.max_minutes_per_week)
    offered = 0
    available = 0
    for row in volunteers:
        minutes = window_minutes.get(row["id"], 0)
        if away[row["id"]]:
            minutes = minutes * (len(days) - len(away[row["id"]])) // len(days)  # roughly, days away removed
        minutes = min(minutes, row["max_minutes_per_week"] * weeks)
        if minutes > 0:
            available += 1
            offered += minutes
    rows = sorted(by_kind.values(), key=lambda r: r.kind)
    return DemandSupply(scope=scope, rows=rows, shifts=len(shifts), seats_min=sum(r.seats_min for r in rows),
                        seats_ideal=sum(r.seats_ideal for r in rows), signed_up=sum(r.signed_up for r in rows),
                        volunteers_available=available, hours_offered=offered / 60, volunteers_total=len(volunteers))


# ------------------------------------------------------------------------------ runs


@dataclass
class RunView:
    id: int
    scope: Scope
    status: str
    time_limit_s: int
    stability: bool
    parent_run: int | None
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress_objective: float | None
    progress_bound: float | None
    progress_coverage_min: float | None
    progress_elapsed_s: float | None
    progress_updates: int
    first_progress_s: float | None
    solver_status: str
    objective: int | None
    bound: float | None
    gap: float | None
    coverage_min: float | None
    coverage_ideal: float | None
    objective_terms: dict
    stats: dict
    error: str
    published_at: dt.datetime | None
    grid_names: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN_STATES

    @property
    def progress_gap(self) -> float | None:
        if self.progress_objective is None or self.progress_bound is None:
            return None
        return max(0.0, self.progress_objective - self.progress_bound) / max(1.0, abs(self.progress_objective))

    @property
    def elapsed_s(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or utc_now()) - self.started_at).total_seconds()


def run_error_text(code: str) -> str:
    if code == "worker_lost":
        return _("The worker stopped during the run (it was stopped or its machine went away). The published schedule is unchanged; please start the run again.")
    if code == "internal_error":
        return _("The solver failed unexpectedly. The published schedule is unchanged.")
    if code == "queue_unavailable":
        return _("The job queue could not be reached, so the run never started.")
    if code == "queue_timeout":
        return _("No worker took the run within %(n)s seconds, so it never started. Check that the worker is running (make run starts one beside the web server), then start the run again.",
                 n=round(queue_wait_s()))
    return code  # the solver's own message about the input (in English)


def _json(value) -> dict:
    import json

    if isinstance(value, str):
        return json.loads(value or "{}")
    return value or {}


async def _run_view(row: dict, users: dict[int, str] | None = None) -> RunView:
    scope = scope_from_text(row["period_start"], row["period_end"], row["grid_ids"])
    if users is None:
        user = await User.select(User.display_name, User.login).where(User.id == row["created_by"]).first() if row["created_by"] else None
        creator = (user["display_name"] or user["login"]) if user else ""
    else:
        creator = users.get(row["created_by"], "")
    grid_names = []
    if scope.grid_ids:
        grid_names = [g["name"] for g in await Grid.select(Grid.name).where(Grid.id.is_in(list(scope.grid_ids))).order_by(Grid.code)]
    return RunView(
        id=row["id"], scope=scope, status=row["status"], time_limit_s=row["time_limit_s"], stability=row["stability"],
        parent_run=row["parent_run"], created_by=creator, created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], progress_objective=row["progress_objective"], progress_bound=row["progress_bound"],
        progress_coverage_min=row["progress_coverage_min"], progress_elapsed_s=row["progress_elapsed_s"],
        progress_updates=row["progress_updates"], first_progress_s=row["first_progress_s"],
        solver_status=row["solver_status"], objective=row["objective"], bound=row["bound"], gap=row["gap"],
        coverage_min=row["coverage_min"], coverage_ideal=row["coverage_ideal"],
        objective_terms=_json(row["objective_terms"]), stats=_json(row["stats"]), error=row["error"],
        published_at=row["published_at"], grid_names=grid_names)


async def start_run(user: User, scope: Scope, time_limit_s: int | None = None, parent_run_id: int | None = None,
                    stability: bool = False) -> RunView:
    """Queue a solver run for the period and scope; one at a time per period and scope."""
    await check_grids(scope)
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    if not TIME_LIMIT_RANGE_S[0] <= limit <= TIME_LIMIT_RANGE_S[1]:
        raise ValidationFailed(_("Please check the form."), {"time_limit": _(
            "The time limit is between %(low)s and %(high)s seconds.", low=TIME_LIMIT_RANGE_S[0], high=TIME_LIMIT_RANGE_S[1])})
    await fail_stale_runs_now()
    async with write_transaction():
        busy = await PlanRun.select(PlanRun.id).where(
            (PlanRun.scope_key == scope.key) & PlanRun.status.is_in(list(ACTIVE_RUN_STATES))).first()
        if busy:
            raise Conflict(_("Run %(n)s for this period and scope is still going; wait for it to end or cancel it first.",
                             n=busy["id"]))
        run = PlanRun(period_start=scope.start, period_end=scope.end, grid_ids=scope.grid_text, scope_key=scope.key,
                      status=RUN_QUEUED, time_limit_s=limit, stability=stability, parent_run=parent_run_id,
                      created_by=user.id)
        try:
            await run.save()
        except Exception as error:
            if is_unique_violation(error):
                raise Conflict(_("Another run for this period and scope has just started.")) from error
            raise
    from volunteer_hub.planning.queue import enqueue_run

    try:
        await asyncio.to_thread(enqueue_run, run.id)
    except Exception as error:  # noqa: BLE001 - any queue failure leaves the run failed, not queued forever
        await PlanRun.update({PlanRun.status: RUN_FAILED, PlanRun.error: "queue_unavailable",
                              PlanRun.finished_at: utc_now()}).where(PlanRun.id == run.id)
        raise Conflict(run_error_text("queue_unavailable")) from error
    return await get_run(run.id)


async def resolve_run(user: User, run_id: int, time_limit_s: int | None = None) -> RunView:
    """Re-solve a run's period and scope: its locks and hand-made rows are kept, and (when the
    period has a published schedule) as few published assignments as possible change."""
    run = await get_run(run_id)
    published = await PublishedVersion.exists().where(PublishedVersion.scope_key == run.scope.key)
    return await start_run(user, run.scope, time_limit_s or run.time_limit_s, parent_run_id=run.id, stability=published)


async def get_run(run_id: int) -> RunView:
    await fail_stale_runs_now()
    row = await PlanRun.select().where(PlanRun.id == run_id).first()
    if row is None:
        raise NotFound(_("No such run."))
    return await _run_view(row)


async def list_runs(scope: Scope | None = None, limit: int = 20) -> list[RunView]:
    await fail_stale_runs_now()
    query = PlanRun.select().order_by(PlanRun.id, ascending=False).limit(limit)
    if scope is not None:
        query = query.where(PlanRun.scope_key == scope.key)
    rows = await query
    creators = {row["created_by"] for row in rows if row["created_by"]}
    users = {u["id"]: u["display_name"] or u["login"] for u in await User.select(User.id, User.display_name, User.login).where(
        User.id.is_in(list(creators)))} if creators else {}
    return [await _run_view(row, users) for row in rows]


async def cancel_run(run_id: int) -> RunView:
    async with write_transaction():
        row = await for_update(PlanRun.select(PlanRun.status).where(PlanRun.id == run_id)).first()
        if row is None:
            raise NotFound(_("No such run."))
        if row["status"] == RUN_QUEUED:
            await PlanRun.update({PlanRun.status: RUN_CANCELLED, PlanRun.cancel_requested: True,
                                  PlanRun.finished_at: utc_now()}).where(PlanRun.id == run_id)
        elif row["status"] == RUN_RUNNING:
            await PlanRun.update({PlanRun.cancel_requested: True}).where(PlanRun.id == run_id)
        else:
            raise Conflict(_("This run has already ended."))
    return await get_run(run_id)


# ------------------------------------------------------------------------------ the preview


@dataclass
class CellShift:
    id: int
    time: str
    filled: int
    seats_min: int
    seats_ideal: int
    seats_max: int

    @property
    def state(self) -> str:
        if self.filled < self.seats_min:
            return "short"
        if self.filled < self.seats_ideal:
            return "under"
        return "ok"


@dataclass
class GridRow:
    place: str
    cells: list[list[CellShift]]


@dataclass
class ShortfallRow:
    shift_id: int
    title: str
    when: str
    filled: int
    seats_min: int
    seats_ideal: int
    eligible: int
    reasons: list[tuple[str, int]]
    lead_missing: bool


@dataclass
class LoadRow:
    volunteer_id: int
    name: str
    shifts: int
    minutes: int
    max_shifts_per_week: int


@dataclass
class ChangeRow:
    volunteer_id: int
    name: str
    added: list[str]
    removed: list[str]
    moved: list[tuple[str, str]]


@dataclass
class Preview:
    run: RunView
    days: list[dt.date]
    grid: list[GridRow]
    shortfalls: list[ShortfallRow]
    shortfall_count: int
    seats_short_min: int
    seats_short_ideal: int
    loads: list[LoadRow]
    volunteers_used: int
    changes: list[ChangeRow]
    change_totals: dict[str, int]
    input_changed: bool
    can_publish: bool


def reason_label(reason: str) -> str:
    labels = {
        "underage": _("too young"),
        "missing_skill": _("missing a required skill"),
        "too_far": _("too far from home"),
        "unavailable": _("not available then"),
        "declined": _("declined this shift"),
        "at_weekly_limit": _("at their weekly limit"),
        "on_overlapping_shift": _("on an overlapping shift"),
        "not_chosen": _("free, but not chosen"),
    }
    return labels.get(reason, reason)


async def _place_names(shift_rows: list[dict]) -> dict[int, str]:
    school_ids = {row["school"] for row in shift_rows if row["school"]}
    site_ids = {row["site"] for row in shift_rows if row["site"]}
    schools = {r["id"]: r["name"] for r in await School.select(School.id, School.name).where(School.id.is_in(list(school_ids)))} if school_ids else {}
    sites = {r["id"]: r["name"] for r in await Site.select(Site.id, Site.name).where(Site.id.is_in(list(site_ids)))} if site_ids else {}
    return {row["id"]: schools.get(row["school"]) or sites.get(row["site"]) or row["title"] for row in shift_rows}


async def _proposal_pairs(run_id: int) -> list[dict]:
    return await PlanProposal.select(PlanProposal.id, PlanProposal.shift, PlanProposal.volunteer, PlanProposal.origin,
                                     PlanProposal.locked, PlanProposal.override).where(PlanProposal.run == run_id)


async def preview(run_id: int) -> Preview:
    run = await get_run(run_id)
    if run.status != RUN_SUCCEEDED:
        raise Conflict(_("This run has no schedule to preview (it is %(status)s).", status=run_status_label(run.status)))
    scope = run.scope
    shift_rows = await Shift.select(Shift.id, Shift.title, Shift.day, Shift.starts_at, Shift.ends_at, Shift.school,
                                    Shift.site, Shift.seats_min, Shift.seats_ideal, Shift.seats_max, Shift.status).where(
        (Shift.day >= scope.start) & (Shift.day <= scope.end)
        & (Shift.grid.is_in(list(scope.grid_ids)) if scope.grid_ids else (Shift.id > 0))).order_by(Shift.starts_at, Shift.id)
    shift_by_id = {row["id"]: row for row in shift_rows}
    # The volunteers' names and limits come with the proposal (one join), not through an IN list of
    # thousands of ids.
    proposal = await PlanProposal.select(
        PlanProposal.id, PlanProposal.shift, PlanProposal.volunteer, PlanProposal.origin, PlanProposal.locked,
        PlanProposal.override, PlanProposal.volunteer.name.as_alias("volunteer_name"),
        PlanProposal.volunteer.max_shifts_per_week.as_alias("volunteer_max_shifts")).where(PlanProposal.run == run_id)
    filled = Counter(row["shift"] for row in proposal)
    places = await _place_names(shift_rows)
    days = [scope.start + dt.timedelta(days=k) for k in range((scope.end - scope.start).days + 1)]
    day_index = {day: k for k, day in enumerate(days)}
    rows_by_place: dict[str, list[list[CellShift]]] = {}
    for row in shift_rows:
        if row["status"] != SHIFT_OPEN:
            continue
        cells = rows_by_place.setdefault(places[row["id"]], [[] for _ in days])
        cells[day_index[row["day"]]].append(CellShift(row["id"], row["starts_at"].strftime("%H:%M"), filled[row["id"]],
                                                      row["seats_min"], row["seats_ideal"], row["seats_max"]))
    grid = [GridRow(place, cells) for place, cells in sorted(rows_by_place.items())]

    shortfall_rows = await PlanShortfall.select().where(PlanShortfall.run == run_id)
    shortfall_rows.sort(key=lambda r: (r["filled"] >= r["seats_min"], shift_by_id.get(r["shift"], {}).get("starts_at") or dt.datetime.max))
    shortfalls = []
    for row in shortfall_rows[:PREVIEW_LIST_LIMIT]:
        shift = shift_by_id.get(row["shift"])
        if shift is None:
            continue
        reasons = [(reason_label(k), v) for k, v in _json(row["reasons"]).items() if v]
        shortfalls.append(ShortfallRow(row["shift"], f"{places[row['shift']]} · {shift['title']}", shift_when(shift),
                                       row["filled"], row["seats_min"], row["seats_ideal"], row["eligible"], reasons,
                                       bool(row["lead_missing"])))
    seats_short_min = sum(max(0, r["seats_min"] - r["filled"]) for r in shortfall_rows)
    seats_short_ideal = sum(max(0, r["seats_ideal"] - r["filled"]) for r in shortfall_rows)

    names = {row["volunteer"]: row["volunteer_name"] for row in proposal if row["volunteer_name"] is not None}
    limits = {row["volunteer"]: row["volunteer_max_shifts"] for row in proposal if row["volunteer_max_shifts"] is not None}
    per_volunteer: dict[int, list[int]] = defaultdict(list)
    for row in proposal:
        per_volunteer[row["volunteer"]].append(row["shift"])
    loads = sorted((LoadRow(v, names.get(v, str(v)), len(shifts),
                            sum(int((shift_by_id[s]["ends_at"] - shift_by_id[s]["starts_at"]).total_seconds() // 60) for s in shifts if s in shift_by_id),
                            limits.get(v, 0)) for v, shifts in per_volunteer.items()),
                   key=lambda r: (-r.shifts, -r.minutes, r.name))

    changes, totals = await _changes(scope, proposal, shift_by_id, places, names, limit=PREVIEW_LIST_LIMIT)
    stored = await PlanRun.select(PlanRun.input_signature).where(PlanRun.id == run_id).first()
    changed = await input_signature(scope) != stored["input_signature"]
    return Preview(run=run, days=days, grid=grid, shortfalls=shortfalls, shortfall_count=len(shortfall_rows),
                   seats_short_min=seats_short_min, seats_short_ideal=seats_short_ideal,
                   loads=loads[:PREVIEW_LIST_LIMIT], volunteers_used=len(per_volunteer), changes=changes[:PREVIEW_LIST_LIMIT],
                   change_totals=totals, input_changed=changed,
                   can_publish=run.published_at is None and scope.end >= local_today())


async def _volunteer_names(volunteer_ids) -> dict[int, str]:
    if not volunteer_ids:
        return {}
    return {r["id"]: r["name"] for r in await Volunteer.select(Volunteer.id, Volunteer.name).where(
        Volunteer.id.is_in(list(volunteer_ids)))}


def _planned_target(proposal: list[dict], shift_by_id: dict[int, dict], now: dt.datetime) -> dict[tuple[int, int], dict]:
    """The proposal's planned rows (not self sign-ups) on open shifts that have not started."""
    target = {}
    for row in proposal:
        shift = shift_by_id.get(row["shift"])
        if row["origin"] == ORIGIN_SELF or shift is None or shift["status"] != SHIFT_OPEN or shift["starts_at"] <= now:
            continue
        target[(row["shift"], row["volunteer"])] = row
    return target


def _pair_moves(added: list[tuple[int, int]], removed: list[tuple[int, int]], shift_by_id: dict[int, dict]):
    """Per volunteer: an assignment removed and another added on the same day is a move."""
    moves, plain_added, plain_removed = [], list(added), list(removed)
    for shift_out, volunteer in list(plain_removed):
        day = shift_by_id[shift_out]["day"] if shift_out in shift_by_id else None
        match = next(((s, v) for s, v in plain_added if v == volunteer and s in shift_by_id and shift_by_id[s]["day"] == day), None)
        if match:
            moves.append((volunteer, shift_out, match[0]))
            plain_added.remove(match)
            plain_removed.remove((shift_out, volunteer))
    return moves, plain_added, plain_removed


async def _changes(scope: Scope, proposal: list[dict], shift_by_id: dict[int, dict], places: dict[int, str],
                   known_names: dict[int, str] | None = None, limit: int | None = None):
    """Per volunteer, what publishing would add, remove and move (the first ``limit`` by name, all
    counted in the totals). ``known_names``: names already read, so only the others are looked up."""
    now = local_now()
    current = {(row["shift"], row["volunteer"]) for row in await planned_assignments(scope)}
    target = set(_planned_target(proposal, shift_by_id, now))
    # Shifts outside the preview's rows (started ones) never change.
    added = sorted(target - current)
    removed = sorted(p for p in current - target if p[0] in shift_by_id)
    moves, plain_added, plain_removed = _pair_moves(added, removed, shift_by_id)

    def label(shift_id: int) -> str:
        shift = shift_by_id[shift_id]
        return f"{shift_when(shift)} {places.get(shift_id, shift['title'])}"

    by_volunteer: dict[int, ChangeRow] = {}
    involved = {v for _, v in added + removed}
    known_names = known_names or {}
    names = {v: known_names[v] for v in involved if v in known_names}
    names.update(await _volunteer_names(involved - set(names)))
    # Rows hold shift ids first; only the rows shown get their labels.
    for shift_id, v in plain_added:
        by_volunteer.setdefault(v, ChangeRow(v, names.get(v, str(v)), [], [], [])).added.append(shift_id)
    for shift_id, v in plain_removed:
        by_volunteer.setdefault(v, ChangeRow(v, names.get(v, str(v)), [], [], [])).removed.append(shift_id)
    for v, old, new in moves:
        by_volunteer.setdefault(v, ChangeRow(v, names.get(v, str(v)), [], [], [])).moved.append((old, new))
    totals = {"added": len(plain_added), "removed": len(plain_removed), "moved": len(moves),
              "volunteers": len(by_volunteer)}
    rows = sorted(by_volunteer.values(), key=lambda c: c.name)
    if limit is not None:
        rows = rows[:limit]
    for row in rows:
        row.added = [label(s) for s in row.added]
        row.removed = [label(s) for s in row.removed]
        row.moved = [(label(old), label(new)) for old, new in row.moved]
    return rows, totals


def run_status_label(status: str) -> str:
    return {
        RUN_QUEUED: _("waiting for the worker"),
        RUN_RUNNING: _("running"),
        RUN_SUCCEEDED: _("finished"),
        RUN_FAILED: _("failed"),
        RUN_CANCELLED: _("cancelled"),
    }.get(status, status)


# ------------------------------------------------------------------------------ hand adjustments


@dataclass
class ShiftPlan:
    run: RunView
    shift: dict
    place: str
    rows: list[dict]  # proposal rows with the volunteer's name
    editable: bool


async def _editable_run(run_id: int) -> RunView:
    run = await get_run(run_id)
    if run.status != RUN_SUCCEEDED:
        raise Conflict(_("Only a finished run's schedule can be changed."))
    if run.published_at is not None:
        raise Conflict(_("This run is published; re-solve to plan further changes."))
    return run


async def shift_plan(run_id: int, shift_id: int) -> ShiftPlan:
    run = await get_run(run_id)
    shift = await Shift.select().where(Shift.id == shift_id).first()
    if shift is None or not run.scope.start <= shift["day"] <= run.scope.end:
        raise NotFound(_("No such shift in this run's period."))
    rows = await PlanProposal.select(PlanProposal.id, PlanProposal.volunteer, PlanProposal.origin, PlanProposal.locked,
                                     PlanProposal.override, PlanProposal.volunteer.name.as_alias("name"),
                                     PlanProposal.volunteer.phone.as_alias("phone")).where(
        (PlanProposal.run == run_id) & (PlanProposal.shift == shift_id)).order_by(PlanProposal.id)
    places = await _place_names([shift])
    return ShiftPlan(run=run, shift=shift, place=places[shift_id], rows=rows,
                     editable=run.status == RUN_SUCCEEDED and run.published_at is None)


async def set_locked(run_id: int, proposal_id: int, locked: bool) -> None:
    await _editable_run(run_id)
    row = await PlanProposal.select(PlanProposal.origin).where(
        (PlanProposal.id == proposal_id) & (PlanProposal.run == run_id)).first()
    if row is None:
        raise NotFound(_("No such assignment in this run."))
    if row["origin"] == ORIGIN_SELF:
        raise Conflict(_("A volunteer's own sign-up always stays; there is nothing to lock."))
    await PlanProposal.update({PlanProposal.locked: locked}).where(PlanProposal.id == proposal_id)


async def remove_row(run_id: int, proposal_id: int) -> None:
    await _editable_run(run_id)
    row = await PlanProposal.select(PlanProposal.origin, PlanProposal.locked).where(
        (PlanProposal.id == proposal_id) & (PlanProposal.run == run_id)).first()
    if row is None:
        raise NotFound(_("No such assignment in this run."))
    if row["origin"] == ORIGIN_SELF:
        raise Conflict(_("This is the volunteer's own sign-up; only they can cancel it."))
    if row["locked"]:
        raise Conflict(_("This assignment is locked; unlock it first."))
    await PlanProposal.delete().where(PlanProposal.id == proposal_id)


async def find_volunteer(reference: str) -> dict:
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_("Please check the form."), {"volunteer": _("Give the volunteer's mobile number.")})
    row = await Volunteer.select(Volunteer.id, Volunteer.name, Volunteer.birth_year, Volunteer.max_shifts_per_week,
                                 Volunteer.max_minutes_per_week).where(Volunteer.phone == reference).first()
    if row is None:
        raise ValidationFailed(_("Please check the form."), {"volunteer": _("No volunteer has this mobile number.")})
    return row


async def _broken_rules(volunteer: dict, shift: dict, planned_shift_ids: list[int], seats_taken: int) -> list[str]:
    """The hard rules that putting this volunteer on this shift would break, given the shifts they
    would then work (``planned_shift_ids``, this one excluded) and the seats already taken on it."""
    broken = []
    if shift["adults_only"] and shift["day"].year - volunteer["birth_year"] < ADULT_AGE:
        broken.append(_("This shift needs adults (%(age)s or older).", age=ADULT_AGE))
    required = {s for s in (shift["required_skills"] or "").split(",") if s}
    skills = {r["skill"] for r in await VolunteerSkill.select(VolunteerSkill.skill).where(VolunteerSkill.volunteer == volunteer["id"])}
    if required - skills:
        broken.append(_("The volunteer lacks a skill this shift needs."))
    if seats_taken >= shift["seats_max"]:
        broken.append(_("The shift is full (%(n)s seats).", n=shift["seats_max"]))
    others = await Shift.select(Shift.id, Shift.starts_at, Shift.ends_at, Shift.day).where(
        Shift.id.is_in(planned_shift_ids)) if planned_shift_ids else []
    if any(o["starts_at"] < shift["ends_at"] and o["ends_at"] > shift["starts_at"] for o in others):
        broken.append(_("The volunteer is on another shift at that time."))
    monday = week_start(shift["day"])
    same_week = [o for o in others if monday <= o["day"] < monday + dt.timedelta(days=7)]
    minutes = sum((o["ends_at"] - o["starts_at"]).total_seconds() / 60 for o in same_week)
    if len(same_week) + 1 > volunteer["max_shifts_per_week"] or \
            minutes + (shift["ends_at"] - shift["starts_at"]).total_seconds() / 60 > volunteer["max_minutes_per_week"]:
        broken.append(_("This goes over the volunteer's weekly maximum."))
    if not await is_available(volunteer["id"], shift["starts_at"], shift["ends_at"]):
        broken.append(_("The shift is outside the volunteer's stated availability."))
    declined = await Assignment.exists().where((Assignment.shift == shift["id"]) & (Assignment.volunteer == volunteer["id"])
                                               & (Assignment.status == CANCELLED)
                                               & (Assignment.cancelled_by != ENDED_BY_PUBLICATION))
    if declined:
        broken.append(_("The volunteer left or declined this shift before."))
    return broken


async def _live_shift_ids_outside(volunteer_id: int, scope: Scope, exclude_planned_in_scope: bool = True) -> list[int]:
    """The volunteer's confirmed shifts that a publication of this scope does not replace."""
    rows = await Assignment.select(Assignment.shift, Assignment.source, Assignment.locked,
                                   Assignment.shift.day.as_alias("day"), Assignment.shift.grid.as_alias("grid")).where(
        (Assignment.volunteer == volunteer_id) & (Assignment.status == CONFIRMED) & (Assignment.shift.status == SHIFT_OPEN))
    kept = []
    for row in rows:
        in_scope = scope.start <= row["day"] <= scope.end and (not scope.grid_ids or row["grid"] in scope.grid_ids)
        if exclude_planned_in_scope and in_scope and row["source"] in PLANNED_SOURCES and not row["locked"]:
            continue
        kept.append(row["shift"])
    return kept


async def add_row(run_id: int, shift_id: int, volunteer_reference: str, confirm: bool = False) -> list[str]:
    """Add an assignment by hand. Broken hard rules are returned as warnings and need ``confirm``;
    the rule broken is kept with the row so publishing does not refuse it again."""
    run = await _editable_run(run_id)
    volunteer = await find_volunteer(volunteer_reference)
    shift = await Shift.select().where(Shift.id == shift_id).first()
    if shift is None or not run.scope.start <= shift["day"] <= run.scope.end or shift["status"] != SHIFT_OPEN:
        raise NotFound(_("No such shift in this run's period."))
    if shift["starts_at"] <= local_now():
        raise ValidationFailed(_("This shift has started or is over."))
    proposal = await _proposal_pairs(run_id)
    if any(r["shift"] == shift_id and r["volunteer"] == volunteer["id"] for r in proposal):
        raise Conflict(_("This volunteer is already on this shift."))
    mine = {r["shift"] for r in proposal if r["volunteer"] == volunteer["id"]}
    mine |= set(await _live_shift_ids_outside(volunteer["id"], run.scope))
    mine.discard(shift_id)
    seats_taken = sum(1 for r in proposal if r["shift"] == shift_id)
    broken = await _broken_rules(volunteer, shift, sorted(mine), seats_taken)
    if broken and not confirm:
        raise NeedsOverride(_("Adding this assignment breaks a rule. Add it anyway?"), {"rules": " ".join(broken)})
    await PlanProposal(run=run_id, shift=shift_id, volunteer=volunteer["id"], origin=ORIGIN_MANUAL, locked=True,
                       override=" ".join(broken)).save()
    return broken


# ------------------------------------------------------------------------------ publishing


@dataclass
class PublishSummary:
    version: int
    added: int
    removed: int
    moved: int


def _shift_label(shift: dict) -> str:
    return f"{shift_when(shift)} {shift['title']}"


async def _validate_target(scope: Scope, target: dict[tuple[int, int], dict], shift_by_id: dict[int, dict],
                           since: dt.datetime | None) -> list[str]:
    """Hard rules the target planned schedule would break against the schedule as it is now."""
    problems = []
    names = await _volunteer_names({v for _, v in target})
    # seats: self sign-ups and locked-but-unplanned people stay on top of the target
    shift_ids = sorted({s for s, _ in target})
    staying = Counter()
    if shift_ids:
        for row in await Assignment.select(Assignment.shift, Assignment.volunteer, Assignment.source).where(
                Assignment.shift.is_in(shift_ids) & (Assignment.status == CONFIRMED)):
            if row["source"] not in PLANNED_SOURCES and (row["shift"], row["volunteer"]) not in target:
                staying[row["shift"]] += 1
    planned_count = Counter(s for s, _ in target)
    for shift_id, count in planned_count.items():
        shift = shift_by_id[shift_id]
        if staying[shift_id] + count > shift["seats_max"]:
            problems.append(_("%(shift)s would have %(n)s people for %(max)s seats (people signed up meanwhile).",
                              shift=_shift_label(shift), n=staying[shift_id] + count, max=shift["seats_max"]))
    by_volunteer: dict[int, list[int]] = defaultdict(list)
    for (shift_id, volunteer_id), row in target.items():
        if not row.get("override"):
            by_volunteer[volunteer_id].append(shift_id)
    limits = {r["id"]: r for r in await Volunteer.select(Volunteer.id, Volunteer.max_shifts_per_week, Volunteer.max_minutes_per_week).where(
        Volunteer.id.is_in(list(by_volunteer)))} if by_volunteer else {}
    for volunteer_id, shift_list in by_volunteer.items():
        outside = [s for s in await _live_shift_ids_outside(volunteer_id, scope) if s not in shift_list]
        outside_rows = await Shift.select(Shift.id, Shift.starts_at, Shift.ends_at, Shift.title, Shift.day).where(
            Shift.id.is_in(outside)) if outside else []
        planned = [shift_by_id[s] for s in shift_list]
        mine = planned + outside_rows
        name = names.get(volunteer_id, "")
        # Only what the publication adds can break a rule: clashes among shifts it keeps are not its doing.
        for a in planned:
            for b in mine:
                if b["id"] != a["id"] and b["starts_at"] < a["ends_at"] and a["starts_at"] < b["ends_at"] \
                        and (b["id"] not in shift_list or a["id"] < b["id"]):
                    problems.append(_("%(name)s would be on two shifts at once (%(a)s and %(b)s).", name=name,
                                      a=_shift_label(a), b=_shift_label(b)))
        per_week: dict[dt.date, list[dict]] = defaultdict(list)
        for row in mine:
            per_week[week_start(row["day"])].append(row)
        planned_weeks = {week_start(row["day"]) for row in planned}
        limit = limits[volunteer_id]
        for monday, rows in per_week.items():
            if monday not in planned_weeks:
                continue
            minutes = sum((r["ends_at"] - r["starts_at"]).total_seconds() / 60 for r in rows)
            if len(rows) > limit["max_shifts_per_week"] or minutes > limit["max_minutes_per_week"]:
                problems.append(_("%(name)s would go over their weekly maximum in the week of %(day)s.", name=name,
                                  day=monday.isoformat()))
    if since is not None and target:
        declined = await Assignment.select(Assignment.shift, Assignment.volunteer).where(
            (Assignment.status == CANCELLED) & (Assignment.cancelled_by != ENDED_BY_PUBLICATION)
            & (Assignment.cancelled_at >= since) & Assignment.shift.is_in(shift_ids))
        for row in declined:
            if (row["shift"], row["volunteer"]) in target:
                shift = shift_by_id[row["shift"]]
                problems.append(_("%(name)s left %(shift)s after the run started.", name=names.get(row["volunteer"], ""),
                                  shift=_shift_label(shift)))
    return problems


async def _apply(user: User, scope: Scope, target: dict[tuple[int, int], dict], shift_by_id: dict[int, dict],
                 run_id: int | None, restored: int | None) -> PublishSummary:
    """Replace the scope's live planned assignments by ``target``; notify; record the version.
    Runs inside the caller's write transaction."""
    now = local_now()
    current_rows = await planned_assignments(scope)
    current = {(row["shift"], row["volunteer"]): row for row in current_rows}
    added = sorted(set(target) - set(current))
    removed = sorted(p for p in set(current) - set(target) if p[0] in shift_by_id and shift_by_id[p[0]]["starts_at"] > now)
    cancelled_at = utc_now()
    if removed:
        await Assignment.update({Assignment.status: CANCELLED, Assignment.cancelled_at: cancelled_at,
                                 Assignment.cancelled_by: ENDED_BY_PUBLICATION}).where(
            Assignment.id.is_in([current[p]["id"] for p in removed]))
    for pair in set(target) & set(current):
        locked = bool(target[pair].get("locked"))
        if current[pair]["locked"] != locked:
            await Assignment.update({Assignment.locked: locked}).where(Assignment.id == current[pair]["id"])
    waiting = {}
    if added:
        for row in await Assignment.select(Assignment.id, Assignment.shift, Assignment.volunteer).where(
                Assignment.shift.is_in(sorted({s for s, _ in added})) & (Assignment.status == WAITLISTED)):
            waiting[(row["shift"], row["volunteer"])] = row["id"]
    new_rows = []
    for pair in added:
        row = target[pair]
        source = "manual" if row.get("origin") == ORIGIN_MANUAL else "solver"
        if pair in waiting:
            await Assignment.update({Assignment.status: CONFIRMED, Assignment.source: source,
                                     Assignment.locked: bool(row.get("locked"))}).where(Assignment.id == waiting[pair])
        else:
            new_rows.append(Assignment(shift=pair[0], volunteer=pair[1], status=CONFIRMED, source=source,
                                       locked=bool(row.get("locked"))))
    for start in range(0, len(new_rows), 500):
        await Assignment.insert(*new_rows[start:start + 500])

    moves, plain_added, plain_removed = _pair_moves(added, removed, shift_by_id)
    users = {r["id"]: r["user"] for r in await Volunteer.select(Volunteer.id, Volunteer.user).where(
        Volunteer.id.is_in(sorted({v for _, v in added + removed})))} if added or removed else {}

    def params(shift_id: int) -> dict:
        shift = shift_by_id[shift_id]
        return {"title": shift["title"], "when": shift_when(shift), "shift_id": shift_id}

    for shift_id, v in plain_added:
        await notify([users[v]], "plan_added", params(shift_id), outbox=True)
    for shift_id, v in plain_removed:
        await notify([users[v]], "plan_removed", params(shift_id), outbox=True)
    for v, old, new in moves:
        moved = params(new)
        moved.update({"from_title": shift_by_id[old]["title"], "from_when": shift_when(shift_by_id[old])})
        await notify([users[v]], "plan_moved", moved, outbox=True)

    last = await PublishedVersion.select(PublishedVersion.number).where(PublishedVersion.scope_key == scope.key).order_by(
        PublishedVersion.number, ascending=False).first()
    number = (last["number"] if last else 0) + 1
    after = await planned_assignments(scope, future_only=False)
    # Where each row came from goes with it, so a roll-back restores a hand-made row as hand-made.
    snapshot = sorted([row["shift"], row["volunteer"], bool(row["locked"]), row["source"]] for row in after)
    await PublishedVersion(scope_key=scope.key, period_start=scope.start, period_end=scope.end, grid_ids=scope.grid_text,
                           number=number, run=run_id, restored_version=restored, published_by=user.id,
                           added=len(plain_added), removed=len(plain_removed), moved=len(moves), snapshot=snapshot).save()
    return PublishSummary(version=number, added=len(plain_added), removed=len(plain_removed), moved=len(moves))


async def _lock_scope_shifts(scope: Scope) -> dict[int, dict]:
    rows = await for_update(Shift.select().where(
        (Shift.day >= scope.start) & (Shift.day <= scope.end)
        & (Shift.grid.is_in(list(scope.grid_ids)) if scope.grid_ids else (Shift.id > 0))).order_by(Shift.id))
    return {row["id"]: row for row in rows}


async def publish(user: User, run_id: int) -> PublishSummary:
    run = await get_run(run_id)
    if run.status != RUN_SUCCEEDED:
        raise Conflict(_("Only a finished run can be published."))
    if run.published_at is not None:
        raise Conflict(_("This run is already published."))
    if run.scope.end < local_today():
        raise Conflict(_("This period is over; only today and later can be planned."))
    async with write_transaction():
        shift_by_id = await _lock_scope_shifts(run.scope)
        state = await for_update(PlanRun.select(PlanRun.published_at, PlanRun.started_at).where(PlanRun.id == run_id)).first()
        if state["published_at"] is not None:
            raise Conflict(_("This run is already published."))
        proposal = await _proposal_pairs(run_id)
        target = _planned_target(proposal, shift_by_id, local_now())
        problems = await _validate_target(run.scope, target, shift_by_id, state["started_at"])
        if problems:
            raise Conflict(_("The schedule changed while the solver ran, and publishing this run would break a rule. Re-solve the period, then publish."),
                           {"problems": " ".join(problems[:10])})
        summary = await _apply(user, run.scope, target, shift_by_id, run_id, None)
        await PlanRun.update({PlanRun.published_at: utc_now()}).where(PlanRun.id == run_id)
    return summary


@dataclass
class VersionView:
    id: int
    number: int
    run: int | None
    restored_version: int | None
    published_by: str
    published_at: dt.datetime
    added: int
    removed: int
    moved: int
    assignments: int


async def versions(scope: Scope) -> list[VersionView]:
    rows = await PublishedVersion.select(
        PublishedVersion.id, PublishedVersion.number, PublishedVersion.run, PublishedVersion.restored_version,
        PublishedVersion.published_at, PublishedVersion.added, PublishedVersion.removed, PublishedVersion.moved,
        PublishedVersion.snapshot, PublishedVersion.published_by.display_name.as_alias("by"),
    ).where(PublishedVersion.scope_key == scope.key).order_by(PublishedVersion.number, ascending=False)
    return [VersionView(id=r["id"], number=r["number"], run=r["run"], restored_version=r["restored_version"],
                        published_by=r["by"] or "", published_at=r["published_at"], added=r["added"], removed=r["removed"],
                        moved=r["moved"], assignments=len(_json_list(r["snapshot"]))) for r in rows]


def _json_list(value) -> list:
    import json

    if isinstance(value, str):
        return json.loads(value or "[]")
    return value or []


async def rollback(user: User, version_id: int) -> PublishSummary:
    """Publish an earlier version's planned assignments again (for shifts that have not started)."""
    version = await PublishedVersion.select().where(PublishedVersion.id == version_id).first()
    if version is None:
        raise NotFound(_("No such version."))
    scope = scope_from_text(version["period_start"], version["period_end"], version["grid_ids"])
    if scope.end < local_today():
        raise Conflict(_("This period is over; only today and later can be planned."))
    async with write_transaction():
        shift_by_id = await _lock_scope_shifts(scope)
        now = local_now()
        target = {}
        for shift_id, volunteer_id, locked, *rest in _json_list(version["snapshot"]):
            shift = shift_by_id.get(shift_id)
            if shift is None or shift["status"] != SHIFT_OPEN or shift["starts_at"] <= now:
                continue
            # Versions published before the origin was kept hold three columns: solver-made then.
            origin = ORIGIN_MANUAL if rest and rest[0] == ORIGIN_MANUAL else ORIGIN_SOLVER
            target[(shift_id, volunteer_id)] = {"locked": locked, "origin": origin}
        problems = await _validate_target(scope, target, shift_by_id, version["published_at"])
        if problems:
            raise Conflict(_("Going back to this version would break a rule with the schedule as it is now."),
                           {"problems": " ".join(problems[:10])})
        return await _apply(user, scope, target, shift_by_id, None, version["number"])
