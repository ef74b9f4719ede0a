"""Schools, their crossings, bell times and closed days, and escort requests.

A coordinator keeps only their own school; managers and admins keep every school and decide on
escort requests. Approving a request expands it into dated shifts (see shifts.services).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, User
from volunteer_hub.clock import local_today
from volunteer_hub.db import engine, is_unique_violation
from volunteer_hub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import check_location, grid_exists
from volunteer_hub.schools.tables import (
    CROSSING_KINDS,
    SLOTS,
    BellSchedule,
    Crossing,
    EscortRequest,
    School,
    SchoolClosure,
    SchoolCoordinator,
)

STAFF = (ROLE_MANAGER, ROLE_ADMIN)
MAX_SEATS = 20
MAX_REQUEST_DAYS = 366


def slot_label(slot: str | None) -> str:
    return {"arrival": _("Morning arrival"), "dismissal": _("Afternoon dismissal")}.get(slot or "", slot or "")


def status_label(status: str) -> str:
    return {
        "submitted": _("Submitted"), "approved": _("Approved"), "rejected": _("Rejected"),
        "active": _("Active"), "ended": _("Ended"),
    }.get(status, status)


# ---------------------------------------------------------------------------------- access


async def coordinator_school_id(user: User) -> int | None:
    row = await SchoolCoordinator.select(SchoolCoordinator.school).where(SchoolCoordinator.user == user.id).first()
    return row["school"] if row else None


async def get_school(school_id: int) -> School:
    school = await School.objects().where(School.id == school_id).first()
    if school is None:
        raise NotFound(_("No such school."))
    return school


async def school_for_editing(user: User, school_id: int) -> School:
    """The school, if this user may change it: staff any school, a coordinator only their own."""
    school = await get_school(school_id)
    if user.role in STAFF:
        return school
    if user.role == ROLE_COORDINATOR and await coordinator_school_id(user) == school_id:
        return school
    raise Forbidden(_("You may only change your own school."))


async def visible_schools(user: User) -> list[dict]:
    query = School.select(School.id, School.name, School.address, School.grid.name.as_alias("grid_name"))
    if user.role == ROLE_COORDINATOR:
        own = await coordinator_school_id(user)
        query = query.where(School.id == (own if own is not None else -1))
    return await query.order_by(School.name)


# ---------------------------------------------------------------------------------- schools


@dataclass
class SchoolInput:
    name: str
    address: str
    grid_id: int | None
    latitude: float | None
    longitude: float | None


async def _school_errors(data: SchoolInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > 100:
        errors["name"] = _("Please give a name of at most 100 characters.")
    if not data.address.strip() or len(data.address.strip()) > 200:
        errors["address"] = _("Please give an address of at most 200 characters.")
    if not await grid_exists(data.grid_id):
        errors["grid"] = _("Please choose a grid from the list.")
    check_location(data.latitude, data.longitude, errors)
    return errors


async def _save_school(school: School) -> None:
    try:
        await school.save()
    except Exception as error:
        if is_unique_violation(error):
            message = _("This name is already in use.")
            raise Conflict(message, {"name": message}) from error
        raise


async def create_school(user: User, data: SchoolInput) -> School:
    """Staff create any school; a coordinator registers the school they keep (only one)."""
    if user.role not in STAFF and user.role != ROLE_COORDINATOR:
        raise Forbidden(_("You do not have permission to open this page."))
    if errors := await _school_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    if user.role == ROLE_COORDINATOR and await coordinator_school_id(user) is not None:
        raise Conflict(_("You already keep a school."))
    async with engine().transaction():
        school = School(name=data.name.strip(), address=data.address.strip(), grid=data.grid_id,
                        latitude=data.latitude, longitude=data.longitude)
        await _save_school(school)
        if user.role == ROLE_COORDINATOR:
            await SchoolCoordinator(school=school.id, user=user.id).save()
    return school


async def update_school(user: User, school_id: int, data: SchoolInput) -> School:
    school = await school_for_editing(user, school_id)
    if errors := await _school_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    school.name, school.address, school.grid = data.name.strip(), data.address.strip(), data.grid_id
    school.latitude, school.longitude = data.latitude, data.longitude
    await _save_school(school)
    return school


async def assign_coordinator(actor: User, school_id: int, coordinator_login: str) -> None:
    if actor.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    await get_school(school_id)
    user = await User.objects().where(User.login == coordinator_login.strip()).first()
    if user is None or user.role != ROLE_COORDINATOR:
        raise ValidationFailed(_("Please check the form."), {"login": _("No coordinator account with this user name.")})
    await SchoolCoordinator.delete().where(SchoolCoordinator.user == user.id)
    await SchoolCoordinator(school=school_id, user=user.id).save()


# ---------------------------------------------------------------------------------- crossings


@dataclass
class CrossingInput:
    name: str
    kind: str
    latitude: float | None
    longitude: float | None
    priority: int | None


def _crossing_errors(data: CrossingInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip() or len(data.name.strip()) > 100:
        errors["name"] = _("Please give a name of at most 100 characters.")
    if data.kind not in CROSSING_KINDS:
        errors["kind"] = _("Choose crossing or gate.")
    if data.priority is None or not 1 <= data.priority <= 5:
        errors["priority"] = _("Priority runs from 1 (calm) to 5 (dangerous).")
    check_location(data.latitude, data.longitude, errors)
    return errors


async def list_crossings(school_id: int) -> list[Crossing]:
    return await Crossing.objects().where(Crossing.school == school_id).order_by(Crossing.name)


async def add_crossing(user: User, school_id: int, data: CrossingInput) -> Crossing:
    await school_for_editing(user, school_id)
    if errors := _crossing_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    crossing = Crossing(school=school_id, name=data.name.strip(), kind=data.kind, latitude=data.latitude,
                        longitude=data.longitude, priority=data.priority)
    await crossing.save()
    return crossing


async def update_crossing(user: User, crossing_id: int, data: CrossingInput) -> Crossing:
    crossing = await Crossing.objects().where(Crossing.id == crossing_id).first()
    if crossing is None:
        raise NotFound(_("No such crossing."))
    await school_for_editing(user, crossing.school)
    if errors := _crossing_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    crossing.name, crossing.kind, crossing.priority = data.name.strip(), data.kind, data.priority
    crossing.latitude, crossing.longitude = data.latitude, data.longitude
    await crossing.save()
    return crossing


# ---------------------------------------------------------------------------------- bell times and closures


@dataclass
class BellDay:
    weekday: int
    arrival_start: int
    arrival_end: int
    dismissal_start: int
    dismissal_end: int


def _bell_errors(days: list[BellDay]) -> dict[str, str]:
    seen = set()
    for day in days:
        if not 0 <= day.weekday <= 6 or day.weekday in seen:
            return {"bells": _("Each weekday may appear once.")}
        seen.add(day.weekday)
        for start, end in ((day.arrival_start, day.arrival_end), (day.dismissal_start, day.dismissal_end)):
            if not (0 <= start < end <= 24 * 60):
                return {"bells": _("Each window must end after it starts, within the day.")}
        if day.arrival_end > day.dismissal_start:
            return {"bells": _("Arrival must end before dismissal starts.")}
    return {}


async def bell_schedule(school_id: int) -> list[BellSchedule]:
    return await BellSchedule.objects().where(BellSchedule.school == school_id).order_by(BellSchedule.weekday)


async def replace_bell_schedule(user: User, school_id: int, days: list[BellDay]) -> list[BellSchedule]:
    await school_for_editing(user, school_id)
    if errors := _bell_errors(days):
        raise ValidationFailed(_("Please check the form."), errors)
    async with engine().transaction():
        await BellSchedule.delete().where(BellSchedule.school == school_id)
        if days:
            await BellSchedule.insert(*[BellSchedule(school=school_id, **vars(day)) for day in days])
    await _refresh_school_shifts(school_id)
    return await bell_schedule(school_id)


async def closures(school_id: int) -> list[SchoolClosure]:
    return await SchoolClosure.objects().where(SchoolClosure.school == school_id).order_by(SchoolClosure.day)


async def add_closures(user: User, school_id: int, days: list[dt.date], reason: str) -> None:
    await school_for_editing(user, school_id)
    if not days:
        raise ValidationFailed(_("Please check the form."), {"days": _("Please give at least one date.")})
    if len(reason) > 100:
        raise ValidationFailed(_("Please check the form."), {"reason": _("At most 100 characters.")})
    existing = {row["day"] for row in await SchoolClosure.select(SchoolClosure.day).where(SchoolClosure.school == school_id)}
    new_days = sorted(set(days) - existing)
    if new_days:
        await SchoolClosure.insert(*[SchoolClosure(school=school_id, day=day, reason=reason.strip()) for day in new_days])
    await _refresh_school_shifts(school_id)


async def remove_closure(user: User, school_id: int, day: dt.date) -> None:
    await school_for_editing(user, school_id)
    await SchoolClosure.delete().where((SchoolClosure.school == school_id) & (SchoolClosure.day == day))
    await _refresh_school_shifts(school_id)


async def _refresh_school_shifts(school_id: int) -> None:
    """Bell times or closed days changed: the school's live requests' future shifts follow."""
    from volunteer_hub.shifts.services import expand_escort_request

    live = await EscortRequest.objects().where(
        (EscortRequest.school == school_id) & EscortRequest.status.is_in(["approved", "active"])
    )
    for request in live:
        await expand_escort_request(request)


# ---------------------------------------------------------------------------------- escort requests


@dataclass
class EscortRequestInput:
    crossing_id: int | None
    slot: str
    weekdays: list[int] = field(default_factory=list)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    seats_min: int | None = None
    seats_ideal: int | None = None
    adults_only: bool = True
    needs_trained: bool = False
    needs_lead: bool = False


async def _request_errors(school_id: int, data: EscortRequestInput, allow_past_start: bool = False) -> dict[str, str]:
    errors: dict[str, str] = {}
    crossing = (
        await Crossing.objects().where((Crossing.id == data.crossing_id) & (Crossing.school == school_id)).first()
        if data.crossing_id is not None else None
    )
    if crossing is None:
        errors["crossing"] = _("Please choose one of this school's crossings.")
    if data.slot not in SLOTS:
        errors["slot"] = _("Choose morning arrival or afternoon dismissal.")
    if not data.weekdays or any(not 0 <= day <= 6 for day in data.weekdays):
        errors["weekdays"] = _("Choose at least one weekday.")
    today = local_today()
    if data.start_date is None or data.end_date is None:
        errors["dates"] = _("Please give the first and the last date.")
    elif data.end_date < data.start_date:
        errors["dates"] = _("The last date must not be before the first.")
    elif data.start_date < today and not allow_past_start:
        errors["dates"] = _("The first date must not be in the past.")
    elif (data.end_date - data.start_date).days > MAX_REQUEST_DAYS:
        errors["dates"] = _("A request covers at most one year.")
    if data.seats_min is None or not 1 <= data.seats_min <= MAX_SEATS:
        errors["seats_min"] = _("The minimum must be from 1 to %(n)s.", n=MAX_SEATS)
    elif data.seats_ideal is None or not data.seats_min <= data.seats_ideal <= MAX_SEATS:
        errors["seats_ideal"] = _("The ideal number must be at least the minimum and at most %(n)s.", n=MAX_SEATS)
    return errors


async def get_request(request_id: int) -> EscortRequest:
    request = await EscortRequest.objects().where(EscortRequest.id == request_id).first()
    if request is None:
        raise NotFound(_("No such escort request."))
    return request


async def submit_request(user: User, school_id: int, data: EscortRequestInput) -> EscortRequest:
    await school_for_editing(user, school_id)
    if errors := await _request_errors(school_id, data):
        raise ValidationFailed(_("Please check the form."), errors)
    request = EscortRequest(
        school=school_id, crossing=data.crossing_id, slot=data.slot,
        weekdays=",".join(str(day) for day in sorted(set(data.weekdays))),
        start_date=data.start_date, end_date=data.end_date, seats_min=data.seats_min, seats_ideal=data.seats_ideal,
        adults_only=data.adults_only, needs_trained=data.needs_trained, needs_lead=data.needs_lead,
        status="submitted", created_by=user.id,
    )
    await request.save()
    return request


async def update_request(user: User, request_id: int, data: EscortRequestInput) -> EscortRequest:
    """Change a request. A live one keeps its past shifts; its future shifts follow the change."""
    request = await get_request(request_id)
    await school_for_editing(user, request.school)
    if request.status in ("rejected", "ended"):
        raise Conflict(_("This request is closed and cannot be changed."))
    live = request.status in ("approved", "active")
    if errors := await _request_errors(request.school, data, allow_past_start=live):
        raise ValidationFailed(_("Please check the form."), errors)
    request.crossing, request.slot = data.crossing_id, data.slot
    request.weekdays = ",".join(str(day) for day in sorted(set(data.weekdays)))
    request.start_date, request.end_date = data.start_date, data.end_date
    request.seats_min, request.seats_ideal = data.seats_min, data.seats_ideal
    request.adults_only, request.needs_trained, request.needs_lead = data.adults_only, data.needs_trained, data.needs_lead
    await request.save()
    if live:
        from volunteer_hub.shifts.services import expand_escort_request

        await expand_escort_request(request)
    return request


async def decide_request(user: User, request_id: int, approve: bool, reason: str = "") -> EscortRequest:
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    request = await get_request(request_id)
    if request.status != "submitted":
        raise Conflict(_("Only a submitted request can be approved or rejected."))
    if not approve and not reason.strip():
        raise ValidationFailed(_("Please check the form."), {"reason": _("Please give a reason for the rejection.")})
    request.status = "active" if approve else "rejected"
    request.rejection_reason = "" if approve else reason.strip()[:500]
    request.decided_by = user.id
    await request.save()
    if approve:
        from volunteer_hub.shifts.services import expand_escort_request

        await expand_escort_request(request)
    return request


async def end_request(user: User, request_id: int) -> EscortRequest:
    """Stop a request: its future shifts are cancelled (and their volunteers told)."""
    request = await get_request(request_id)
    await school_for_editing(user, request.school)
    if request.status in ("rejected", "ended"):
        raise Conflict(_("This request is closed and cannot be changed."))
    was_live = request.status in ("approved", "active")
    request.status = "ended"
    await request.save()
    if was_live:
        from volunteer_hub.shifts.services import expand_escort_request

        await expand_escort_request(request)
    return request


async def list_requests(user: User, status: str | None = None) -> list[dict]:
    query = EscortRequest.select(
        EscortRequest.all_columns(),
        EscortRequest.school.name.as_alias("school_name"),
        EscortRequest.crossing.name.as_alias("crossing_name"),
    )
    if user.role == ROLE_COORDINATOR:
        own = await coordinator_school_id(user)
        query = query.where(EscortRequest.school == (own if own is not None else -1))
    elif user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    if status:
        query = query.where(EscortRequest.status == status)
    return await query.order_by(EscortRequest.created_at, ascending=False)


def request_weekdays(request: EscortRequest | dict) -> list[int]:
    text = request["weekdays"] if isinstance(request, dict) else request.weekdays
    return [int(part) for part in text.split(",") if part.strip()]
