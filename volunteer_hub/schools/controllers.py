"""Schools, crossings, bell times, closed days and escort requests: JSON API and pages."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER
from volunteer_hub.clock import local_today
from volunteer_hub.errors import Conflict, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import list_grids
from volunteer_hub.schools import services
from volunteer_hub.schools.tables import CROSSING_KINDS, REQUEST_STATES, SLOTS
from volunteer_hub.shifts.schemas import ShiftOut, shift_out
from volunteer_hub.shifts.services import request_shifts
from volunteer_hub.volunteers.services import format_minute, parse_time, weekday_label
from volunteer_hub.web.auth import current_user, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import render

school_keepers = roles_required(ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)
staff_only = roles_required(ROLE_MANAGER, ROLE_ADMIN)


# ---------------------------------------------------------------------------------------- API shapes


class SchoolBody(msgspec.Struct):
    name: str
    address: str
    grid_id: int
    latitude: float
    longitude: float


class SchoolOut(msgspec.Struct):
    id: int
    name: str
    address: str
    grid_id: int
    latitude: float
    longitude: float


class CrossingBody(msgspec.Struct):
    name: str
    latitude: float
    longitude: float
    kind: str = "crossing"
    priority: int = 3


class CrossingOut(CrossingBody):
    id: int = 0
    school_id: int = 0


class BellBody(msgspec.Struct):
    weekday: int
    arrival_start: str
    arrival_end: str
    dismissal_start: str
    dismissal_end: str


class ClosureBody(msgspec.Struct):
    days: list[dt.date]
    reason: str = ""


class ClosureOut(msgspec.Struct):
    day: dt.date
    reason: str


class SchoolDetail(msgspec.Struct):
    school: SchoolOut
    crossings: list[CrossingOut]
    bells: list[BellBody]
    closures: list[ClosureOut]


class CoordinatorBody(msgspec.Struct):
    login: str


class EscortRequestBody(msgspec.Struct):
    crossing_id: int
    slot: str
    weekdays: list[int]
    start_date: dt.date
    end_date: dt.date
    seats_min: int
    seats_ideal: int
    adults_only: bool = True
    needs_trained: bool = False
    needs_lead: bool = False


class EscortRequestOut(EscortRequestBody):
    id: int = 0
    school_id: int = 0
    status: str = ""
    rejection_reason: str = ""


class RejectBody(msgspec.Struct):
    reason: str


def _school_out(school) -> SchoolOut:
    return SchoolOut(id=school.id, name=school.name, address=school.address, grid_id=school.grid,
                     latitude=school.latitude, longitude=school.longitude)


def _crossing_out(crossing) -> CrossingOut:
    return CrossingOut(id=crossing.id, school_id=crossing.school, name=crossing.name, kind=crossing.kind,
                       latitude=crossing.latitude, longitude=crossing.longitude, priority=crossing.priority)


def _request_out(request) -> EscortRequestOut:
    return EscortRequestOut(
        id=request.id, school_id=request.school, crossing_id=request.crossing, slot=request.slot,
        weekdays=services.request_weekdays(request), start_date=request.start_date, end_date=request.end_date,
        seats_min=request.seats_min, seats_ideal=request.seats_ideal, adults_only=request.adults_only,
        needs_trained=request.needs_trained, needs_lead=request.needs_lead,
        status=services.effective_status(request), rejection_reason=request.rejection_reason,
    )


def _bell_days(bells: list[BellBody]) -> list[services.BellDay]:
    days = []
    for bell in bells:
        times = [parse_time(value) for value in (bell.arrival_start, bell.arrival_end, bell.dismissal_start,
                                                 bell.dismissal_end)]
        if any(value is None for value in times):
            raise ValidationFailed(_("Please check the form."), {"bells": _("Times are written as HH:MM.")})
        days.append(services.BellDay(bell.weekday, *times))  # type: ignore[arg-type]
    return days


def _bell_out(row) -> BellBody:
    return BellBody(weekday=row.weekday, arrival_start=format_minute(row.arrival_start),
                    arrival_end=format_minute(row.arrival_end), dismissal_start=format_minute(row.dismissal_start),
                    dismissal_end=format_minute(row.dismissal_end))


async def school_detail(school_id: int) -> SchoolDetail:
    school = await services.get_school(school_id)
    return SchoolDetail(
        school=_school_out(school),
        crossings=[_crossing_out(c) for c in await services.list_crossings(school_id)],
        bells=[_bell_out(b) for b in await services.bell_schedule(school_id)],
        closures=[ClosureOut(day=c.day, reason=c.reason) for c in await services.closures(school_id)],
    )


class SchoolApi(Controller):
    path = "/api"
    tags = ["schools"]
    guards = [school_keepers]

    @get("/schools", summary="Schools this account may see (a coordinator: their own)")
    async def list_schools(self, request: Request) -> list[dict]:
        return await services.visible_schools(current_user(request))

    @post("/schools", summary="Register a school (a coordinator becomes its keeper)")
    async def create_school(self, request: Request, data: JSONBody[SchoolBody]) -> SchoolOut:
        school = await services.create_school(current_user(request), services.SchoolInput(**msgspec.structs.asdict(data)))
        return _school_out(school)

    @get("/schools/{school_id:int}", summary="A school with crossings, bell times and closed days")
    async def get_school(self, request: Request, school_id: FromPath[int]) -> SchoolDetail:
        await services.school_for_editing(current_user(request), school_id)
        return await school_detail(school_id)

    @put("/schools/{school_id:int}", summary="Change a school")
    async def update_school(self, request: Request, school_id: FromPath[int], data: JSONBody[SchoolBody]) -> SchoolOut:
        school = await services.update_school(current_user(request), school_id,
                                              services.SchoolInput(**msgspec.structs.asdict(data)))
        return _school_out(school)

    @post("/schools/{school_id:int}/coordinators", guards=[staff_only], summary="Make a coordinator keep this school")
    async def assign(self, request: Request, school_id: FromPath[int], data: JSONBody[CoordinatorBody]) -> dict[str, bool]:
        await services.assign_coordinator(current_user(request), school_id, data.login)
        return {"ok": True}

    @post("/schools/{school_id:int}/crossings", summary="Add a crossing or gate")
    async def add_crossing(self, request: Request, school_id: FromPath[int], data: JSONBody[CrossingBody]) -> CrossingOut:
        crossing = await services.add_crossing(current_user(request), school_id,
                                               services.CrossingInput(**msgspec.structs.asdict(data)))
        return _crossing_out(crossing)

    @put("/crossings/{crossing_id:int}", summary="Change a crossing")
    async def update_crossing(self, request: Request, crossing_id: FromPath[int], data: JSONBody[CrossingBody]) -> CrossingOut:
        crossing = await services.update_crossing(current_user(request), crossing_id,
                                                  services.CrossingInput(**msgspec.structs.asdict(data)))
        return _crossing_out(crossing)

    @put("/schools/{school_id:int}/bells", summary="Replace the weekly bell times")
    async def put_bells(self, request: Request, school_id: FromPath[int], data: JSONBody[list[BellBody]]) -> list[BellBody]:
        rows = await services.replace_bell_schedule(current_user(request), school_id, _bell_days(data))
        return [_bell_out(row) for row in rows]

    @post("/schools/{school_id:int}/closures", summary="Add holidays or closed days")
    async def add_closures(self, request: Request, school_id: FromPath[int], data: JSONBody[ClosureBody]) -> list[ClosureOut]:
        await services.add_closures(current_user(request), school_id, data.days, data.reason)
        return [ClosureOut(day=c.day, reason=c.reason) for c in await services.closures(school_id)]

    @delete("/schools/{school_id:int}/closures/{day:date}", status_code=204, summary="Remove a closed day")
    async def remove_closure(self, request: Request, school_id: FromPath[int], day: FromPath[dt.date]) -> None:
        await services.remove_closure(current_user(request), school_id, day)

    @get("/escort-requests", summary="Escort requests, newest first (a coordinator: their school's); filter by "
                                     "state (submitted, approved, rejected, active, ended) and school")
    async def list_requests(self, request: Request, status: FromQuery[str | None] = None,
                            school: FromQuery[int | None] = None) -> list[EscortRequestOut]:
        rows = await services.list_requests(current_user(request), status or None, school)
        return [EscortRequestOut(
            id=row["id"], school_id=row["school"], crossing_id=row["crossing"], slot=row["slot"],
            weekdays=services.request_weekdays(row), start_date=row["start_date"], end_date=row["end_date"],
            seats_min=row["seats_min"], seats_ideal=row["seats_ideal"], adults_only=row["adults_only"],
            needs_trained=row["needs_trained"], needs_lead=row["needs_lead"], status=row["status"],
            rejection_reason=row["rejection_reason"]) for row in rows]

    @post("/schools/{school_id:int}/escort-requests", summary="Ask for escorts at a crossing")
    async def submit(self, request: Request, school_id: FromPath[int], data: JSONBody[EscortRequestBody]) -> EscortRequestOut:
        created = await services.submit_request(current_user(request), school_id,
                                                services.EscortRequestInput(**msgspec.structs.asdict(data)))
        return _request_out(created)

    @put("/escort-requests/{request_id:int}", summary="Change a request (future shifts follow)")
    async def update(self, request: Request, request_id: FromPath[int], data: JSONBody[EscortRequestBody]) -> EscortRequestOut:
        changed = await services.update_request(current_user(request), request_id,
                                                services.EscortRequestInput(**msgspec.structs.asdict(data)))
        return _request_out(changed)

    @post("/escort-requests/{request_id:int}/approve", guards=[staff_only], status_code=200,
          summary="Approve a request: it becomes active and expands into shifts")
    async def approve(self, request: Request, request_id: FromPath[int]) -> EscortRequestOut:
        return _request_out(await services.decide_request(current_user(request), request_id, approve=True))

    @post("/escort-requests/{request_id:int}/reject", guards=[staff_only], status_code=200,
          summary="Reject a request with a reason")
    async def reject(self, request: Request, request_id: FromPath[int], data: JSONBody[RejectBody]) -> EscortRequestOut:
        return _request_out(await services.decide_request(current_user(request), request_id, approve=False,
                                                          reason=data.reason))

    @post("/escort-requests/{request_id:int}/end", status_code=200, summary="End a request (future shifts cancelled)")
    async def end(self, request: Request, request_id: FromPath[int]) -> EscortRequestOut:
        return _request_out(await services.end_request(current_user(request), request_id))

    @get("/escort-requests/{request_id:int}/shifts", summary="How each dated shift of a request is filled")
    async def shifts(self, request: Request, request_id: FromPath[int]) -> list[ShiftOut]:
        return [shift_out(card) for card in await request_shifts(current_user(request), request_id)]


    @get("/escort-requests/{request_id:int}", summary="One escort request")
    async def get_request(self, request: Request, request_id: FromPath[int]) -> EscortRequestOut:
        return _request_out(await services.request_for_keeper(current_user(request), request_id))


# ---------------------------------------------------------------------------------------- pages

BELL_FIELDS = ("arrival_start", "arrival_end", "dismissal_start", "dismissal_end")


def _labels() -> dict:
    return {"slot_label": services.slot_label, "status_label": services.status_label,
            "kind_label": services.kind_label, "weekday_label": weekday_label}


def _school_from_form(form: FormReader) -> services.SchoolInput:
    return services.SchoolInput(name=form.text("name"), address=form.text("address"), grid_id=form.integer("grid"),
                                latitude=form.number("latitude"), longitude=form.number("longitude"))


def _crossing_from_form(form: FormReader) -> services.CrossingInput:
    return services.CrossingInput(name=form.text("name"), kind=form.text("kind"), latitude=form.number("latitude"),
                                  longitude=form.number("longitude"), priority=form.integer("priority"))


def _form_failed(form: FormReader) -> None:
    """A number or date that did not parse: refuse before the service is asked."""
    if form.errors:
        raise ValidationFailed(_("Please check the form."), dict(form.errors))


def _merged(error: ValidationFailed, form: FormReader) -> dict[str, str]:
    return {**error.field_errors, **form.errors}


async def _school_page(request: Request, school_id: int, status_code: int = 200, section: str | None = None,
                       message: str | None = None, errors: dict | None = None, values: dict | None = None) -> Template:
    """The school page: every part of it, with one part (``section``) showing what was typed and why it
    was refused."""
    user = current_user(request)
    school = await services.school_for_editing(user, school_id)
    crossings = await services.list_crossings(school_id)
    bells = {row.weekday: row for row in await services.bell_schedule(school_id)}
    forms: dict[str, dict] = {
        "school": {"values": {"name": school.name, "address": school.address, "grid": school.grid,
                              "latitude": round(school.latitude, 6), "longitude": round(school.longitude, 6)}},
        "crossing_new": {"values": {"kind": "crossing", "priority": 3}},
        "bells": {"values": {f"b{day}_{name}": format_minute(getattr(bells[day], name))
                             for day in bells for name in BELL_FIELDS}},
        "closure": {"values": {}},
        "coordinator": {"values": {}},
    }
    for crossing in crossings:
        forms[f"crossing{crossing.id}"] = {"values": {
            "name": crossing.name, "kind": crossing.kind, "priority": crossing.priority,
            "latitude": round(crossing.latitude, 6), "longitude": round(crossing.longitude, 6)}}
    for form in forms.values():
        form["errors"] = {}
    if section is not None:
        forms[section] = {"values": dict(values or {}), "errors": errors or {}}
    return render(
        request, "schools/detail.html", status_code=status_code, message=message, school=school, forms=forms,
        crossings=crossings, kinds=CROSSING_KINDS, weekdays=list(range(7)), grids=await list_grids(),
        closures=services.closure_ranges(await services.closures(school_id)),
        coordinators=await services.list_coordinators(school_id), is_staff=user.role in services.STAFF,
        today=local_today(), **_labels(),
    )


async def _school_list(request: Request, status_code: int = 200, message: str | None = None,
                       errors: dict | None = None, values: dict | None = None) -> Template:
    user = current_user(request)
    return render(request, "schools/index.html", status_code=status_code, message=message, errors=errors or {},
                  values=values or {}, schools=await services.visible_schools(user), grids=await list_grids(),
                  is_staff=user.role in services.STAFF)


class SchoolPages(Controller):
    """Pages for schools, crossings, bell times and closed days (coordinators and managers)."""

    path = "/schools"
    guards = [school_keepers]
    include_in_schema = False

    @get("/", name="schools")
    async def index(self, request: Request) -> Template | Redirect:
        """Staff: every school and a form for a new one. A coordinator: their school, or the form to
        register it."""
        user = current_user(request)
        if user.role == ROLE_COORDINATOR:
            own = await services.coordinator_school_id(user)
            if own is not None:
                return Redirect(path=f"/schools/{own}", status_code=303)
        return await _school_list(request)

    @post("/")
    async def create(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        try:
            _form_failed(form)
            school = await services.create_school(current_user(request), _school_from_form(form))
        except (ValidationFailed, Conflict) as error:
            if not error.field_errors and not form.errors:
                raise
            return await _school_list(request, status_code=error.status_code, message=error.message,
                                      errors=_merged(error, form), values=dict(form.form))
        flash(request, _("School %(name)s registered.", name=school.name), category="success")
        return Redirect(path=f"/schools/{school.id}", status_code=303)

    @get("/{school_id:int}")
    async def show(self, request: Request, school_id: FromPath[int]) -> Template:
        return await _school_page(request, school_id)

    async def _section(self, request: Request, school_id: FromPath[int], section: str, action, success: str) -> Template | Redirect:
        """Run one form of the school page: on success flash and go back to the page (at the part
        that changed), else show the page again with the refused form."""
        await services.school_for_editing(current_user(request), school_id)
        form = FormReader(await request.form())
        try:
            await action(form)
        except (ValidationFailed, Conflict) as error:
            if not error.field_errors and not form.errors:
                raise
            return await _school_page(request, school_id, status_code=error.status_code, section=section,
                                      message=error.message, errors=_merged(error, form), values=dict(form.form))
        flash(request, success, category="success")
        anchor = section if not section.startswith("crossing") else "crossings"
        return Redirect(path=f"/schools/{school_id}#{anchor}", status_code=303)

    @post("/{school_id:int}")
    async def update(self, request: Request, school_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            _form_failed(form)
            await services.update_school(current_user(request), school_id, _school_from_form(form))

        return await self._section(request, school_id, "school", action, _("Saved."))

    @post("/{school_id:int}/coordinators", guards=[staff_only])
    async def assign(self, request: Request, school_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            await services.assign_coordinator(current_user(request), school_id, form.text("login"))

        return await self._section(request, school_id, "coordinator", action,
                                   _("The coordinator now keeps this school."))

    @post("/{school_id:int}/crossings")
    async def add_crossing(self, request: Request, school_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            _form_failed(form)
            await services.add_crossing(current_user(request), school_id, _crossing_from_form(form))

        return await self._section(request, school_id, "crossing_new", action, _("Crossing added."))

    @post("/{school_id:int}/crossings/{crossing_id:int}")
    async def update_crossing(self, request: Request, school_id: FromPath[int], crossing_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            _form_failed(form)
            await services.update_crossing(current_user(request), crossing_id, _crossing_from_form(form),
                                           school_id=school_id)

        return await self._section(request, school_id, f"crossing{crossing_id}", action, _("Saved."))

    @post("/{school_id:int}/bells")
    async def bells(self, request: Request, school_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            days = []
            for day in range(7):
                raw = [form.text(f"b{day}_{name}") for name in BELL_FIELDS]
                if not any(raw):
                    continue  # no school that day
                times = [parse_time(value) for value in raw]
                if any(value is None for value in times):
                    raise ValidationFailed(_("Please check the form."), {
                        "bells": _("%(day)s: give all four times, written as HH:MM.", day=weekday_label(day))})
                days.append(services.BellDay(day, *times))  # type: ignore[arg-type]
            await services.replace_bell_schedule(current_user(request), school_id, days)

        return await self._section(request, school_id, "bells", action, _("Bell times saved."))

    @post("/{school_id:int}/closures")
    async def add_closures(self, request: Request, school_id: FromPath[int]) -> Template | Redirect:
        async def action(form: FormReader) -> None:
            first, last = form.date("first"), form.date("last")
            _form_failed(form)
            await services.add_closure_range(current_user(request), school_id, first, last, form.text("reason"))

        return await self._section(request, school_id, "closure", action, _("Closed days saved."))

    @post("/{school_id:int}/closures/remove")
    async def remove_closures(self, request: Request, school_id: FromPath[int]) -> Redirect:
        form = FormReader(await request.form())
        first, last = form.date("first"), form.date("last")
        _form_failed(form)
        await services.remove_closures(current_user(request), school_id, first, last or first)
        flash(request, _("The school is open again on those days."), category="success")
        return Redirect(path=f"/schools/{school_id}#closure", status_code=303)


# ---------------------------------------------------------------------------------------- request pages


def _request_from_form(form: FormReader) -> services.EscortRequestInput:
    return services.EscortRequestInput(
        crossing_id=form.integer("crossing"), slot=form.text("slot"), weekdays=form.integers("weekdays"),
        start_date=form.date("start_date"), end_date=form.date("end_date"),
        seats_min=form.integer("seats_min"), seats_ideal=form.integer("seats_ideal"),
        adults_only=form.flag("adults_only"), needs_trained=form.flag("needs_trained"), needs_lead=form.flag("needs_lead"),
    )


def _request_values(request) -> dict:
    return {"crossing": request.crossing, "slot": request.slot, "weekdays": services.request_weekdays(request),
            "start_date": request.start_date.isoformat(), "end_date": request.end_date.isoformat(),
            "seats_min": request.seats_min, "seats_ideal": request.seats_ideal, "adults_only": request.adults_only,
            "needs_trained": request.needs_trained, "needs_lead": request.needs_lead}


def _typed_values(form: FormReader) -> dict:
    values = {key: form.text(key) for key in ("crossing", "slot", "start_date", "end_date", "seats_min", "seats_ideal")}
    values["weekdays"] = [int(day) for day in form.values("weekdays") if day.isdigit()]
    for name in ("adults_only", "needs_trained", "needs_lead"):
        values[name] = form.flag(name)
    return values


async def _request_form(request: Request, school, status_code: int = 200, escort_request=None, **context) -> Template:
    context.setdefault("values", {})
    return render(request, "requests/form.html", status_code=status_code, school=school,
                  escort_request=escort_request, crossings=await services.list_crossings(school.id),
                  slots=SLOTS, weekdays=list(range(7)), max_seats=services.MAX_SEATS, **_labels(), **context)


async def _request_page(request: Request, request_id: FromPath[int], status_code: int = 200, **context) -> Template:
    view = await services.request_view(current_user(request), request_id)
    return render(request, "requests/detail.html", status_code=status_code, view=view, **_labels(), **context)


class EscortRequestPages(Controller):
    """Pages for escort requests: coordinators submit, managers approve or reject."""

    path = "/requests"
    guards = [school_keepers]
    include_in_schema = False

    @get("/", name="escort_requests")
    async def index(self, request: Request, status: FromQuery[str | None] = None, school: FromQuery[int | None] = None) -> Template:
        user = current_user(request)
        rows = await services.list_requests(user, status or None, school)
        own = await services.coordinator_school_id(user) if user.role == ROLE_COORDINATOR else None
        return render(request, "requests/index.html", requests=rows, status=status or "", states=REQUEST_STATES,
                      school=school, own_school=own, is_staff=user.role in services.STAFF,
                      weekdays_of=services.request_weekdays, **_labels())

    @get("/new")
    async def new(self, request: Request, school: FromQuery[int | None] = None) -> Template | Redirect:
        user = current_user(request)
        if school is None and user.role == ROLE_COORDINATOR:
            school = await services.coordinator_school_id(user)
            if school is None:
                flash(request, _("Please register your school first."), category="info")
                return Redirect(path="/schools", status_code=303)
        if school is None:
            return render(request, "requests/choose_school.html", schools=await services.visible_schools(user))
        keeper_school = await services.school_for_editing(user, school)
        today = local_today()
        values = {"slot": "arrival", "weekdays": [0, 1, 2, 3, 4], "start_date": today.isoformat(),
                  "end_date": (today + dt.timedelta(days=90)).isoformat(), "seats_min": 1, "seats_ideal": 2,
                  "adults_only": True}
        return await _request_form(request, keeper_school, values=values)

    @post("/new")
    async def submit(self, request: Request) -> Template | Redirect:
        user = current_user(request)
        form = FormReader(await request.form())
        school_id = form.integer("school")
        if school_id is None:
            raise ValidationFailed(_("Please check the form."), {"school": _("Please choose a school from the list.")})
        school = await services.school_for_editing(user, school_id)
        data = _request_from_form(form)
        try:
            _form_failed(form)
            created = await services.submit_request(user, school_id, data)
        except ValidationFailed as error:
            return await _request_form(request, school, status_code=error.status_code, message=error.message,
                                       errors=_merged(error, form), values=_typed_values(form))
        flash(request, _("Request submitted. A manager will look at it soon."), category="success")
        return Redirect(path=f"/requests/{created.id}", status_code=303)

    @get("/{request_id:int}")
    async def show(self, request: Request, request_id: FromPath[int]) -> Template:
        return await _request_page(request, request_id)

    @get("/{request_id:int}/edit")
    async def edit(self, request: Request, request_id: FromPath[int]) -> Template:
        user = current_user(request)
        escort_request = await services.request_for_keeper(user, request_id)
        school = await services.get_school(escort_request.school)
        return await _request_form(request, school, escort_request=escort_request, values=_request_values(escort_request))

    @post("/{request_id:int}/edit")
    async def update(self, request: Request, request_id: FromPath[int]) -> Template | Redirect:
        user = current_user(request)
        escort_request = await services.request_for_keeper(user, request_id)
        form = FormReader(await request.form())
        data = _request_from_form(form)
        try:
            _form_failed(form)
            await services.update_request(user, request_id, data)
        except ValidationFailed as error:
            school = await services.get_school(escort_request.school)
            return await _request_form(request, school, status_code=error.status_code, escort_request=escort_request,
                                       message=error.message, errors=_merged(error, form), values=_typed_values(form))
        flash(request, _("Request saved."), category="success")
        return Redirect(path=f"/requests/{request_id}", status_code=303)

    @post("/{request_id:int}/approve", guards=[staff_only])
    async def approve(self, request: Request, request_id: FromPath[int]) -> Redirect:
        await services.decide_request(current_user(request), request_id, approve=True)
        flash(request, _("Request approved; its shifts are open for sign-up."), category="success")
        return Redirect(path=f"/requests/{request_id}", status_code=303)

    @post("/{request_id:int}/reject", guards=[staff_only])
    async def reject(self, request: Request, request_id: FromPath[int]) -> Template | Redirect:
        form = FormReader(await request.form())
        try:
            await services.decide_request(current_user(request), request_id, approve=False, reason=form.text("reason"))
        except ValidationFailed as error:
            return await _request_page(request, request_id, status_code=error.status_code, message=error.message,
                                       errors=error.field_errors, values={"reason": form.text("reason")})
        flash(request, _("Request rejected."), category="success")
        return Redirect(path=f"/requests/{request_id}", status_code=303)

    @post("/{request_id:int}/end")
    async def end(self, request: Request, request_id: FromPath[int]) -> Redirect:
        await services.end_request(current_user(request), request_id)
        flash(request, _("Request ended; its future shifts are cancelled."), category="success")
        return Redirect(path=f"/requests/{request_id}", status_code=303)
