"""Volunteers: registration, profile, weekly availability and preferences."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from volunteer_hub.accounts.passwords import password_problem
from volunteer_hub.accounts.services import create_user, find_by_login
from volunteer_hub.accounts.tables import ROLE_VOLUNTEER, User
from volunteer_hub.db import engine
from volunteer_hub.errors import Conflict, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.i18n import lazy
from volunteer_hub.reference.services import grid_exists
from volunteer_hub.schools.tables import School
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.tables import (
    AvailabilityWindow,
    PreferredKind,
    PreferredSchool,
    PreferredSite,
    UnavailableDate,
    Unit,
    Volunteer,
    VolunteerSkill,
)

# Mainland China mobile numbers: 11 digits, 1 then 3-9.
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SKILLS = ("trained_escort", "first_aid", "publicity", "lead")
ACTIVITY_KINDS = ("escort", "cleanup", "rectification", "civility_publicity", "regulation_publicity", "festival")
MIN_AGE = 14  # younger people take part with their parents ("小手牵大手"), not as registered volunteers
ADULT_AGE = 18
MAX_SHIFTS_PER_WEEK = 14
MAX_HOURS_PER_WEEK = 40
MAX_TRAVEL_KM = 50
MINUTES_A_DAY = 24 * 60


def skill_label(skill: str) -> str:
    return {
        "trained_escort": _("Trained escort"),
        "first_aid": _("First aid"),
        "publicity": _("Publicity"),
        "lead": _("Team lead"),
    }.get(skill, skill)


def kind_label(kind: str) -> str:
    return {
        "escort": _("School escort"),
        "cleanup": _("Voluntary cleaning"),
        "rectification": _("Environmental rectification"),
        "civility_publicity": _("Civility publicity"),
        "regulation_publicity": _("Regulation publicity"),
        "festival": _("Festival activity"),
    }.get(kind, kind)


WEEKDAY_LABELS = (lazy("Monday"), lazy("Tuesday"), lazy("Wednesday"), lazy("Thursday"), lazy("Friday"),
                  lazy("Saturday"), lazy("Sunday"))


def weekday_label(weekday: int) -> str:
    return _(WEEKDAY_LABELS[weekday])


@dataclass
class ProfileInput:
    name: str
    email: str | None
    birth_year: int | None
    home_grid_id: int | None
    unit_id: int | None
    skills: list[str] = field(default_factory=list)
    max_shifts_per_week: int | None = 3
    max_hours_per_week: float | None = 4


@dataclass
class RegistrationInput(ProfileInput):
    phone: str = ""
    password: str = ""
    privacy_consent: bool = False
    locale: str = "zh_CN"


async def _profile_errors(data: ProfileInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name or len(name) > 50:
        errors["name"] = _("Please give your name (at most 50 characters).")
    if data.email and (len(data.email) > 200 or not EMAIL_PATTERN.match(data.email.strip())):
        errors["email"] = _("This is not a valid e-mail address.")
    this_year = dt.date.today().year
    if data.birth_year is None or not this_year - 100 <= data.birth_year <= this_year - MIN_AGE:
        errors["birth_year"] = _("Please give your birth year; volunteers are at least %(age)s years old.", age=MIN_AGE)
    if not await grid_exists(data.home_grid_id):
        errors["home_grid"] = _("Please choose your home grid from the list.")
    if data.unit_id is not None and not await Unit.exists().where(Unit.id == data.unit_id):
        errors["unit"] = _("Please choose a team or unit from the list.")
    unknown = [skill for skill in data.skills if skill not in SKILLS]
    if unknown:
        errors["skills"] = _("Unknown skill: %(skill)s", skill=", ".join(unknown))
    if data.max_shifts_per_week is None or not 0 <= data.max_shifts_per_week <= MAX_SHIFTS_PER_WEEK:
        errors["max_shifts_per_week"] = _("Shifts per week must be a whole number from 0 to %(n)s.", n=MAX_SHIFTS_PER_WEEK)
    if data.max_hours_per_week is None or not 0 <= data.max_hours_per_week <= MAX_HOURS_PER_WEEK:
        errors["max_hours_per_week"] = _("Hours per week must be from 0 to %(n)s.", n=MAX_HOURS_PER_WEEK)
    return errors


async def _replace_skills(volunteer_id: int, skills: list[str]) -> None:
    await VolunteerSkill.delete().where(VolunteerSkill.volunteer == volunteer_id)
    unique_skills = sorted(set(skills))
    if unique_skills:
        await VolunteerSkill.insert(*[VolunteerSkill(volunteer=volunteer_id, skill=skill) for skill in unique_skills])


async def register_volunteer(data: RegistrationInput) -> User:
    """Create the account and the volunteer profile together; returns the new account."""
    phone = data.phone.strip()
    errors = await _profile_errors(data)
    if not MOBILE_PATTERN.match(phone):
        errors["phone"] = _("Please give a mainland mobile number: 11 digits starting with 1.")
    if problem := password_problem(data.password, phone):
        errors["password"] = problem
    if not data.privacy_consent:
        errors["privacy_consent"] = _("Please read and accept the privacy notice.")
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    if await find_by_login(phone) or await Volunteer.exists().where(Volunteer.phone == phone):
        message = _("This phone number is already registered. Please log in.")
        raise Conflict(message, {"phone": message})
    async with engine().transaction():
        user = await create_user(
            login=phone, password=data.password, role=ROLE_VOLUNTEER, display_name=data.name.strip(), locale=data.locale
        )
        volunteer = Volunteer(
            user=user.id,
            name=data.name.strip(),
            phone=phone,
            email=(data.email or "").strip() or None,
            birth_year=data.birth_year,
            home_grid=data.home_grid_id,
            unit=data.unit_id,
            max_shifts_per_week=data.max_shifts_per_week,
            max_minutes_per_week=round((data.max_hours_per_week or 0) * 60),
        )
        await volunteer.save()
        await _replace_skills(volunteer.id, data.skills)
    return user


async def volunteer_for_user(user: User) -> Volunteer:
    volunteer = await Volunteer.objects().where(Volunteer.user == user.id).first()
    if volunteer is None:
        raise NotFound(_("This account has no volunteer profile."))
    return volunteer


@dataclass
class Profile:
    """What the volunteer's own profile page and API show."""

    id: int
    name: str
    phone: str
    email: str | None
    birth_year: int
    home_grid_id: int
    home_grid_name: str
    unit_id: int | None
    unit_name: str | None
    skills: list[str]
    max_shifts_per_week: int
    max_hours_per_week: float
    is_adult: bool


async def get_profile(user: User) -> Profile:
    volunteer = await volunteer_for_user(user)
    row = (
        await Volunteer.select(Volunteer.home_grid.name.as_alias("grid_name"), Volunteer.unit.name.as_alias("unit_name"))
        .where(Volunteer.id == volunteer.id)
        .first()
    )
    skills = await VolunteerSkill.select(VolunteerSkill.skill).where(VolunteerSkill.volunteer == volunteer.id)
    return Profile(
        id=volunteer.id,
        name=volunteer.name,
        phone=volunteer.phone,
        email=volunteer.email,
        birth_year=volunteer.birth_year,
        home_grid_id=volunteer.home_grid,
        home_grid_name=row["grid_name"],
        unit_id=volunteer.unit,
        unit_name=row["unit_name"],
        skills=sorted(item["skill"] for item in skills),
        max_shifts_per_week=volunteer.max_shifts_per_week,
        max_hours_per_week=volunteer.max_minutes_per_week / 60,
        is_adult=dt.date.today().year - volunteer.birth_year >= ADULT_AGE,
    )


async def update_profile(user: User, data: ProfileInput) -> Profile:
    volunteer = await volunteer_for_user(user)
    if errors := await _profile_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    async with engine().transaction():
        await Volunteer.update(
            {
                Volunteer.name: data.name.strip(),
                Volunteer.email: (data.email or "").strip() or None,
                Volunteer.birth_year: data.birth_year,
                Volunteer.home_grid: data.home_grid_id,
                Volunteer.unit: data.unit_id,
                Volunteer.max_shifts_per_week: data.max_shifts_per_week,
                Volunteer.max_minutes_per_week: round((data.max_hours_per_week or 0) * 60),
            }
        ).where(Volunteer.id == volunteer.id)
        await User.update({User.display_name: data.name.strip()}).where(User.id == user.id)
        await _replace_skills(volunteer.id, data.skills)
    return await get_profile(user)


# ---------------------------------------------------------------- availability and preferences


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int


@dataclass
class Availability:
    windows: list[Window] = field(default_factory=list)
    unavailable_dates: list[dt.date] = field(default_factory=list)
    preferred_kinds: list[str] = field(default_factory=list)
    preferred_school_ids: list[int] = field(default_factory=list)
    preferred_site_ids: list[int] = field(default_factory=list)
    max_travel_km: float = 3.0


def merge_windows(windows: list[Window]) -> list[Window]:
    """Overlapping or touching windows on the same weekday become one."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda w: (w.weekday, w.start_minute, w.end_minute)):
        last = merged[-1] if merged else None
        if last and last.weekday == window.weekday and window.start_minute <= last.end_minute:
            merged[-1] = Window(last.weekday, last.start_minute, max(last.end_minute, window.end_minute))
        else:
            merged.append(window)
    return merged


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_time(text: str) -> int | None:
    """'07:30' -> 450 minutes since midnight; '24:00' is the end of the day. None if malformed."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


async def _availability_errors(data: Availability) -> dict[str, str]:
    errors: dict[str, str] = {}
    for window in data.windows:
        if not 0 <= window.weekday <= 6:
            errors["windows"] = _("Unknown weekday.")
        elif not (0 <= window.start_minute <= 24 * 60 and 0 <= window.end_minute <= 24 * 60):
            errors["windows"] = _("Times must lie within the day (00:00 to 24:00).")
        elif window.end_minute <= window.start_minute:
            errors["windows"] = _("A window must end after it starts (%(day)s %(start)s-%(end)s).",
                                  day=weekday_label(window.weekday),
                                  start=format_minute(window.start_minute),
                                  end=format_minute(window.end_minute))
    if len(data.unavailable_dates) > 366:
        errors["unavailable_dates"] = _("At most 366 unavailable dates.")
    unknown_kinds = [kind for kind in data.preferred_kinds if kind not in ACTIVITY_KINDS]
    if unknown_kinds:
        errors["preferred_kinds"] = _("Unknown activity kind: %(kind)s", kind=", ".join(unknown_kinds))
    school_ids = set(data.preferred_school_ids)
    if school_ids and len(await School.select(School.id).where(School.id.is_in(list(school_ids)))) != len(school_ids):
        errors["preferred_schools"] = _("Please choose schools from the list.")
    site_ids = set(data.preferred_site_ids)
    if site_ids and len(await Site.select(Site.id).where(Site.id.is_in(list(site_ids)))) != len(site_ids):
        errors["preferred_sites"] = _("Please choose sites from the list.")
    if data.max_travel_km is None or not 0 < data.max_travel_km <= MAX_TRAVEL_KM:
        errors["max_travel_km"] = _("Travel distance must be more than 0 and at most %(n)s km.", n=MAX_TRAVEL_KM)
    return errors


async def get_availability(user: User) -> Availability:
    volunteer = await volunteer_for_user(user)
    windows = await AvailabilityWindow.select().where(AvailabilityWindow.volunteer == volunteer.id)
    dates = await UnavailableDate.select(UnavailableDate.day).where(UnavailableDate.volunteer == volunteer.id)
    kinds = await PreferredKind.select(PreferredKind.kind).where(PreferredKind.volunteer == volunteer.id)
    schools = await PreferredSchool.select(PreferredSchool.school).where(PreferredSchool.volunteer == volunteer.id)
    sites = await PreferredSite.select(PreferredSite.site).where(PreferredSite.volunteer == volunteer.id)
    return Availability(
        windows=sorted(
            (Window(row["weekday"], row["start_minute"], row["end_minute"]) for row in windows),
            key=lambda w: (w.weekday, w.start_minute),
        ),
        unavailable_dates=sorted(row["day"] for row in dates),
        preferred_kinds=sorted(row["kind"] for row in kinds),
        preferred_school_ids=sorted(row["school"] for row in schools),
        preferred_site_ids=sorted(row["site"] for row in sites),
        max_travel_km=volunteer.max_travel_km,
    )


async def replace_availability(user: User, data: Availability) -> Availability:
    """Replace the volunteer's availability and preferences as a whole (merging overlaps)."""
    volunteer = await volunteer_for_user(user)
    if errors := await _availability_errors(data):
        raise ValidationFailed(_("Please check the form."), errors)
    windows = merge_windows(data.windows)
    async with engine().transaction():
        volunteer_id = volunteer.id
        for table in (AvailabilityWindow, UnavailableDate, PreferredKind, PreferredSchool, PreferredSite):
            await table.delete().where(table.volunteer == volunteer_id)
        if windows:
            await AvailabilityWindow.insert(
                *[AvailabilityWindow(volunteer=volunteer_id, weekday=w.weekday, start_minute=w.start_minute,
                                     end_minute=w.end_minute) for w in windows]
            )
        if data.unavailable_dates:
            await UnavailableDate.insert(
                *[UnavailableDate(volunteer=volunteer_id, day=day) for day in sorted(set(data.unavailable_dates))]
            )
        if data.preferred_kinds:
            await PreferredKind.insert(
                *[PreferredKind(volunteer=volunteer_id, kind=kind) for kind in sorted(set(data.preferred_kinds))]
            )
        if data.preferred_school_ids:
            await PreferredSchool.insert(
                *[PreferredSchool(volunteer=volunteer_id, school=s) for s in sorted(set(data.preferred_school_ids))]
            )
        if data.preferred_site_ids:
            await PreferredSite.insert(
                *[PreferredSite(volunteer=volunteer_id, site=s) for s in sorted(set(data.preferred_site_ids))]
            )
        await Volunteer.update({Volunteer.max_travel_km: data.max_travel_km}).where(Volunteer.id == volunteer_id)
    return await get_availability(user)



async def is_available(volunteer_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """The time lies inside the volunteer's weekly availability windows and on no date they marked
    unavailable (the sign-up question and the planner's hand-made rows ask the same thing).

    Windows are per weekday and end at midnight at the latest, so a shift that runs past midnight
    must lie in a window on its own day (up to midnight) and in one on the next day (from midnight)."""
    start = starts_at.hour * 60 + starts_at.minute
    end = start + int((ends_at - starts_at).total_seconds() // 60)
    day = starts_at.date()
    parts = [(day, start, min(end, MINUTES_A_DAY))]
    while end > MINUTES_A_DAY:
        day, end = day + dt.timedelta(days=1), end - MINUTES_A_DAY
        parts.append((day, 0, min(end, MINUTES_A_DAY)))
    for part_day, part_start, part_end in parts:
        if await UnavailableDate.exists().where((UnavailableDate.volunteer == volunteer_id) & (UnavailableDate.day == part_day)):
            return False
        if not await AvailabilityWindow.exists().where(
            (AvailabilityWindow.volunteer == volunteer_id) & (AvailabilityWindow.weekday == part_day.weekday())
            & (AvailabilityWindow.start_minute <= part_start) & (AvailabilityWindow.end_minute >= part_end)
        ):
            return False
    return True
