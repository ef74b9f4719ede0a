"""Shifts: expanding escort requests and activities into dated shifts, browsing, signing up with a
waitlist, cancelling, and the schedules people read (my shifts, rosters, the week overview).

Seats are guarded in the database transaction: the shift row is locked (PostgreSQL) or the
transaction is IMMEDIATE (SQLite) before seats are counted, so concurrent sign-ups never overbook.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from piccolo.query.functions.aggregate import Count

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, User
from volunteer_hub.activities.tables import Activity
from volunteer_hub.clock import at_minute, local_now, local_today, week_start
from volunteer_hub.db import for_update, is_unique_violation, write_transaction
from volunteer_hub.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.notifications.services import notify
from volunteer_hub.schools.tables import BellSchedule, Crossing, EscortRequest, School, SchoolClosure
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import (
    CANCELLED,
    ENDED_BY_SHIFT_CANCELLED,
    ENDED_BY_VOLUNTEER,
    CONFIRMED,
    PLANNED_SOURCES,
    SHIFT_CANCELLED,
    SHIFT_OPEN,
    WAITLISTED,
    Assignment,
    Shift,
    TeamBooking,
)
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.services import ADULT_AGE, is_available, volunteer_for_user
from volunteer_hub.volunteers.tables import Volunteer, VolunteerSkill

LIVE = (CONFIRMED, WAITLISTED)
LEAD_SKILL = "lead"
STAFF = (ROLE_MANAGER, ROLE_ADMIN)


class NeedsConfirmation(DomainError):
    """The sign-up is allowed but unusual (outside the volunteer's stated availability): ask first."""

    status_code = 409


def shift_when(shift: Shift | dict) -> str:
    get = shift.__getitem__ if isinstance(shift, dict) else lambda name: getattr(shift, name)
    return f"{get('day').isoformat()} {get('starts_at'):%H:%M}-{get('ends_at'):%H:%M}"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); plenty for distances inside a district."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------------- expansion


@dataclass
class ExpansionSummary:
    created: int = 0
    updated: int = 0
    cancelled: int = 0

    def add(self, other: ExpansionSummary) -> None:
        self.created += other.created
        self.updated += other.updated
        self.cancelled += other.cancelled


SHIFT_FIELDS = ("escort_request", "activity", "school", "crossing", "site", "grid", "kind", "slot", "title", "day",
                "starts_at", "ends_at", "latitude", "longitude", "seats_min", "seats_ideal", "seats_max",
                "adults_only", "required_skills", "needs_lead", "priority", "team_slots")


def _horizon(first: dt.date, last: dt.date | None) -> list[dt.date]:
    start = max(first, local_today())
    end = local_today() + dt.timedelta(days=get_settings().planning_horizon_days)
    if last is not None:
        end = min(end, last)
    return [start + dt.timedelta(days=offset) for offset in range((end - start).days + 1)] if end >= start else []


async def expand_escort_request(request: EscortRequest) -> ExpansionSummary:
    desired: dict[str, dict] = {}
    if request.status in ("approved", "active"):
        school = await School.objects().where(School.id == request.school).first()
        crossing = await Crossing.objects().where(Crossing.id == request.crossing).first()
        bells = {row.weekday: row for row in await BellSchedule.objects().where(BellSchedule.school == school.id)}
        closed = {row["day"] for row in await SchoolClosure.select(SchoolClosure.day).where(SchoolClosure.school == school.id)}
        weekdays = {int(part) for part in request.weekdays.split(",") if part}
        for day in _horizon(request.start_date, request.end_date):
            bell = bells.get(day.weekday())
            if day.weekday() not in weekdays or day in closed or bell is None:
                continue
            start, end = ((bell.arrival_start, bell.arrival_end) if request.slot == "arrival"
                          else (bell.dismissal_start, bell.dismissal_end))
            desired[f"escort:{request.id}:{day.isoformat()}"] = {
                "escort_request": request.id, "activity": None, "school": school.id, "crossing": crossing.id,
                "site": None, "grid": school.grid, "kind": "escort", "slot": request.slot,
                "title": f"{school.name} · {crossing.name}", "day": day,
                "starts_at": at_minute(day, start), "ends_at": at_minute(day, end),
                "latitude": crossing.latitude, "longitude": crossing.longitude,
                "seats_min": request.seats_min, "seats_ideal": request.seats_ideal, "seats_max": request.seats_ideal,
                "adults_only": request.adults_only, "required_skills": "trained_escort" if request.needs_trained else "",
                "needs_lead": request.needs_lead, "priority": 5 + crossing.priority, "team_slots": 0,
            }
    return await _sync(Shift.escort_request == request.id, desired)


async def expand_activity(activity: Activity) -> ExpansionSummary:
    desired: dict[str, dict] = {}
    if not activity.is_cancelled:
        site = await Site.objects().where(Site.id == activity.site).first()
        last = activity.until_date if activity.repeat_weekly else activity.first_date
        for day in _horizon(activity.first_date, last):
            if (day - activity.first_date).days % 7:
                continue
            desired[f"activity:{activity.id}:{day.isoformat()}"] = {
                "escort_request": None, "activity": activity.id, "school": None, "crossing": None, "site": site.id,
                "grid": site.grid, "kind": activity.kind, "slot": None, "title": f"{activity.title} · {site.name}",
                "day": day, "starts_at": at_minute(day, activity.start_minute),
                "ends_at": at_minute(day, activity.end_minute), "latitude": site.latitude, "longitude": site.longitude,
                "seats_min": activity.seats_min, "seats_ideal": activity.seats_max, "seats_max": activity.seats_max,
                "adults_only": False, "required_skills": activity.required_skills, "needs_lead": False,
                "priority": 3 if activity.kind == "festival" else 2, "team_slots": activity.team_slots,
            }
    return await _sync(Shift.activity == activity.id, desired)


async def _sync(owner_condition, desired: dict[str, dict]) -> ExpansionSummary:
    """Make the owner's future shifts match ``desired`` (by source key). Shifts that have started
    are never touched, so past work and its attendance stay as they happened."""
    summary = ExpansionSummary()
    now = local_now()
    async with write_transaction():
        existing = {shift.source_key: shift for shift in await Shift.objects().where(owner_condition)}
        for key, values in desired.items():
            shift = existing.get(key)
            if shift is None:
                if values["starts_at"] <= now:
                    continue  # already begun: nobody could sign up for it any more
                # ON CONFLICT: another expansion may have made it a moment ago; an error here would abort
                # the caller's whole transaction on PostgreSQL.
                made = await Shift.insert(Shift(source_key=key, status=SHIFT_OPEN, **values)).on_conflict(
                    target=Shift.source_key, action="DO NOTHING").returning(Shift.id)
                summary.created += len(made)
                continue
            if shift.starts_at <= now:
                continue
            changed = [name for name in SHIFT_FIELDS if getattr(shift, name) != values[name]]
            if changed or shift.status != SHIFT_OPEN:
                times_changed = shift.starts_at != values["starts_at"] or shift.ends_at != values["ends_at"]
                for name in SHIFT_FIELDS:
                    setattr(shift, name, values[name])
                shift.status = SHIFT_OPEN
                await shift.save()
                summary.updated += 1
                if times_changed:
                    await _notify_live(shift, "shift_changed")
        for key, shift in existing.items():
            if key not in desired and shift.starts_at > now and shift.status == SHIFT_OPEN:
                await _cancel_shift_row(shift)
                summary.cancelled += 1
    return summary


async def expand_all() -> ExpansionSummary:
    """Bring every live request and activity up to the planning horizon (idempotent)."""
    summary = ExpansionSummary()
    for request in await EscortRequest.objects().where(EscortRequest.status.is_in(["approved", "active"])):
        summary.add(await expand_escort_request(request))
    for activity in await Activity.objects().where(Activity.is_cancelled == False):  # noqa: E712
        summary.add(await expand_activity(activity))
    return summary


async def _live_user_ids(shift_id: int) -> list[int]:
    rows = await Assignment.select(Assignment.volunteer.user.as_alias("user_id")).where(
        (Assignment.shift == shift_id) & Assignment.status.is_in(list(LIVE)))
    return [row["user_id"] for row in rows]


async def _notify_live(shift: Shift, kind: str) -> None:
    await notify(await _live_user_ids(shift.id), kind, {"title": shift.title, "when": shift_when(shift)})


async def _cancel_shift_row(shift: Shift) -> None:
    await _notify_live(shift, "shift_cancelled")
    await Assignment.update({Assignment.status: CANCELLED, Assignment.cancelled_at: dt.datetime.now(dt.timezone.utc),
                             Assignment.cancelled_by: ENDED_BY_SHIFT_CANCELLED}).where(
        (Assignment.shift == shift.id) & Assignment.status.is_in(list(LIVE)))
    shift.status = SHIFT_CANCELLED
    await shift.save([Shift.status])


async def get_shift(shift_id: int) -> Shift:
    shift = await Shift.objects().where(Shift.id == shift_id).first()
    if shift is None:
        raise NotFound(_("No such shift."))
    return shift


async def cancel_shift(user: User, shift_id: int) -> Shift:
    """Cancel one dated shift; everyone on it (and on its waitlist) is told."""
    shift = await get_shift(shift_id)
    await check_may_manage(user, shift)
    if shift.status == SHIFT_CANCELLED:
        raise Conflict(_("This shift is already cancelled."))
    if shift.starts_at <= local_now():
        raise ValidationFailed(_("This shift has started or is over."))
    async with write_transaction():
        await _cancel_shift_row(shift)
    return shift


async def check_may_manage(user: User, shift: Shift) -> None:
    if user.role in STAFF:
        return
    if user.role == ROLE_COORDINATOR and shift.school is not None:
        from volunteer_hub.schools.services import coordinator_school_id

        if await coordinator_school_id(user) == shift.school:
            return
    raise Forbidden(_("You do not have permission to open this page."))


# ---------------------------------------------------------------------------------- sign-up


@dataclass
class SignUpResult:
    assignment_id: int
    status: str
    waitlist_position: int | None


def _age(birth_year: int, day: dt.date) -> int:
    return day.year - birth_year


async def _volunteer_skills(volunteer_id: int) -> set[str]:
    return {row["skill"] for row in await VolunteerSkill.select(VolunteerSkill.skill).where(
        VolunteerSkill.volunteer == volunteer_id)}


async def _live_shifts_of(volunteer_id: int, statuses=LIVE) -> list[dict]:
    return await Assignment.select(
        Assignment.shift.id.as_alias("shift_id"), Assignment.shift.starts_at.as_alias("starts_at"),
        Assignment.shift.ends_at.as_alias("ends_at"), Assignment.shift.day.as_alias("day"), Assignment.status,
    ).where((Assignment.volunteer == volunteer_id) & Assignment.status.is_in(list(statuses))
            & (Assignment.shift.status == SHIFT_OPEN))


async def _rule_problem(volunteer: Volunteer, shift: Shift, ignore_assignment_of_shift: bool = False) -> str | None:
    """Why this volunteer may not take this shift (a hard rule), or None."""
    if shift.adults_only and _age(volunteer.birth_year, shift.day) < ADULT_AGE:
        return _("This shift needs adults (%(age)s or older).", age=ADULT_AGE)
    required = {skill for skill in shift.required_skills.split(",") if skill}
    missing_skills = required - await _volunteer_skills(volunteer.id)
    if missing_skills:
        from volunteer_hub.volunteers.services import skill_label

        missing = ", ".join(skill_label(skill) for skill in sorted(missing_skills))
        return _("This shift needs a skill you have not listed: %(skills)s.", skills=missing)
    mine = [row for row in await _live_shifts_of(volunteer.id)
            if not (ignore_assignment_of_shift and row["shift_id"] == shift.id)]
    for row in mine:
        if row["starts_at"] < shift.ends_at and row["ends_at"] > shift.starts_at:
            return _("You already have a shift at that time.")
    monday = week_start(shift.day)
    same_week = [row for row in mine if row["status"] == CONFIRMED and monday <= row["day"] < monday + dt.timedelta(days=7)]
    if len(same_week) + 1 > volunteer.max_shifts_per_week:
        return _("This would be more than your weekly maximum of %(n)s shifts.", n=volunteer.max_shifts_per_week)
    minutes = sum((row["ends_at"] - row["starts_at"]).total_seconds() / 60 for row in same_week)
    if minutes + (shift.ends_at - shift.starts_at).total_seconds() / 60 > volunteer.max_minutes_per_week:
        return _("This would be more than your weekly maximum of %(n)s hours.",
                 n=f"{volunteer.max_minutes_per_week / 60:g}")
    return None


async def lock_volunteer_and_shift(volunteer_id: int, shift_id: int) -> Shift:
    """Inside a write transaction: lock the volunteer, then the shift (the lock order everywhere), and
    return the shift as it is now."""
    await for_update(Volunteer.select(Volunteer.id).where(Volunteer.id == volunteer_id)).first()
    row = await for_update(Shift.select().where(Shift.id == shift_id)).first()
    if row is None:
        raise NotFound(_("No such shift."))
    return Shift(**row)


async def _locked_open_future_shift(volunteer_id: int, shift_id: int) -> Shift:
    shift = await lock_volunteer_and_shift(volunteer_id, shift_id)
    if shift.status != SHIFT_OPEN:
        raise Conflict(_("This shift is cancelled."))
    if shift.starts_at <= local_now():
        raise ValidationFailed(_("This shift has started or is over."))
    return shift


async def sign_up(user: User, shift_id: int, confirm_outside_availability: bool = False) -> SignUpResult:
    volunteer = await volunteer_for_user(user)
    async with write_transaction():
        shift = await _locked_open_future_shift(volunteer.id, shift_id)
        if await Assignment.exists().where((Assignment.shift == shift.id) & (Assignment.volunteer == volunteer.id)
                                            & Assignment.status.is_in(list(LIVE))):
            raise Conflict(_("You are already signed up for this shift."))
        if problem := await _rule_problem(volunteer, shift):
            raise ValidationFailed(problem)
        if not confirm_outside_availability and not await is_available(volunteer.id, shift.starts_at, shift.ends_at):
            raise NeedsConfirmation(
                _("This shift is outside the times you said you are available. Sign up anyway?"),
                {"confirm_outside_availability": _("Confirm to sign up anyway.")})
        confirmed = await Assignment.count().where((Assignment.shift == shift.id) & (Assignment.status == CONFIRMED))
        free = shift.seats_max - confirmed - await _seats_reserved_for_other_units(shift.id, volunteer.unit)
        if free > 0 and await _last_seat_kept_for_a_lead(shift, volunteer.id, confirmed):
            raise ValidationFailed(_("The last seat of this shift is kept for a team lead."))
        status = CONFIRMED if free > 0 else WAITLISTED
        assignment = Assignment(shift=shift.id, volunteer=volunteer.id, status=status, source="self")
        try:
            await assignment.save()
        except Exception as error:
            if is_unique_violation(error):
                raise Conflict(_("You are already signed up for this shift.")) from error
            raise
    position = await waitlist_position(assignment.id) if status == WAITLISTED else None
    return SignUpResult(assignment_id=assignment.id, status=status, waitlist_position=position)


async def _seats_reserved_for_other_units(shift_id: int, unit_id: int | None) -> int:
    """Seats booked by other units that their members have not taken yet: nobody else may take them."""
    reserved = 0
    for booking in await TeamBooking.objects().where(TeamBooking.shift == shift_id):
        if booking.unit == unit_id:
            continue
        taken = await Assignment.count().where((Assignment.shift == shift_id) & (Assignment.status == CONFIRMED)
                                               & (Assignment.volunteer.unit == booking.unit))
        reserved += max(0, booking.seats - taken)
    return reserved


@dataclass
class TeamSlots:
    total: int
    bookings: list[dict]  # unit name, seats, taken
    mine: int  # seats booked by the viewer's unit


async def team_slots(shift_id: int, unit_id: int | None) -> TeamSlots:
    shift = await get_shift(shift_id)
    bookings = []
    mine = 0
    for booking in await TeamBooking.select(TeamBooking.unit, TeamBooking.seats, TeamBooking.unit.name.as_alias("name")).where(
            TeamBooking.shift == shift_id).order_by(TeamBooking.id):
        taken = await Assignment.count().where((Assignment.shift == shift_id) & (Assignment.status == CONFIRMED)
                                               & (Assignment.volunteer.unit == booking["unit"]))
        bookings.append({"unit": booking["name"], "seats": booking["seats"], "taken": taken})
        if booking["unit"] == unit_id:
            mine = booking["seats"]
    return TeamSlots(total=shift.team_slots, bookings=bookings, mine=mine)


async def book_team_seats(user: User, shift_id: int, seats: int | None) -> TeamSlots:
    """A member reserves some of a shift's team slots for their unit (or changes the number); the unit's
    members then sign up into them. Setting 0 releases the seats not yet taken."""
    volunteer = await volunteer_for_user(user)
    if volunteer.unit is None:
        raise ValidationFailed(_("Only members of a unit can reserve team seats. Choose your unit in your profile."))
    async with write_transaction():
        shift = await _locked_open_future_shift(volunteer.id, shift_id)
        if shift.team_slots <= 0:
            raise ValidationFailed(_("This shift has no team seats."))
        taken_by_unit = await Assignment.count().where((Assignment.shift == shift_id) & (Assignment.status == CONFIRMED)
                                                       & (Assignment.volunteer.unit == volunteer.unit))
        others = sum(b.seats for b in await TeamBooking.objects().where(
            (TeamBooking.shift == shift_id) & (TeamBooking.unit != volunteer.unit)))
        current = await TeamBooking.objects().where((TeamBooking.shift == shift_id) & (TeamBooking.unit == volunteer.unit)).first()
        confirmed = await Assignment.count().where((Assignment.shift == shift_id) & (Assignment.status == CONFIRMED))
        # Seats nobody holds yet, plus the unit's own members already on the shift and its unfilled booking.
        open_to_unit = (shift.seats_max - confirmed - await _seats_reserved_for_other_units(shift_id, volunteer.unit)
                        + taken_by_unit)
        if seats is None or seats < 0:
            raise ValidationFailed(_("Please check the form."), {"seats": _("Please give a whole number.")})
        if seats > shift.team_slots - others:
            raise ValidationFailed(_("Please check the form."), {"seats": _(
                "At most %(n)s team seats are left on this shift.", n=max(0, shift.team_slots - others))})
        if seats > open_to_unit:
            raise ValidationFailed(_("Please check the form."), {"seats": _(
                "Only %(n)s seats are free on this shift.", n=max(0, open_to_unit))})
        if current is None and seats > 0:
            await TeamBooking(shift=shift_id, unit=volunteer.unit, seats=seats, booked_by=user.id).save()
        elif current is not None and seats > 0:
            await TeamBooking.update({TeamBooking.seats: seats}).where(TeamBooking.id == current.id)
        elif current is not None:
            await TeamBooking.delete().where(TeamBooking.id == current.id)
    return await team_slots(shift_id, volunteer.unit)


async def _last_seat_kept_for_a_lead(shift: Shift, volunteer_id: int, confirmed: int) -> bool:
    """A shift that needs a lead keeps its last seat for one while nobody confirmed on it is a lead."""
    if not shift.needs_lead or confirmed != shift.seats_max - 1 or LEAD_SKILL in await _volunteer_skills(volunteer_id):
        return False
    leads_on_it = await VolunteerSkill.count().where(
        (VolunteerSkill.skill == LEAD_SKILL) & VolunteerSkill.volunteer.is_in(
            Assignment.select(Assignment.volunteer).where((Assignment.shift == shift.id) & (Assignment.status == CONFIRMED))))
    return leads_on_it == 0


async def waitlist_position(assignment_id: int) -> int | None:
    assignment = await Assignment.objects().where(Assignment.id == assignment_id).first()
    if assignment is None or assignment.status != WAITLISTED:
        return None
    ahead = await Assignment.count().where(
        (Assignment.shift == assignment.shift) & (Assignment.status == WAITLISTED) & (Assignment.id < assignment.id))
    return ahead + 1


@dataclass
class CancelResult:
    late: bool
    promoted_volunteer_id: int | None


def cutoff_hours_text() -> str:
    """``CANCEL_CUTOFF_HOURS`` as messages show it: 12, not 12.0."""
    return f"{get_settings().cancel_cutoff_hours:g}"


def _after_cutoff(starts_at: dt.datetime, now: dt.datetime) -> bool:
    """Leaving now would be a late cancellation (``CANCEL_CUTOFF_HOURS`` before the start)."""
    return starts_at - now < dt.timedelta(hours=get_settings().cancel_cutoff_hours)


def _too_late_to_decline(status: str, source: str, starts_at: dt.datetime, now: dt.datetime) -> bool:
    """A confirmed assignment the association made, past the cut-off: no longer declined by the
    volunteer (the coordinator must find someone else), so it is refused rather than left late."""
    return status == CONFIRMED and source in PLANNED_SOURCES and _after_cutoff(starts_at, now)


async def cancel_sign_up(user: User, shift_id: int) -> CancelResult:
    """Leave a shift (or its waitlist). Later than the cut-off it is recorded as late; a freed seat
    goes to the first person on the waitlist who may still take it."""
    volunteer = await volunteer_for_user(user)
    async with write_transaction():
        await for_update(Volunteer.select(Volunteer.id).where(Volunteer.id == volunteer.id)).first()
        row = await for_update(Shift.select().where(Shift.id == shift_id)).first()
        if row is None:
            raise NotFound(_("No such shift."))
        assignment = await Assignment.objects().where(
            (Assignment.shift == shift_id) & (Assignment.volunteer == volunteer.id) & Assignment.status.is_in(list(LIVE))
        ).first()
        if assignment is None:
            raise NotFound(_("You are not signed up for this shift."))
        now = local_now()
        if row["starts_at"] <= now:
            raise ValidationFailed(_("This shift has started or is over; it can no longer be cancelled."))
        if _too_late_to_decline(assignment.status, assignment.source, row["starts_at"], now):
            raise Conflict(_("The association planned you on this shift, and it starts in less than %(h)s hours, so it can no longer be declined here. Please tell your coordinator if you cannot come.",
                             h=cutoff_hours_text()))
        late = assignment.status == CONFIRMED and _after_cutoff(row["starts_at"], now)
        was_confirmed = assignment.status == CONFIRMED
        assignment.status = CANCELLED
        assignment.cancelled_by = ENDED_BY_VOLUNTEER
        assignment.late_cancellation = late
        assignment.cancelled_at = dt.datetime.now(dt.timezone.utc)
        await assignment.save()
        if late:
            await _late_cancellation_penalty(volunteer.id, assignment.id, row["day"])
        promoted = await _promote_from_waitlist(row) if was_confirmed else None
    return CancelResult(late=late, promoted_volunteer_id=promoted)


async def _late_cancellation_penalty(volunteer_id: int, assignment_id: int, day: dt.date) -> None:
    """The scheme's penalty for leaving after the cut-off, at most what the volunteer has."""
    from volunteer_hub.incentives.services import rules_on
    from volunteer_hub.points import services as points

    penalty = min((await rules_on(day))["late_cancellation_penalty"], await points.balance(volunteer_id))
    if penalty > 0:
        await points.add_entry(volunteer_id, -penalty, rule="late_cancellation", source="shift", source_id=assignment_id,
                               key=f"late_cancellation:{assignment_id}", note="late cancellation")


async def _promote_from_waitlist(shift_row: dict) -> int | None:
    shift = Shift(**shift_row)
    confirmed = await Assignment.count().where((Assignment.shift == shift.id) & (Assignment.status == CONFIRMED))
    if confirmed >= shift.seats_max:
        return None
    waiting = await Assignment.objects().where(
        (Assignment.shift == shift.id) & (Assignment.status == WAITLISTED)).order_by(Assignment.id)
    for candidate in waiting:
        volunteer = await Volunteer.objects().where(Volunteer.id == candidate.volunteer).first()
        if confirmed + await _seats_reserved_for_other_units(shift.id, volunteer.unit) >= shift.seats_max:
            continue  # the free seat is reserved for another unit
        if (await _rule_problem(volunteer, shift, ignore_assignment_of_shift=True) is None
                and not await _last_seat_kept_for_a_lead(shift, volunteer.id, confirmed)):
            candidate.status = CONFIRMED
            await candidate.save([Assignment.status])
            await notify([volunteer.user], "promoted_from_waitlist", {"title": shift.title, "when": shift_when(shift)})
            return volunteer.id
    return None


# ---------------------------------------------------------------------------------- reading


@dataclass
class ShiftCard:
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
    status: str
    grid_id: int
    school_id: int | None
    site_id: int | None
    distance_km: float | None = None
    my_status: str | None = None

    @property
    def seats_left(self) -> int:
        return max(0, self.seats_max - self.confirmed)

    @property
    def shortfall(self) -> int:
        return max(0, self.seats_min - self.confirmed)


async def _counts(shift_ids: list[int]) -> dict[tuple[int, str], int]:
    if not shift_ids:
        return {}
    rows = await Assignment.select(Assignment.shift, Assignment.status, Count(Assignment.id, alias="n")).where(
        Assignment.shift.is_in(shift_ids) & Assignment.status.is_in(list(LIVE))
    ).group_by(Assignment.shift, Assignment.status)
    return {(row["shift"], row["status"]): row["n"] for row in rows}


def _cards(rows: list[dict], counts: dict[tuple[int, str], int]) -> list[ShiftCard]:
    return [
        ShiftCard(id=row["id"], title=row["title"], kind=row["kind"], slot=row["slot"], day=row["day"],
                  starts_at=row["starts_at"], ends_at=row["ends_at"], seats_min=row["seats_min"],
                  seats_ideal=row["seats_ideal"], seats_max=row["seats_max"],
                  confirmed=counts.get((row["id"], CONFIRMED), 0), waitlisted=counts.get((row["id"], WAITLISTED), 0),
                  status=row["status"], grid_id=row["grid"], school_id=row["school"], site_id=row["site"])
        for row in rows
    ]


@dataclass
class BrowseFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str | None = None
    grid_id: int | None = None
    max_km: float | None = None


MAX_BROWSE_DAYS = 62
BROWSE_LIMIT = 300


async def browse(user: User, criteria: BrowseFilter) -> list[ShiftCard]:
    """Open future shifts for a volunteer, soonest first, with seats left and distance from home."""
    volunteer = await volunteer_for_user(user)
    date_from = criteria.date_from or local_today()
    date_to = criteria.date_to or date_from + dt.timedelta(days=14)
    if date_to < date_from:
        raise ValidationFailed(_("The last date must not be before the first."))
    if (date_to - date_from).days > MAX_BROWSE_DAYS:
        raise ValidationFailed(_("Please choose at most %(n)s days.", n=MAX_BROWSE_DAYS))
    if criteria.max_km is not None and criteria.max_km <= 0:
        raise ValidationFailed(_("The distance must be more than 0."))
    query = Shift.select().where((Shift.status == SHIFT_OPEN) & (Shift.day >= date_from) & (Shift.day <= date_to)
                                 & (Shift.starts_at > local_now()))
    if criteria.kind:
        query = query.where(Shift.kind == criteria.kind)
    if criteria.grid_id:
        query = query.where(Shift.grid == criteria.grid_id)
    rows = await query.order_by(Shift.starts_at).order_by(Shift.id).limit(BROWSE_LIMIT)
    cards = _cards(rows, await _counts([row["id"] for row in rows]))
    home = await Volunteer.select(Volunteer.home_grid.latitude.as_alias("lat"),
                                  Volunteer.home_grid.longitude.as_alias("lon")).where(Volunteer.id == volunteer.id).first()
    mine = {row["shift"]: row["status"] for row in await Assignment.select(Assignment.shift, Assignment.status).where(
        (Assignment.volunteer == volunteer.id) & Assignment.status.is_in(list(LIVE)))}
    by_id = {row["id"]: row for row in rows}
    result = []
    for card in cards:
        row = by_id[card.id]
        card.distance_km = round(distance_km(home["lat"], home["lon"], row["latitude"], row["longitude"]), 1)
        card.my_status = mine.get(card.id)
        if criteria.max_km is None or card.distance_km <= criteria.max_km:
            result.append(card)
    return result


@dataclass
class MyShift:
    shift: ShiftCard
    status: str
    source: str
    late_cancellation: bool
    waitlist_position: int | None = None
    planned: bool = False  # made by the association (solver or by hand), not a sign-up
    # A planned shift can be declined only before the cut-off (see cancel_sign_up).
    can_decline: bool = False
    too_late_to_decline: bool = False


async def my_shifts(user: User, include_past_days: int = 30) -> list[MyShift]:
    volunteer = await volunteer_for_user(user)
    since = local_today() - dt.timedelta(days=include_past_days)
    rows = await Assignment.select(
        Assignment.id, Assignment.status, Assignment.source, Assignment.late_cancellation, Assignment.shift
    ).where((Assignment.volunteer == volunteer.id) & (Assignment.shift.day >= since)).order_by(Assignment.id)
    shift_ids = [row["shift"] for row in rows]
    shift_rows = {row["id"]: row for row in await Shift.select().where(Shift.id.is_in(shift_ids or [-1]))}
    cards = {card.id: card for card in _cards(list(shift_rows.values()), await _counts(shift_ids))}
    result = []
    now = local_now()
    for row in rows:
        position = await waitlist_position(row["id"]) if row["status"] == WAITLISTED else None
        planned = row["source"] in PLANNED_SOURCES
        too_late = _too_late_to_decline(row["status"], row["source"], shift_rows[row["shift"]]["starts_at"], now)
        result.append(MyShift(shift=cards[row["shift"]], status=row["status"], source=row["source"],
                              late_cancellation=row["late_cancellation"], waitlist_position=position,
                              planned=planned, can_decline=planned and row["status"] == CONFIRMED and not too_late,
                              too_late_to_decline=too_late))
    result.sort(key=lambda item: item.shift.starts_at)
    return result


@dataclass
class RosterEntry:
    shift: ShiftCard
    people: list[dict] = field(default_factory=list)  # name, phone (staff and the school's coordinator only)


async def roster(user: User, week_monday: dt.date, school_id: int | None = None, site_id: int | None = None) -> list[RosterEntry]:
    """A printable week of one school's or one site's shifts with the people on them."""
    if (school_id is None) == (site_id is None):
        raise ValidationFailed(_("Choose a school or a site."))
    if school_id is not None:
        from volunteer_hub.schools.services import school_for_editing

        await school_for_editing(user, school_id)
        owner = Shift.school == school_id
    else:
        if user.role not in STAFF:
            raise Forbidden(_("You do not have permission to open this page."))
        if not await Site.exists().where(Site.id == site_id):
            raise NotFound(_("No such site."))
        owner = Shift.site == site_id
    rows = await Shift.select().where(owner & (Shift.day >= week_monday) & (Shift.day < week_monday + dt.timedelta(days=7))
                                      ).order_by(Shift.starts_at)
    cards = _cards(rows, await _counts([row["id"] for row in rows]))
    people = await Assignment.select(
        Assignment.shift, Assignment.volunteer.name.as_alias("name"), Assignment.volunteer.phone.as_alias("phone")
    ).where(Assignment.shift.is_in([card.id for card in cards] or [-1]) & (Assignment.status == CONFIRMED)).order_by(
        Assignment.id)
    entries = {card.id: RosterEntry(shift=card) for card in cards}
    for person in people:
        entries[person["shift"]].people.append({"name": person["name"], "phone": person["phone"]})
    return list(entries.values())


@dataclass
class OverviewRow:
    place: str
    cells: list[list[ShiftCard]]  # one list per day, Monday first


async def week_overview(user: User, week_monday: dt.date) -> list[OverviewRow]:
    """Managers: every shift of the week by place and day, with seats filled and shortfall."""
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    rows = await Shift.select().where((Shift.day >= week_monday) & (Shift.day < week_monday + dt.timedelta(days=7))
                                      & (Shift.status == SHIFT_OPEN)).order_by(Shift.title).order_by(Shift.starts_at)
    cards = _cards(rows, await _counts([row["id"] for row in rows]))
    by_place: dict[str, OverviewRow] = {}
    for card in cards:
        row = by_place.setdefault(card.title, OverviewRow(place=card.title, cells=[[] for _ in range(7)]))
        row.cells[card.day.weekday()].append(card)
    return list(by_place.values())


async def request_shifts(user: User, request_id: int) -> list[ShiftCard]:
    """The dated shifts of one escort request with how they are filled (for its school's keepers)."""
    from volunteer_hub.schools.services import get_request, school_for_editing

    request = await get_request(request_id)
    await school_for_editing(user, request.school)
    rows = await Shift.select().where(Shift.escort_request == request_id).order_by(Shift.starts_at)
    return _cards(rows, await _counts([row["id"] for row in rows]))


@dataclass
class ShiftView:
    """One shift as its page shows it: the card, what it needs, and (for its keepers) who is on it."""

    card: ShiftCard
    adults_only: bool
    required_skills: list[str]
    needs_lead: bool
    priority: int
    may_manage: bool
    team_slots: int
    my_waitlist_position: int | None = None
    # The association planned the viewer on it and the cut-off has passed: it cannot be declined here.
    too_late_to_decline: bool = False
    people: list[dict] = field(default_factory=list)


async def shift_view(user: User, shift_id: int) -> ShiftView:
    row = await Shift.select().where(Shift.id == shift_id).first()
    if row is None:
        raise NotFound(_("No such shift."))
    card = _cards([row], await _counts([shift_id]))[0]
    shift = Shift(**row)
    try:
        await check_may_manage(user, shift)
        may_manage = True
    except Forbidden:
        may_manage = False
    view = ShiftView(card=card, adults_only=row["adults_only"], needs_lead=row["needs_lead"], priority=row["priority"],
                     team_slots=row["team_slots"],
                     required_skills=[skill for skill in row["required_skills"].split(",") if skill], may_manage=may_manage)
    if user.role == "volunteer":
        volunteer = await volunteer_for_user(user)
        mine = await Assignment.objects().where((Assignment.shift == shift_id) & (Assignment.volunteer == volunteer.id)
                                                & Assignment.status.is_in(list(LIVE))).first()
        if mine is not None:
            card.my_status = mine.status
            view.my_waitlist_position = await waitlist_position(mine.id)
            view.too_late_to_decline = _too_late_to_decline(mine.status, mine.source, row["starts_at"], local_now())
        home = await Volunteer.select(Volunteer.home_grid.latitude.as_alias("lat"),
                                      Volunteer.home_grid.longitude.as_alias("lon")).where(Volunteer.id == volunteer.id).first()
        card.distance_km = round(distance_km(home["lat"], home["lon"], row["latitude"], row["longitude"]), 1)
    if may_manage:
        people = await Assignment.select(
            Assignment.status, Assignment.volunteer.name.as_alias("name"), Assignment.volunteer.phone.as_alias("phone")
        ).where((Assignment.shift == shift_id) & Assignment.status.is_in(list(LIVE))).order_by(Assignment.id)
        view.people = [dict(person) for person in people]
    return view


def parse_week(text: str | None) -> dt.date:
    """The Monday of the week containing the given ISO date (default: this week)."""
    if not text:
        return week_start(local_today())
    try:
        return week_start(dt.date.fromisoformat(text))
    except ValueError as error:
        raise ValidationFailed(_("Dates are written as YYYY-MM-DD."), {"week": _("Dates are written as YYYY-MM-DD.")}) from error
