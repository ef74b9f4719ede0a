"""Schools, crossings, bell times, closed days and escort requests: JSON API and pages."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER
from volunteer_hub.errors import DomainError, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import list_grids
from volunteer_hub.schools import services
from volunteer_hub.schools.tables import CROSSING_KINDS, SLOTS
from volunteer_hub.shifts.services import ShiftCard, request_shifts
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


class ShiftOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    slot: str | None
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    seats_min: int
    seats_ideal: int
    seats_max: int
    confirmed: int
    waitlisted: int
    seats_left: int
    status: str
    distance_km: float | None = None
    my_status: str | None = None


def shift_out(card: ShiftCard) -> ShiftOut:
    return ShiftOut(id=card.id, title=card.title, kind=card.kind, slot=card.slot, day=card.day,
                    starts_at=card.starts_at, ends_at=card.ends_at, seats_min=card.seats_min,
                    seats_ideal=card.seats_ideal, seats_max=card.seats_max, confirmed=card.confirmed,
                    waitlisted=card.waitlisted, seats_left=card.seats_left, status=card.status,
                    distance_km=card.distance_km, my_status=card.my_status)


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
        needs_trained=request.needs_trained, needs_lead=request.needs_lead, status=request.status,
        rejection_reason=request.rejection_reason,
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

    @get("/escort-requests", summary="Escort requests (a coordinator: their school's)")
    async def list_requests(self, request: Request, status: str | None = None) -> list[EscortRequestOut]:
        rows = await services.list_requests(current_user(request), status)
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


# ---------------------------------------------------------------------------------------- pages


class SchoolPages(Controller):
    """Pages for schools, crossings, bell times and closed days (coordinators and managers)."""

    path = "/schools"
    guards = [school_keepers]
    include_in_schema = False


class EscortRequestPages(Controller):
    """Pages for escort requests: coordinators submit, managers approve or reject."""

    path = "/requests"
    guards = [school_keepers]
    include_in_schema = False
