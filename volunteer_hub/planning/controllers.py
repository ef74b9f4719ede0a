"""Planning pages and API (managers and admins): the plan page, runs with live progress, the preview,
hand adjustments, publishing, versions and roll-back."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER
from volunteer_hub.errors import Conflict, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.planning import services
from volunteer_hub.planning.services import NeedsOverride, RunView
from volunteer_hub.reference.services import list_grids
from volunteer_hub.volunteers.services import kind_label
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)


# ---------------------------------------------------------------------------------------- API shapes


class RunOut(msgspec.Struct):
    id: int
    period_start: str
    period_end: str
    grid_ids: list[int]
    status: str
    status_label: str
    time_limit_s: int
    stability: bool
    parent_run: int | None
    created_by: str
    created_at: str
    elapsed_s: float | None
    progress_objective: float | None
    progress_bound: float | None
    progress_gap: float | None
    progress_coverage_min: float | None
    progress_updates: int
    first_progress_s: float | None
    solver_status: str
    objective: int | None
    bound: float | None
    gap: float | None
    coverage_min: float | None
    coverage_ideal: float | None
    objective_terms: dict[str, int]
    stats: dict[str, float]
    error: str
    published: bool


def run_out(run: RunView) -> RunOut:
    return RunOut(
        id=run.id, period_start=run.scope.start.isoformat(), period_end=run.scope.end.isoformat(),
        grid_ids=list(run.scope.grid_ids), status=run.status, status_label=services.run_status_label(run.status),
        time_limit_s=run.time_limit_s, stability=run.stability, parent_run=run.parent_run, created_by=run.created_by,
        created_at=run.created_at.isoformat(), elapsed_s=run.elapsed_s, progress_objective=run.progress_objective,
        progress_bound=run.progress_bound, progress_gap=run.progress_gap,
        progress_coverage_min=run.progress_coverage_min, progress_updates=run.progress_updates,
        first_progress_s=run.first_progress_s, solver_status=run.solver_status, objective=run.objective,
        bound=run.bound, gap=run.gap, coverage_min=run.coverage_min, coverage_ideal=run.coverage_ideal,
        objective_terms={k: int(v) for k, v in run.objective_terms.items()},
        stats={k: float(v) for k, v in run.stats.items()},
        error=services.run_error_text(run.error) if run.error else "", published=run.published_at is not None)


class StartRunBody(msgspec.Struct):
    week: str | None = None
    start: str | None = None
    end: str | None = None
    grids: list[int] = []
    time_limit_s: int | None = None


class ResolveBody(msgspec.Struct):
    time_limit_s: int | None = None


class DemandRowOut(msgspec.Struct):
    kind: str
    shifts: int
    seats_min: int
    seats_ideal: int
    signed_up: int


class DemandOut(msgspec.Struct):
    period_start: str
    period_end: str
    shifts: int
    seats_min: int
    seats_ideal: int
    signed_up: int
    volunteers_available: int
    hours_offered: float
    by_kind: list[DemandRowOut]


class CellOut(msgspec.Struct):
    shift_id: int
    time: str
    filled: int
    seats_min: int
    seats_ideal: int
    state: str


class GridRowOut(msgspec.Struct):
    place: str
    days: list[list[CellOut]]


class ShortfallOut(msgspec.Struct):
    shift_id: int
    title: str
    when: str
    filled: int
    seats_min: int
    seats_ideal: int
    eligible: int
    reasons: dict[str, int]
    lead_missing: bool


class LoadOut(msgspec.Struct):
    volunteer_id: int
    name: str
    shifts: int
    minutes: int


class ChangeOut(msgspec.Struct):
    volunteer_id: int
    name: str
    added: list[str]
    removed: list[str]
    moved: list[list[str]]


class PreviewOut(msgspec.Struct):
    run: RunOut
    days: list[str]
    grid: list[GridRowOut]
    shortfalls: list[ShortfallOut]
    shortfall_count: int
    seats_short_min: int
    seats_short_ideal: int
    loads: list[LoadOut]
    volunteers_used: int
    changes: list[ChangeOut]
    change_totals: dict[str, int]
    input_changed: bool


class LockBody(msgspec.Struct):
    locked: bool


class AddRowBody(msgspec.Struct):
    shift_id: int
    phone: str
    confirm: bool = False


class AddRowOut(msgspec.Struct):
    broken_rules: list[str]


class PublishOut(msgspec.Struct):
    version: int
    added: int
    removed: int
    moved: int


class VersionOut(msgspec.Struct):
    id: int
    number: int
    run: int | None
    restored_version: int | None
    published_by: str
    published_at: str
    added: int
    removed: int
    moved: int
    assignments: int


def _scope(week: str | None, start: str | None, end: str | None, grids: list[int] | None):
    return services.parse_scope(week=week, start=start, end=end, grids=grids)


def _grid_params(values: list[str] | str | None) -> list[int]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    try:
        return [int(v) for v in values if v != ""]
    except ValueError:
        raise ValidationFailed(_("Please check the period."), {"grids": _("Please choose grids from the list.")}) from None


def _preview_out(view: services.Preview) -> PreviewOut:
    return PreviewOut(
        run=run_out(view.run), days=[d.isoformat() for d in view.days],
        grid=[GridRowOut(place=row.place, days=[[CellOut(c.id, c.time, c.filled, c.seats_min, c.seats_ideal, c.state)
                                                 for c in cell] for cell in row.cells]) for row in view.grid],
        shortfalls=[ShortfallOut(s.shift_id, s.title, s.when, s.filled, s.seats_min, s.seats_ideal, s.eligible,
                                 dict(s.reasons), s.lead_missing) for s in view.shortfalls],
        shortfall_count=view.shortfall_count, seats_short_min=view.seats_short_min,
        seats_short_ideal=view.seats_short_ideal,
        loads=[LoadOut(r.volunteer_id, r.name, r.shifts, r.minutes) for r in view.loads],
        volunteers_used=view.volunteers_used,
        changes=[ChangeOut(c.volunteer_id, c.name, c.added, c.removed, [list(m) for m in c.moved]) for c in view.changes],
        change_totals=view.change_totals, input_changed=view.input_changed)


def _version_out(v: services.VersionView) -> VersionOut:
    return VersionOut(id=v.id, number=v.number, run=v.run, restored_version=v.restored_version, published_by=v.published_by,
                      published_at=v.published_at.isoformat(), added=v.added, removed=v.removed, moved=v.moved,
                      assignments=v.assignments)


# ---------------------------------------------------------------------------------------- pages


def _flash_refusal(request: Request, refusal: Conflict) -> None:
    """A refused publication is shown on the page it came from, with the rules it would break."""
    flash(request, " ".join([refusal.message, *refusal.field_errors.values()]), category="error")


class PlanningPages(Controller):
    include_in_schema = False

    @get("/plan", guards=[staff_only])
    async def plan(self, request: Request, week: FromQuery[str | None] = None, start: FromQuery[str | None] = None,
                   end: FromQuery[str | None] = None, grids: FromQuery[list[str] | None] = None) -> Template:
        values = {"week": week, "start": start, "end": end, "grids": grids or []}
        all_grids = await list_grids()
        try:
            scope = _scope(week, start, end, _grid_params(grids))
            demand = await services.demand_supply(scope)
        except ValidationFailed as error:
            return render(request, "planning/plan.html", status_code=error.status_code, message=error.message,
                          errors=error.field_errors, values=values, all_grids=all_grids, demand=None, runs=[], versions=[],
                          scope=None, kind_label=kind_label, default_time_limit=services.DEFAULT_TIME_LIMIT_S)
        values["week"] = week or (services.iso_week(scope.start) if not (start or end) else None)
        return render(request, "planning/plan.html", values=values, all_grids=all_grids, demand=demand, scope=scope,
                      runs=await services.list_runs(scope), versions=await services.versions(scope),
                      kind_label=kind_label, default_time_limit=services.DEFAULT_TIME_LIMIT_S,
                      status_label=services.run_status_label)

    @post("/plan/runs", guards=[staff_only])
    async def start_run(self, request: Request) -> Redirect:
        form = FormReader(await request.form())
        scope = _scope(form.optional_text("week"), form.optional_text("start"), form.optional_text("end"),
                       _grid_params(form.values("grids")))
        limit = form.integer("time_limit")
        run = await services.start_run(current_user(request), scope, limit)
        return Redirect(path=f"/plan/runs/{run.id}", status_code=303)

    @get("/plan/runs/{run_id:int}", guards=[staff_only])
    async def run_page(self, request: Request, run_id: FromPath[int]) -> Template:
        run = await services.get_run(run_id)
        view = await services.preview(run_id) if run.status == "succeeded" else None
        return render(request, "planning/run.html", run=run, view=view, status_label=services.run_status_label,
                      error_text=services.run_error_text(run.error) if run.error else "",
                      week=services.iso_week(run.scope.start))

    @post("/plan/runs/{run_id:int}/cancel", guards=[staff_only])
    async def cancel(self, request: Request, run_id: FromPath[int]) -> Redirect:
        await services.cancel_run(run_id)
        flash(request, _("The run is being cancelled."), category="info")
        return Redirect(path=f"/plan/runs/{run_id}", status_code=303)

    @post("/plan/runs/{run_id:int}/resolve", guards=[staff_only])
    async def resolve(self, request: Request, run_id: FromPath[int]) -> Redirect:
        run = await services.resolve_run(current_user(request), run_id)
        return Redirect(path=f"/plan/runs/{run.id}", status_code=303)

    @post("/plan/runs/{run_id:int}/publish", guards=[staff_only])
    async def publish(self, request: Request, run_id: FromPath[int]) -> Redirect:
        try:
            summary = await services.publish(current_user(request), run_id)
        except Conflict as refusal:
            _flash_refusal(request, refusal)
            return Redirect(path=f"/plan/runs/{run_id}", status_code=303)
        flash(request, _("Published as version %(n)s: %(added)s added, %(removed)s removed, %(moved)s moved. The volunteers have been told.",
                         n=summary.version, added=summary.added, removed=summary.removed, moved=summary.moved), category="success")
        return Redirect(path=f"/plan/runs/{run_id}", status_code=303)

    @get("/plan/runs/{run_id:int}/shifts/{shift_id:int}", guards=[staff_only])
    async def shift_page(self, request: Request, run_id: FromPath[int], shift_id: FromPath[int]) -> Template:
        plan = await services.shift_plan(run_id, shift_id)
        return render(request, "planning/shift.html", plan=plan)

    @post("/plan/runs/{run_id:int}/rows/{row_id:int}/lock", guards=[staff_only])
    async def lock(self, request: Request, run_id: FromPath[int], row_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        await services.set_locked(run_id, row_id, form.flag("locked"))
        return Redirect(path=f"/plan/runs/{run_id}/shifts/{form.integer('shift') or 0}", status_code=303)

    @post("/plan/runs/{run_id:int}/rows/{row_id:int}/remove", guards=[staff_only])
    async def remove(self, request: Request, run_id: FromPath[int], row_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        await services.remove_row(run_id, row_id)
        flash(request, _("Removed from the proposed schedule."), category="success")
        return Redirect(path=f"/plan/runs/{run_id}/shifts/{form.integer('shift') or 0}", status_code=303)

    @post("/plan/runs/{run_id:int}/shifts/{shift_id:int}/add", guards=[staff_only])
    async def add(self, request: Request, run_id: FromPath[int], shift_id: FromPath[int]) -> Template | Redirect:
        form = FormReader(await request.form())
        phone = form.text("phone")
        try:
            broken = await services.add_row(run_id, shift_id, phone, confirm=form.flag("confirm"))
        except NeedsOverride as question:
            plan = await services.shift_plan(run_id, shift_id)
            return render(request, "planning/shift.html", status_code=question.status_code, plan=plan,
                          question=question.message, broken=question.field_errors.get("rules", ""), values={"phone": phone})
        except ValidationFailed as error:
            plan = await services.shift_plan(run_id, shift_id)
            return render(request, "planning/shift.html", status_code=error.status_code, plan=plan, message=error.message,
                          errors=error.field_errors, values={"phone": phone})
        flash(request, _("Added by hand, against the rule: %(rules)s", rules=" ".join(broken)) if broken
              else _("Added by hand."), category="success")
        return Redirect(path=f"/plan/runs/{run_id}/shifts/{shift_id}", status_code=303)

    @post("/plan/versions/{version_id:int}/rollback", guards=[staff_only])
    async def rollback(self, request: Request, version_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        back = form.text("next") if form.text("next").startswith("/plan") else "/plan"
        try:
            summary = await services.rollback(current_user(request), version_id)
        except Conflict as refusal:
            _flash_refusal(request, refusal)
            return Redirect(path=back, status_code=303)
        flash(request, _("Restored as version %(n)s: %(added)s added, %(removed)s removed, %(moved)s moved. The volunteers have been told.",
                         n=summary.version, added=summary.added, removed=summary.removed, moved=summary.moved), category="success")
        return Redirect(path=back, status_code=303)


# ---------------------------------------------------------------------------------------- API


class PlanningApi(Controller):
    path = "/api/plan"
    tags = ["planning"]

    @get("/demand", guards=[staff_only], summary="Demand (shifts, seats by kind) beside supply (volunteers, hours) for a period")
    async def demand(self, week: FromQuery[str | None] = None, start: FromQuery[str | None] = None,
                     end: FromQuery[str | None] = None, grids: FromQuery[list[int] | None] = None) -> DemandOut:
        d = await services.demand_supply(_scope(week, start, end, grids))
        return DemandOut(period_start=d.scope.start.isoformat(), period_end=d.scope.end.isoformat(), shifts=d.shifts,
                         seats_min=d.seats_min, seats_ideal=d.seats_ideal, signed_up=d.signed_up,
                         volunteers_available=d.volunteers_available, hours_offered=round(d.hours_offered, 1),
                         by_kind=[DemandRowOut(r.kind, r.shifts, r.seats_min, r.seats_ideal, r.signed_up) for r in d.rows])

    @post("/runs", guards=[staff_only], status_code=201, summary="Start a solver run (in the background) for a period and scope")
    async def start_run(self, request: Request, data: JSONBody[StartRunBody]) -> RunOut:
        scope = _scope(data.week, data.start, data.end, data.grids)
        return run_out(await services.start_run(current_user(request), scope, data.time_limit_s))

    @get("/runs", guards=[staff_only], summary="Recent runs, newest first")
    async def runs(self) -> list[RunOut]:
        return [run_out(run) for run in await services.list_runs()]

    @get("/runs/{run_id:int}", guards=[staff_only], summary="A run's status and live progress")
    async def run(self, run_id: FromPath[int]) -> RunOut:
        return run_out(await services.get_run(run_id))

    @post("/runs/{run_id:int}/cancel", guards=[staff_only], status_code=200, summary="Cancel a queued or running run")
    async def cancel(self, run_id: FromPath[int]) -> RunOut:
        return run_out(await services.cancel_run(run_id))

    @post("/runs/{run_id:int}/resolve", guards=[staff_only], status_code=201,
          summary="Re-solve the run's period, keeping locks, hand-made rows and self sign-ups, with as few changes as possible")
    async def resolve(self, request: Request, run_id: FromPath[int], data: JSONBody[ResolveBody | None] = None) -> RunOut:
        return run_out(await services.resolve_run(current_user(request), run_id, data.time_limit_s if data else None))

    @get("/runs/{run_id:int}/preview", guards=[staff_only], summary="Coverage, unfilled seats with reasons, load and changes")
    async def preview(self, run_id: FromPath[int]) -> PreviewOut:
        return _preview_out(await services.preview(run_id))

    @post("/runs/{run_id:int}/rows/{row_id:int}/lock", guards=[staff_only], status_code=200, summary="Lock or unlock a proposed assignment")
    async def lock(self, run_id: FromPath[int], row_id: FromPath[int], data: JSONBody[LockBody]) -> None:
        await services.set_locked(run_id, row_id, data.locked)

    @delete("/runs/{run_id:int}/rows/{row_id:int}", guards=[staff_only], status_code=204, summary="Remove a proposed assignment")
    async def remove(self, run_id: FromPath[int], row_id: FromPath[int]) -> None:
        await services.remove_row(run_id, row_id)

    @post("/runs/{run_id:int}/rows", guards=[staff_only], status_code=201,
          summary="Add an assignment by hand; 409 lists the hard rules it breaks until confirmed")
    async def add(self, run_id: FromPath[int], data: JSONBody[AddRowBody]) -> AddRowOut:
        return AddRowOut(broken_rules=await services.add_row(run_id, data.shift_id, data.phone, confirm=data.confirm))

    @post("/runs/{run_id:int}/publish", guards=[staff_only], status_code=200,
          summary="Publish the run's schedule (refused with the reasons if it would now break a rule)")
    async def publish(self, request: Request, run_id: FromPath[int]) -> PublishOut:
        s = await services.publish(current_user(request), run_id)
        return PublishOut(version=s.version, added=s.added, removed=s.removed, moved=s.moved)

    @get("/versions", guards=[staff_only], summary="Published versions of a period and scope, newest first")
    async def versions(self, week: FromQuery[str | None] = None, start: FromQuery[str | None] = None,
                       end: FromQuery[str | None] = None, grids: FromQuery[list[int] | None] = None) -> list[VersionOut]:
        return [_version_out(v) for v in await services.versions(_scope(week, start, end, grids))]

    @post("/versions/{version_id:int}/rollback", guards=[staff_only], status_code=200,
          summary="Publish an earlier version again (shifts not yet started)")
    async def rollback(self, request: Request, version_id: FromPath[int]) -> PublishOut:
        s = await services.rollback(current_user(request), version_id)
        return PublishOut(version=s.version, added=s.added, removed=s.removed, moved=s.moved)
