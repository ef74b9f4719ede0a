"""Schools, their crossings, bell times and closed days, and escort requests.

A coordinator keeps only their own school; managers and admins keep every school and decide on
escort requests. Approving a request expands it into dated shifts (see shifts.services).

Request states: ``submitted`` (waiting for a manager), ``rejected`` (with a reason), ``approved``
(approved, its first day still ahead), ``active`` (approved and running), ``ended`` (ended by a
keeper, or its last day is over). ``approved``/``active``/date-``ended`` are told apart by the dates
(see :func:`effective_status`), so no job has to move requests along as the days pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, User
from volunteer_hub.clock import local_today
from volunteer_hub.db import engine, for_update, is_unique_violation, write_transaction
from volunteer_hub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.reference.services import check_location, grid_exists
from volunteer_hub.schools.tables import (
    CROSSING_KINDS,
    REQUEST_STATES,
    SLOTS,
    BellSchedule,
    Crossing,
    EscortRequest,
    School,
    SchoolClosure,
    SchoolCoordinator,
)

STAFF = (ROLE_MANAGER, ROLE_ADMIN)
LIVE_STATES = ("approved", "active")
MAX_SEATS = 20
MAX_REQUEST_DAYS = 366
MAX_CLOSURE_DAYS = 366
MAX_REASON = 500


def slot_label(slot: str | None) -> str:
    return {"arrival": _("Morning arrival"), "dismissal": _("Afternoon dismissal")}.get(slot or "", slot or "")


def status_label(status: str) -> str:
    return {
        "submitted": _("Submitted"), "approved": _("Approved"), "rejected": _("Rejected"),
        "active": _("Active"), "ended": _("Ended"),
    }.get(status, status)


def kind_label(kind: str) -> str:
    return {"crossing": _("Road crossing"), "gate": _("School gate")}.get(kind, kind)


def effective_status(request: EscortRequest | dict, today: dt.date | None = None) -> str:
    """The state a person should see: an approved request is ``approved`` until its first day,
    ``active`` while it runs and ``ended`` once its last day is over."""
    get = request.__getitem__ if isinstance(request, dict) else lambda name: getattr(request, name)
    status = get("status")
    if status not in LIVE_STATES:
        return status
    today = today or local_today()
    if get("end_date") < today:
        return "ended"
    return "approved" if get("start_date") > today else "active"


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
    elif user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    return await query.order_by(School.name)


async def list_coordinators(school_id: int) -> list[dict]:
    return await SchoolCoordinator.select(
        SchoolCoordinator.user.login.as_alias("login"), SchoolCoordinator.user.display_name.as_alias("name"),
    ).where(SchoolCoordinator.school == school_id).order_by(SchoolCoordinator.id)


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


def _name_taken() -> Conflict:
    message = _("This name is already in use.")
    return Conflict(message, {"name": message})


async def create_school(user: User, data: SchoolInput) -> School:
    """Staff create any school; a coordinator registers the school they keep (only one)."""
    if user.role not in STAFF and user.role != ROLE_COORDINATOR:
        raise Forbidden(_("You do not have permission to open this page."))
    if errors := await _school_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    async with write_transaction():
        if user.role == ROLE_COORDINATOR and await coordinator_school_id(user) is not None:
            raise Conflict(_("You already keep a school."))
        if await School.exists().where(School.name == data.name.strip()):
            raise _name_taken()
        school = School(name=data.name.strip(), address=data.address.strip(), grid=data.grid_id,
                        latitude=data.latitude, longitude=data.longitude)
        try:
            await school.save()
            if user.role == ROLE_COORDINATOR:
                await SchoolCoordinator(school=school.id, user=user.id).save()
        except Exception as error:
            if is_unique_violation(error):  # a concurrent registration got there first
                raise Conflict(_("This school or its coordinator is already registered.")) from error
            raise
    return school


async def update_school(user: User, school_id: int, data: SchoolInput) -> School:
    """Change a school; the future shifts of its live requests follow (title, grid)."""
    await school_for_editing(user, school_id)
    if errors := await _school_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    async with write_transaction():
        if await School.exists().where((School.name == data.name.strip()) & (School.id != school_id)):
            raise _name_taken()
        school = await get_school(school_id)
        school.name, school.address, school.grid = data.name.strip(), data.address.strip(), data.grid_id
        school.latitude, school.longitude = data.latitude, data.longitude
        try:
            await school.save()
        except Exception as error:
            if is_unique_violation(error):
                raise _name_taken() from error
            raise
        await _refresh_school_shifts(school_id)
    return school


async def assign_coordinator(actor: User, school_id: int, coordinator_login: str) -> User:
    """Make a coordinator account keep this school (a coordinator keeps one school: any earlier
    school of theirs is released)."""
    if actor.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    await get_school(school_id)
    user = await User.objects().where(User.login == coordinator_login.strip()).first()
    if user is None or user.role != ROLE_COORDINATOR:
        raise ValidationFailed(_("Please check the form."), {"login": _("No coordinator account with this user name.")})
    async with write_transaction():
        await SchoolCoordinator.delete().where(SchoolCoordinator.user == user.id)
        await SchoolCoordinator(school=school_id, user=user.id).save()
    return user


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


async def update_crossing(user: User, crossing_id: int, data: CrossingInput, school_id: int | None = None) -> Crossing:
    """Change a crossing (``school_id``: the school the caller thinks it belongs to, if any); the
    future shifts of live requests there follow (name, place, priority)."""
    crossing = await Crossing.objects().where(Crossing.id == crossing_id).first()
    if crossing is None or (school_id is not None and crossing.school != school_id):
        raise NotFound(_("No such crossing."))
    await school_for_editing(user, crossing.school)
    if errors := _crossing_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    crossing.name, crossing.kind, crossing.priority = data.name.strip(), data.kind, data.priority
    crossing.latitude, crossing.longitude = data.latitude, data.longitude
    async with write_transaction():
        await crossing.save()
        await _refresh_school_shifts(crossing.school, crossing_id=crossing.id)
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
    """The first problem found, naming the weekday so the form says which row to fix."""
    from volunteer_hub.volunteers.services import weekday_label

    seen = set()
    for day in days:
        if not 0 <= day.weekday <= 6 or day.weekday in seen:
            return {"bells": _("Each weekday may appear once.")}
        seen.add(day.weekday)
        label = weekday_label(day.weekday)
        for start, end in ((day.arrival_start, day.arrival_end), (day.dismissal_start, day.dismissal_end)):
            if not (0 <= start < end <= 24 * 60):
                return {"bells": _("%(day)s: each window must end after it starts, within the day.", day=label)}
        if day.arrival_end > day.dismissal_start:
            return {"bells": _("%(day)s: arrival must end before dismissal starts.", day=label)}
    return {}


async def bell_schedule(school_id: int) -> list[BellSchedule]:
    return await BellSchedule.objects().where(BellSchedule.school == school_id).order_by(BellSchedule.weekday)


async def replace_bell_schedule(user: User, school_id: int, days: list[BellDay]) -> list[BellSchedule]:
    """Replace the week's bell times; the school's live requests' future shifts follow."""
    await school_for_editing(user, school_id)
    if errors := _bell_errors(days):
        raise ValidationFailed(_("Please check the form."), errors)
    async with write_transaction():
        await BellSchedule.delete().where(BellSchedule.school == school_id)
        if days:
            await BellSchedule.insert(*[BellSchedule(school=school_id, **vars(day)) for day in days])
        await _refresh_school_shifts(school_id)
    return await bell_schedule(school_id)


async def closures(school_id: int) -> list[SchoolClosure]:
    return await SchoolClosure.objects().where(SchoolClosure.school == school_id).order_by(SchoolClosure.day)


async def add_closures(user: User, school_id: int, days: list[dt.date], reason: str) -> int:
    """Mark days as closed (holidays, sports days): no escorts then; live requests' shifts on those
    days are cancelled and their volunteers told. Days already closed are kept. Returns how many
    days were added."""
    await school_for_editing(user, school_id)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if not days:
        errors["days"] = _("Please give at least one date.")
    elif min(days) < local_today():
        errors["days"] = _("Closed days must not be in the past.")
    elif len(set(days)) > MAX_CLOSURE_DAYS:
        errors["days"] = _("At most %(n)s days at a time.", n=MAX_CLOSURE_DAYS)
    if len(reason) > 100:
        errors["reason"] = _("At most 100 characters.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    async with write_transaction():
        existing = {row["day"] for row in await SchoolClosure.select(SchoolClosure.day).where(
            SchoolClosure.school == school_id)}
        new_days = sorted(set(days) - existing)
        if new_days:
            await SchoolClosure.insert(*[SchoolClosure(school=school_id, day=day, reason=reason) for day in new_days])
        await _refresh_school_shifts(school_id)
    return len(new_days)


async def add_closure_range(user: User, school_id: int, first: dt.date | None, last: dt.date | None,
                            reason: str) -> int:
    """Close every day from ``first`` to ``last`` (a holiday); ``last`` defaults to ``first``."""
    await school_for_editing(user, school_id)
    last = last or first
    if first is None:
        raise ValidationFailed(_("Please check the form."), {"first": _("Please give the first date.")})
    if last < first:
        raise ValidationFailed(_("Please check the form."), {"last": _("The last date must not be before the first.")})
    if (last - first).days >= MAX_CLOSURE_DAYS:
        raise ValidationFailed(_("Please check the form."), {"last": _("At most %(n)s days at a time.", n=MAX_CLOSURE_DAYS)})
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    return await add_closures(user, school_id, days, reason)


async def remove_closure(user: User, school_id: int, day: dt.date) -> None:
    """Open a closed day again; live requests get their shifts back that day (if still ahead)."""
    await remove_closures(user, school_id, day, day)


async def remove_closures(user: User, school_id: int, first: dt.date | None, last: dt.date | None) -> int:
    """Open the closed days from ``first`` to ``last`` again. Returns how many were removed."""
    await school_for_editing(user, school_id)
    if first is None or last is None or last < first:
        raise ValidationFailed(_("Please check the form."), {"days": _("The last date must not be before the first.")})
    in_range = (SchoolClosure.school == school_id) & (SchoolClosure.day >= first) & (SchoolClosure.day <= last)
    async with write_transaction():
        count = await SchoolClosure.count().where(in_range)
        if not count:
            raise NotFound(_("This day is not marked as closed."))
        await SchoolClosure.delete().where(in_range)
        await _refresh_school_shifts(school_id)
    return count


@dataclass
class ClosureRange:
    first: dt.date
    last: dt.date
    reason: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def closure_ranges(rows: list[SchoolClosure]) -> list[ClosureRange]:
    """Consecutive closed days with the same reason, as one range each (a holiday reads as one line)."""
    ranges: list[ClosureRange] = []
    for row in sorted(rows, key=lambda item: item.day):
        last = ranges[-1] if ranges else None
        if last is not None and row.day == last.last + dt.timedelta(days=1) and row.reason == last.reason:
            last.last = row.day
        else:
            ranges.append(ClosureRange(first=row.day, last=row.day, reason=row.reason))
    return ranges


async def _refresh_school_shifts(school_id: int, crossing_id: int | None = None) -> None:
    """The school, its bell times or closed days changed: its live requests' future shifts follow.
    Runs inside the caller's transaction when there is one."""
    from volunteer_hub.shifts.services import expand_escort_request

    condition = (EscortRequest.school == school_id) & EscortRequest.status.is_in(list(LIVE_STATES))
    if crossing_id is not None:
        condition &= EscortRequest.crossing == crossing_id
    for request in await EscortRequest.objects().where(condition):
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
    weekdays_ok = bool(data.weekdays) and all(0 <= day <= 6 for day in data.weekdays)
    if not weekdays_ok:
        errors["weekdays"] = _("Choose at least one weekday.")
    today = local_today()
    if data.start_date is None or data.end_date is None:
        errors["dates"] = _("Please give the first and the last date.")
    elif data.end_date < data.start_date:
        errors["dates"] = _("The last date must not be before the first.")
    elif data.start_date < today and not allow_past_start:
        errors["dates"] = _("The first date must not be in the past.")
    elif data.end_date < today:
        errors["dates"] = _("The last date must not be in the past.")
    elif (data.end_date - data.start_date).days > MAX_REQUEST_DAYS:
        errors["dates"] = _("A request covers at most one year.")
    elif weekdays_ok and (data.end_date - data.start_date).days < 6 and not {
        (data.start_date + dt.timedelta(days=offset)).weekday()
        for offset in range((data.end_date - data.start_date).days + 1)
    } & set(data.weekdays):
        errors["weekdays"] = _("None of the chosen weekdays falls between the first and the last date.")
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


async def request_for_keeper(user: User, request_id: int) -> EscortRequest:
    """The request, if this user keeps its school (staff: every request)."""
    request = await get_request(request_id)
    await school_for_editing(user, request.school)
    return request


async def _locked_request(request_id: int) -> EscortRequest:
    """Inside a write transaction: the request, locked against concurrent decisions and edits."""
    row = await for_update(EscortRequest.select().where(EscortRequest.id == request_id)).first()
    if row is None:
        raise NotFound(_("No such escort request."))
    return EscortRequest(_exists_in_db=True, **row)


def _apply(request: EscortRequest, data: EscortRequestInput) -> None:
    request.crossing, request.slot = data.crossing_id, data.slot
    request.weekdays = ",".join(str(day) for day in sorted(set(data.weekdays)))
    request.start_date, request.end_date = data.start_date, data.end_date
    request.seats_min, request.seats_ideal = data.seats_min, data.seats_ideal
    request.adults_only, request.needs_trained, request.needs_lead = data.adults_only, data.needs_trained, data.needs_lead


async def submit_request(user: User, school_id: int, data: EscortRequestInput) -> EscortRequest:
    await school_for_editing(user, school_id)
    if errors := await _request_errors(school_id, data):
        raise ValidationFailed(_("Please check the form."), errors)
    request = EscortRequest(school=school_id, status="submitted", created_by=user.id)
    _apply(request, data)
    await request.save()
    return request


async def update_request(user: User, request_id: int, data: EscortRequestInput) -> EscortRequest:
    """Change a request. A live one keeps its past shifts; its future shifts follow the change."""
    request = await request_for_keeper(user, request_id)
    async with write_transaction():
        request = await _locked_request(request_id)
        if effective_status(request) in ("rejected", "ended"):
            raise Conflict(_("This request is closed and cannot be changed."))
        live = request.status in LIVE_STATES
        if errors := await _request_errors(request.school, data, allow_past_start=live):
            raise ValidationFailed(_("Please check the form."), errors)
        _apply(request, data)
        await request.save()
        if live:
            from volunteer_hub.shifts.services import expand_escort_request

            await expand_escort_request(request)
    return request


async def decide_request(user: User, request_id: int, approve: bool, reason: str = "") -> EscortRequest:
    """Approve (the request expands into dated shifts at once, in the same transaction) or reject
    with a reason."""
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    reason = reason.strip()
    await get_request(request_id)  # an unknown id is "not found" before the form is judged
    if not approve and not reason:
        raise ValidationFailed(_("Please check the form."), {"reason": _("Please give a reason for the rejection.")})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(_("Please check the form."), {"reason": _("At most %(n)s characters.", n=MAX_REASON)})
    async with write_transaction():
        request = await _locked_request(request_id)
        if request.status != "submitted":
            raise Conflict(_("Only a submitted request can be approved or rejected."))
        today = local_today()
        if approve and request.end_date < today:
            raise Conflict(_("The last date of this request is over; it can no longer be approved."))
        request.status = ("approved" if request.start_date > today else "active") if approve else "rejected"
        request.rejection_reason = "" if approve else reason
        request.decided_by = user.id
        await request.save()
        if approve:
            from volunteer_hub.shifts.services import expand_escort_request

            await expand_escort_request(request)
    return request


async def end_request(user: User, request_id: int) -> EscortRequest:
    """Stop a request: its future shifts are cancelled (and their volunteers told)."""
    await request_for_keeper(user, request_id)
    async with write_transaction():
        request = await _locked_request(request_id)
        if request.status in ("rejected", "ended"):
            raise Conflict(_("This request is closed and cannot be changed."))
        was_live = request.status in LIVE_STATES
        request.status = "ended"
        await request.save()
        if was_live:
            from volunteer_hub.shifts.services import expand_escort_request

            await expand_escort_request(request)
    return request


def _state_condition(status: str, today: dt.date):
    live = EscortRequest.status.is_in(list(LIVE_STATES))
    if status == "approved":
        return live & (EscortRequest.start_date > today)
    if status == "active":
        return live & (EscortRequest.start_date <= today) & (EscortRequest.end_date >= today)
    if status == "ended":
        return (EscortRequest.status == "ended") | (live & (EscortRequest.end_date < today))
    return EscortRequest.status == status


async def list_requests(user: User, status: str | None = None, school_id: int | None = None) -> list[dict]:
    """Requests newest first, each with ``status`` as people see it (:func:`effective_status`) and
    the school's and crossing's names. A coordinator sees only their school's."""
    if status and status not in REQUEST_STATES:
        raise ValidationFailed(_("Please choose a state from the list."), {"status": _("Please choose a state from the list.")})
    query = EscortRequest.select(
        EscortRequest.all_columns(),
        EscortRequest.school.name.as_alias("school_name"),
        EscortRequest.crossing.name.as_alias("crossing_name"),
    )
    if user.role == ROLE_COORDINATOR:
        own = await coordinator_school_id(user)
        if school_id is not None and school_id != own:
            raise Forbidden(_("You may only change your own school."))
        query = query.where(EscortRequest.school == (own if own is not None else -1))
    elif user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    elif school_id is not None:
        await get_school(school_id)
        query = query.where(EscortRequest.school == school_id)
    today = local_today()
    if status:
        query = query.where(_state_condition(status, today))
    rows = await query.order_by(EscortRequest.created_at, ascending=False).order_by(EscortRequest.id, ascending=False)
    for row in rows:
        row["status"] = effective_status(row, today)
    return rows


def request_weekdays(request: EscortRequest | dict) -> list[int]:
    text = request["weekdays"] if isinstance(request, dict) else request.weekdays
    return [int(part) for part in text.split(",") if part.strip()]


@dataclass
class RequestView:
    """One request as its page shows it: what was asked, its state, and each dated shift."""

    request: EscortRequest
    status: str
    school: School
    crossing: Crossing
    weekdays: list[int]
    shifts: list  # shifts.services.ShiftCard, soonest first
    weekdays_without_bells: list[int]
    may_decide: bool
    may_change: bool


async def request_view(user: User, request_id: int) -> RequestView:
    from volunteer_hub.shifts.services import request_shifts

    request = await request_for_keeper(user, request_id)
    school = await get_school(request.school)
    crossing = await Crossing.objects().where(Crossing.id == request.crossing).first()
    weekdays = request_weekdays(request)
    rung = {row.weekday for row in await bell_schedule(request.school)}
    status = effective_status(request)
    return RequestView(
        request=request, status=status, school=school, crossing=crossing, weekdays=weekdays,
        shifts=await request_shifts(user, request_id),
        weekdays_without_bells=[day for day in weekdays if day not in rung],
        may_decide=user.role in STAFF and status == "submitted",
        may_change=status not in ("rejected", "ended"),
    )
