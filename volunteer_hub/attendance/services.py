"""Attendance: volunteers check in and out by scanning the shift's QR code; coordinators and managers
mark or correct it on the roster. Verified minutes come only from here, capped at the shift's length,
and each change moves the volunteer's points through the ledger exactly once.

Lock order (as in sign-up): volunteers first, by id, then the shift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from piccolo.query.functions.aggregate import Sum

from volunteer_hub.accounts.tables import User
from volunteer_hub.attendance.tables import (
    ATTENDANCE_STATES,
    LATE,
    LEFT_EARLY,
    NO_SHOW,
    PRESENT,
    Attendance,
    AttendanceCorrection,
)
from volunteer_hub.clock import local_now
from volunteer_hub.db import for_update, write_transaction
from volunteer_hub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.incentives import services as incentives
from volunteer_hub.points import services as points
from volunteer_hub.points.tables import PointsEntry
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.services import check_may_manage, get_shift, lock_volunteer_and_shift
from volunteer_hub.shifts.tables import CONFIRMED, SHIFT_CANCELLED, Assignment, Shift
from volunteer_hub.volunteers.services import volunteer_for_user
from volunteer_hub.volunteers.tables import Volunteer

CHECK_IN_OPENS = dt.timedelta(minutes=30)  # before the start
CHECK_OUT_CLOSES = dt.timedelta(minutes=60)  # after the end
GRACE = dt.timedelta(minutes=10)  # later than this is "late"; leaving earlier than this before the end is "left early"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="volunteer-hub-check-in")


def check_in_token(shift_id: int) -> str:
    """The signed token in a shift's QR code. It names the shift; the shift's own times bound when it works."""
    return _serializer().dumps({"shift": shift_id})


def _shift_id_from(token: str) -> int:
    try:
        data = _serializer().loads(token)
    except BadSignature as error:
        raise ValidationFailed(_("This check-in code is not valid. Please scan the code at the shift again.")) from error
    if not isinstance(data, dict) or not isinstance(data.get("shift"), int):
        raise ValidationFailed(_("This check-in code is not valid. Please scan the code at the shift again."))
    return data["shift"]


def _length_minutes(shift: Shift) -> int:
    return int((shift.ends_at - shift.starts_at).total_seconds() // 60)


def _verified_minutes(shift: Shift, checked_in: dt.datetime, checked_out: dt.datetime) -> int:
    begin, end = max(checked_in, shift.starts_at), min(checked_out, shift.ends_at)
    return max(0, min(_length_minutes(shift), int((end - begin).total_seconds() // 60)))


async def _points_elsewhere_that_day(attendance: Attendance, day: dt.date) -> int:
    """Points the volunteer's other attendance on the same day earned (for the daily cap)."""
    others = Attendance.select(Attendance.id).where((Attendance.volunteer == attendance.volunteer)
                                                    & (Attendance.shift.day == day) & (Attendance.id != attendance.id))
    row = await PointsEntry.select(Sum(PointsEntry.amount, alias="total")).where(
        (PointsEntry.source == "attendance") & PointsEntry.source_id.is_in(others)).first()
    return int(row["total"] or 0)


async def _settle_points(attendance: Attendance, shift: Shift, actor_id: int | None) -> None:
    """Bring the ledger's total for this attendance to what it is now worth under the rules in force
    on the shift's day: one entry for the difference, keyed by the attendance's revision, so a retry or
    a second marker adds nothing. Then the first-shift bonus and badges, each recorded once."""
    rules = await incentives.rules_on(shift.day)
    worth = incentives.shift_worth(rules, shift, attendance.status, attendance.verified_minutes)
    already = await points.total_for_source("attendance", attendance.id)
    if worth > 0:
        worth = max(0, min(worth, rules["daily_cap"] - max(0, await _points_elsewhere_that_day(attendance, shift.day))))
    elif worth < 0:  # a penalty takes at most what the volunteer has: a balance never goes below zero
        worth = max(worth, -(await points.balance(attendance.volunteer) - already))
    owed = worth - already
    if owed:
        await points.add_entry(attendance.volunteer, owed, rule="no_show" if attendance.status == NO_SHOW else "verified_hours",
                               source="attendance", source_id=attendance.id,
                               key=f"attendance:{attendance.id}:r{attendance.revision}", created_by=actor_id,
                               note=f"{attendance.verified_minutes} min")
    if attendance.verified_minutes > 0 and rules["first_shift_bonus"]:
        await points.add_entry(attendance.volunteer, rules["first_shift_bonus"], rule="first_shift", source="shift",
                               source_id=shift.id, key=f"first_shift:{attendance.volunteer}",
                               created_by=actor_id, note="first shift")
    await incentives.grant_earned_badges(attendance.volunteer, rules)
    await incentives.grant_streak_bonuses(attendance.volunteer, rules, actor_id)


# ---------------------------------------------------------------------------------- by QR code


@dataclass
class CheckInView:
    shift: Shift
    token: str
    on_shift: bool
    attendance: Attendance | None
    can_check_in: bool
    can_check_out: bool


async def check_in_view(user: User, token: str) -> CheckInView:
    shift = await get_shift(_shift_id_from(token))
    volunteer = await volunteer_for_user(user)
    on_shift = await Assignment.exists().where((Assignment.shift == shift.id) & (Assignment.volunteer == volunteer.id)
                                               & (Assignment.status == CONFIRMED))
    attendance = await Attendance.objects().where((Attendance.shift == shift.id)
                                                  & (Attendance.volunteer == volunteer.id)).first()
    now = local_now()
    window_open = shift.status != SHIFT_CANCELLED and shift.starts_at - CHECK_IN_OPENS <= now <= shift.ends_at
    return CheckInView(
        shift=shift, token=token, on_shift=on_shift, attendance=attendance,
        can_check_in=on_shift and window_open and attendance is None,
        can_check_out=(attendance is not None and attendance.checked_in_at is not None
                       and attendance.checked_out_at is None and now <= shift.ends_at + CHECK_OUT_CLOSES))


async def check_in(user: User, token: str) -> Attendance:
    shift_id = _shift_id_from(token)
    volunteer = await volunteer_for_user(user)
    async with write_transaction():
        shift = await lock_volunteer_and_shift(volunteer.id, shift_id)
        if shift.status == SHIFT_CANCELLED:
            raise Conflict(_("This shift is cancelled."))
        if not await Assignment.exists().where((Assignment.shift == shift.id) & (Assignment.volunteer == volunteer.id)
                                               & (Assignment.status == CONFIRMED)):
            raise Forbidden(_("You are not on this shift, so you cannot check in to it."))
        now = local_now()
        if now < shift.starts_at - CHECK_IN_OPENS:
            raise ValidationFailed(_("Check-in opens %(minutes)s minutes before the shift starts.",
                                     minutes=int(CHECK_IN_OPENS.total_seconds() // 60)))
        if now > shift.ends_at:
            raise ValidationFailed(_("This shift is over; ask the coordinator to record your attendance."))
        if await Attendance.exists().where((Attendance.shift == shift.id) & (Attendance.volunteer == volunteer.id)):
            raise Conflict(_("Your attendance on this shift is already recorded."))
        attendance = Attendance(shift=shift.id, volunteer=volunteer.id, checked_in_at=now, source="qr",
                                status=LATE if now > shift.starts_at + GRACE else PRESENT, verified_minutes=0)
        await attendance.save()
    return attendance


async def check_out(user: User, token: str) -> Attendance:
    shift_id = _shift_id_from(token)
    volunteer = await volunteer_for_user(user)
    async with write_transaction():
        shift = await lock_volunteer_and_shift(volunteer.id, shift_id)
        attendance = await Attendance.objects().where((Attendance.shift == shift.id)
                                                      & (Attendance.volunteer == volunteer.id)).first()
        if attendance is None or attendance.checked_in_at is None:
            raise ValidationFailed(_("Please check in before you check out."))
        if attendance.checked_out_at is not None:
            raise Conflict(_("You have already checked out."))
        now = local_now()
        if now > shift.ends_at + CHECK_OUT_CLOSES:
            raise ValidationFailed(_("Check-out closed an hour after the shift; ask the coordinator to record your time."))
        attendance.checked_out_at = now
        attendance.verified_minutes = _verified_minutes(shift, attendance.checked_in_at, now)
        if now < shift.ends_at - GRACE:
            attendance.status = LEFT_EARLY
        attendance.revision += 1
        attendance.updated_at = dt.datetime.now(dt.timezone.utc)
        await attendance.save()
        await _settle_points(attendance, shift, actor_id=None)
    return attendance


# ---------------------------------------------------------------------------------- on the roster


@dataclass
class Mark:
    volunteer_id: int
    status: str
    minutes: int | None = None  # for late / left early; present counts the whole shift, no-show none


@dataclass
class RosterLine:
    volunteer_id: int
    name: str
    phone: str
    status: str | None
    minutes: int
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None


async def attendance_sheet(user: User, shift_id: int) -> tuple[Shift, list[RosterLine]]:
    """The people confirmed on a shift (and anyone with attendance on it) with what is recorded."""
    shift = await get_shift(shift_id)
    await check_may_manage(user, shift)
    people = {row["id"]: row for row in await Volunteer.select(Volunteer.id, Volunteer.name, Volunteer.phone).where(
        Volunteer.id.is_in(Assignment.select(Assignment.volunteer).where(
            (Assignment.shift == shift_id) & (Assignment.status == CONFIRMED)))
        | Volunteer.id.is_in(Attendance.select(Attendance.volunteer).where(Attendance.shift == shift_id)))}
    recorded = {row.volunteer: row for row in await Attendance.objects().where(Attendance.shift == shift_id)}
    lines = []
    for volunteer_id, person in sorted(people.items(), key=lambda item: item[1]["name"]):
        row = recorded.get(volunteer_id)
        lines.append(RosterLine(volunteer_id=volunteer_id, name=person["name"], phone=person["phone"],
                                status=row.status if row else None, minutes=row.verified_minutes if row else 0,
                                checked_in_at=row.checked_in_at if row else None,
                                checked_out_at=row.checked_out_at if row else None))
    return shift, lines


async def mark_attendance(user: User, shift_id: int, marks: list[Mark], reason: str = "") -> int:
    """Record attendance for people on a started shift. Changing what is already recorded needs a reason
    and is kept as a correction. Returns how many records changed; marking the same again changes none."""
    shift = await get_shift(shift_id)
    await check_may_manage(user, shift)
    if shift.starts_at > local_now():
        raise ValidationFailed(_("Attendance can be recorded once the shift has started."))
    if shift.status == SHIFT_CANCELLED:
        raise Conflict(_("This shift is cancelled."))
    length = _length_minutes(shift)
    errors: dict[str, str] = {}
    for mark in marks:
        field = f"status_{mark.volunteer_id}"
        if mark.status not in ATTENDANCE_STATES:
            errors[field] = _("Please choose present, late, left early or no-show.")
        elif mark.status in (LATE, LEFT_EARLY) and (mark.minutes is None or not 0 < mark.minutes <= length):
            errors[f"minutes_{mark.volunteer_id}"] = _("Give the minutes worked, from 1 to %(n)s.", n=length)
    if len({mark.volunteer_id for mark in marks}) != len(marks):
        errors["marks"] = _("Each volunteer may appear once.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    changed = 0
    async with write_transaction():
        for volunteer_id in sorted(mark.volunteer_id for mark in marks):
            await points.lock_volunteer(volunteer_id)
        await for_update(Shift.select(Shift.id).where(Shift.id == shift_id)).first()
        on_shift = {row["volunteer"] for row in await Assignment.select(Assignment.volunteer).where(
            (Assignment.shift == shift_id) & (Assignment.status == CONFIRMED))}
        existing = {row.volunteer: row for row in await Attendance.objects().where(Attendance.shift == shift_id)}
        unknown = [mark.volunteer_id for mark in marks if mark.volunteer_id not in on_shift | set(existing)]
        if unknown:
            raise ValidationFailed(_("Only people on this shift can have attendance on it."))
        for mark in marks:
            minutes = length if mark.status == PRESENT else 0 if mark.status == NO_SHOW else mark.minutes
            attendance = existing.get(mark.volunteer_id)
            if attendance is None:
                attendance = Attendance(shift=shift_id, volunteer=mark.volunteer_id, status=mark.status,
                                        verified_minutes=minutes, source="roster", marked_by=user.id, revision=1)
                await attendance.save()
            elif (attendance.status, attendance.verified_minutes) == (mark.status, minutes):
                continue
            elif attendance.revision == 0 and attendance.checked_out_at is None:
                # Checked in by QR but never out: staff complete the record; nothing to correct yet.
                attendance.status, attendance.verified_minutes = mark.status, minutes
                attendance.revision, attendance.marked_by = 1, user.id
                await attendance.save()
            else:
                if not reason.strip():
                    raise ValidationFailed(_("Please check the form."),
                                           {"reason": _("Changing recorded attendance needs a reason.")})
                await AttendanceCorrection(attendance=attendance.id, old_status=attendance.status,
                                           old_minutes=attendance.verified_minutes, new_status=mark.status,
                                           new_minutes=minutes, reason=reason.strip()[:500], corrected_by=user.id).save()
                attendance.status, attendance.verified_minutes = mark.status, minutes
                attendance.revision += 1
                attendance.marked_by = user.id
                attendance.updated_at = dt.datetime.now(dt.timezone.utc)
                await attendance.save()
            await _settle_points(attendance, shift, actor_id=user.id)
            changed += 1
    return changed


# ---------------------------------------------------------------------------------- the volunteer's record


@dataclass
class HoursLine:
    day: dt.date
    title: str
    status: str
    minutes: int


@dataclass
class HoursRecord:
    total_minutes: int
    balance: int
    lines: list[HoursLine]
    ledger: list[points.LedgerLine]
    stars: incentives.StarLevel
    badges: list[incentives.EarnedBadge]


async def hours_record(user: User) -> HoursRecord:
    volunteer = await volunteer_for_user(user)
    rows = await Attendance.select(
        Attendance.shift.day.as_alias("day"), Attendance.shift.title.as_alias("title"), Attendance.status,
        Attendance.verified_minutes,
    ).where(Attendance.volunteer == volunteer.id).order_by(Attendance.shift.starts_at, ascending=False)
    total = await Attendance.select(Sum(Attendance.verified_minutes, alias="total")).where(
        Attendance.volunteer == volunteer.id).first()
    total_minutes = int(total["total"] or 0)
    rules = await incentives.rules_on(local_now().date())
    return HoursRecord(total_minutes=total_minutes, balance=await points.balance(volunteer.id),
                       stars=incentives.star_level(total_minutes, rules["star_hours"]),
                       badges=await incentives.badges_of(volunteer.id),
                       lines=[HoursLine(day=r["day"], title=r["title"], status=r["status"], minutes=r["verified_minutes"])
                              for r in rows],
                       ledger=await points.ledger(volunteer.id))
