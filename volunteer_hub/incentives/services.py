"""The incentive scheme: versioned rules (points per hour by kind, multipliers, bonuses, penalties,
a daily cap, star thresholds), star levels, badges and leaderboards.

Rules are versions with an effective date; a version applies to shifts on or after its date, so a
change never rewrites what was already earned.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from piccolo.query.functions.aggregate import Sum

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER, User
from volunteer_hub.attendance.tables import NO_SHOW, Attendance
from volunteer_hub.clock import local_today
from volunteer_hub.db import is_unique_violation
from volunteer_hub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.incentives.tables import BadgeGrant, IncentiveRules
from volunteer_hub.points.services import period_start as points_period_start
from volunteer_hub.points.tables import GroupPeriodTotal, PointsPeriodTotal
from volunteer_hub.reference.tables import Grid
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import Shift
from volunteer_hub.volunteers.services import ACTIVITY_KINDS
from volunteer_hub.volunteers.tables import Unit, Volunteer

DEFAULT_RULES: dict = {
    "points_per_hour": {kind: 10 for kind in ACTIVITY_KINDS},
    "hard_to_fill_priority": 8,  # shifts at or above this priority (dangerous crossings) count extra
    "hard_to_fill_multiplier": 1.5,
    "early_escort_before": "07:30",  # escorts starting before this time count extra
    "early_escort_multiplier": 1.2,
    "bad_weather_days": [],  # ISO dates declared by a manager
    "bad_weather_multiplier": 1.5,
    "festival_multiplier": 1.5,
    "first_shift_bonus": 20,
    "no_show_penalty_factor": 2.0,  # a no-show costs this many times what the shift would have earned
    "late_cancellation_penalty": 5,
    "daily_cap": 60,
    "streak_length": 4,  # consecutive Fridays, or consecutive school weeks with an escort
    "streak_bonus": 30,
    "star_hours": [100, 300, 600, 1000, 1500],  # national defaults; Beijing uses 100/200/500/800/1000
}
STAFF = (ROLE_MANAGER, ROLE_ADMIN)


# ---------------------------------------------------------------------------------- rules


async def rules_on(day: dt.date) -> dict:
    row = await IncentiveRules.select(IncentiveRules.params).where(IncentiveRules.effective_from <= day).order_by(
        IncentiveRules.effective_from, ascending=False).first()
    rules = copy.deepcopy(DEFAULT_RULES)
    if row:
        params = row["params"]
        rules.update(json.loads(params) if isinstance(params, str) else params)
    return rules


async def rule_versions() -> list[dict]:
    rows = await IncentiveRules.select(IncentiveRules.effective_from, IncentiveRules.created_at,
                                       IncentiveRules.created_by.display_name.as_alias("by")).order_by(
        IncentiveRules.effective_from, ascending=False)
    return rows


def _validate(params: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    rates = params.get("points_per_hour", {})
    if set(rates) - set(ACTIVITY_KINDS) or any(not isinstance(v, (int, float)) or not 0 <= v <= 1000 for v in rates.values()):
        errors["points_per_hour"] = _("Points per hour must be from 0 to 1000 for each kind.")
    for name in ("hard_to_fill_multiplier", "early_escort_multiplier", "bad_weather_multiplier", "festival_multiplier"):
        value = params.get(name)
        if not isinstance(value, (int, float)) or not 1 <= value <= 5:
            errors[name] = _("A multiplier runs from 1 to 5.")
    for name in ("first_shift_bonus", "late_cancellation_penalty", "daily_cap", "streak_bonus", "streak_length"):
        value = params.get(name)
        if not isinstance(value, int) or not 0 <= value <= 10000:
            errors[name] = _("Please give a whole number from 0 to 10000.")
    factor = params.get("no_show_penalty_factor")
    if not isinstance(factor, (int, float)) or not 0 <= factor <= 10:
        errors["no_show_penalty_factor"] = _("A factor runs from 0 to 10.")
    stars = params.get("star_hours")
    if (not isinstance(stars, list) or len(stars) != 5 or any(not isinstance(h, int) or h <= 0 for h in stars)
            or stars != sorted(set(stars))):
        errors["star_hours"] = _("Give five rising numbers of hours, one per star.")
    for day in params.get("bad_weather_days", []):
        try:
            dt.date.fromisoformat(day)
        except (TypeError, ValueError):
            errors["bad_weather_days"] = _("Dates are written as YYYY-MM-DD.")
    return errors


async def add_rule_version(user: User, effective_from: dt.date | None, changes: dict) -> dict:
    """A new version from a date on (today or later), starting from the version in force that day."""
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))
    if effective_from is None or effective_from < local_today():
        raise ValidationFailed(_("Please check the form."),
                               {"effective_from": _("Rules change from today or a later date, never backwards.")})
    params = await rules_on(effective_from)
    for name, value in changes.items():  # a partial table (e.g. one kind's rate) changes only what it names
        if isinstance(value, dict) and isinstance(params.get(name), dict):
            params[name] = {**params[name], **value}
        else:
            params[name] = value
    unknown = set(changes) - set(DEFAULT_RULES)
    if unknown:
        raise ValidationFailed(_("Please check the form."), {name: _("Unknown setting.") for name in unknown})
    if errors := _validate(params):
        raise ValidationFailed(_("Please check the form."), errors)
    try:
        await IncentiveRules(effective_from=effective_from, params=params, created_by=user.id).save()
    except Exception as error:
        if is_unique_violation(error):
            raise Conflict(_("A version already starts on that date; choose another date."),
                           {"effective_from": _("A version already starts on that date; choose another date.")}) from error
        raise
    return params


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def shift_worth(rules: dict, shift: Shift, status: str, minutes: int) -> int:
    """Points for one attendance under these rules, before the daily cap; negative for a no-show."""
    rate = rules["points_per_hour"].get(shift.kind, 10)
    length = (shift.ends_at - shift.starts_at).total_seconds() / 60
    multiplier = 1.0
    if shift.priority >= rules["hard_to_fill_priority"]:
        multiplier *= rules["hard_to_fill_multiplier"]
    if shift.kind == "escort" and shift.starts_at.hour * 60 + shift.starts_at.minute < _minutes(rules["early_escort_before"]):
        multiplier *= rules["early_escort_multiplier"]
    if shift.day.isoformat() in rules["bad_weather_days"]:
        multiplier *= rules["bad_weather_multiplier"]
    if shift.kind == "festival":
        multiplier *= rules["festival_multiplier"]
    if status == NO_SHOW:
        return -round(rules["no_show_penalty_factor"] * rate * length / 60)
    return round(rate * minutes / 60 * multiplier)


# ---------------------------------------------------------------------------------- stars


@dataclass
class StarLevel:
    stars: int
    hours: float
    next_stars_at: int | None  # hours needed for the next star, or None at five stars
    progress_percent: int


def star_level(total_minutes: int, star_hours: list[int]) -> StarLevel:
    hours = total_minutes / 60
    stars = sum(1 for threshold in star_hours if hours >= threshold)
    if stars >= len(star_hours):
        return StarLevel(stars=stars, hours=round(hours, 1), next_stars_at=None, progress_percent=100)
    floor = star_hours[stars - 1] if stars else 0
    target = star_hours[stars]
    return StarLevel(stars=stars, hours=round(hours, 1), next_stars_at=target,
                     progress_percent=int(100 * (hours - floor) / (target - floor)))


async def verified_minutes(volunteer_id: int) -> int:
    row = await Attendance.select(Sum(Attendance.verified_minutes, alias="total")).where(
        Attendance.volunteer == volunteer_id).first()
    return int(row["total"] or 0)


# ---------------------------------------------------------------------------------- badges


@dataclass(frozen=True)
class BadgeDefinition:
    code: str
    image: str  # under /static/badges/

    @property
    def name(self) -> str:
        return {
            "first_escort": _("First escort"), "escorts_10": _("10 escorts"), "escorts_50": _("50 escorts"),
            "escorts_100": _("100 escorts"), "friday_streak_4": _("Four Fridays in a row"),
            "all_weather": _("All-weather volunteer"), "festival": _("Festival helper"),
        }[self.code]

    @property
    def criteria(self) -> str:
        return {
            "first_escort": _("Verified attendance at a first school escort."),
            "escorts_10": _("Verified attendance at 10 school escorts."),
            "escorts_50": _("Verified attendance at 50 school escorts."),
            "escorts_100": _("Verified attendance at 100 school escorts."),
            "friday_streak_4": _("Verified Friday activities on four Fridays in a row."),
            "all_weather": _("Verified attendance on a day declared bad weather."),
            "festival": _("Verified attendance at a festival activity."),
        }[self.code]

    @property
    def description(self) -> str:
        """What the badge stands for (the criteria say what earns it)."""
        return {
            "first_escort": _("Welcomes a volunteer who has helped children across the road to school for the first time."),
            "escorts_10": _("A regular on the school run: ten escorts that kept pupils safe."),
            "escorts_50": _("A pillar of the school run: fifty escorts that kept pupils safe."),
            "escorts_100": _("A guardian of the school run: one hundred escorts that kept pupils safe."),
            "friday_streak_4": _("Steady community work: a whole month of Friday activities without a gap."),
            "all_weather": _("Came out for the community when the weather kept others at home."),
            "festival": _("Helped the community celebrate a festival."),
        }[self.code]


BADGES = [BadgeDefinition(code, f"/static/badges/{code}.svg") for code in (
    "first_escort", "escorts_10", "escorts_50", "escorts_100", "friday_streak_4", "all_weather", "festival")]
BADGES_BY_CODE = {badge.code: badge for badge in BADGES}
ESCORT_COUNTS = {"first_escort": 1, "escorts_10": 10, "escorts_50": 50, "escorts_100": 100}


async def _verified(volunteer_id: int) -> list[dict]:
    return await Attendance.select(Attendance.id, Attendance.shift.kind.as_alias("kind"),
                                   Attendance.shift.day.as_alias("day"), Attendance.shift.school.as_alias("school")).where(
        (Attendance.volunteer == volunteer_id) & (Attendance.verified_minutes > 0))


def _friday_streak(days: set[dt.date]) -> int:
    fridays = sorted(day for day in days if day.weekday() == 4)
    best = run = 0
    previous = None
    for day in fridays:
        run = run + 1 if previous is not None and (day - previous).days == 7 else 1
        best, previous = max(best, run), day
    return best


async def grant_earned_badges(volunteer_id: int, rules: dict) -> list[str]:
    """Grant every badge the volunteer's verified attendance now earns and they do not have yet.
    Run inside the transaction that verified the attendance (the volunteer row is locked)."""
    verified = await _verified(volunteer_id)
    have = {row["badge"] for row in await BadgeGrant.select(BadgeGrant.badge).where(BadgeGrant.volunteer == volunteer_id)}
    escorts = sum(1 for row in verified if row["kind"] == "escort")
    earned = [code for code, count in ESCORT_COUNTS.items() if escorts >= count]
    if _friday_streak({row["day"] for row in verified if row["kind"] != "escort"}) >= 4:
        earned.append("friday_streak_4")
    if any(row["kind"] == "festival" for row in verified):
        earned.append("festival")
    if any(row["day"].isoformat() in rules["bad_weather_days"] for row in verified):
        earned.append("all_weather")
    new = [code for code in earned if code not in have]
    for code in new:
        await BadgeGrant(volunteer=volunteer_id, badge=code, evidence=f"{escorts} escorts").save()
    return new


@dataclass
class EarnedBadge:
    code: str
    name: str
    criteria: str
    image: str
    granted_at: dt.datetime
    assertion: str = ""  # the Open Badges assertion's path in this app


async def badges_of(volunteer_id: int) -> list[EarnedBadge]:
    rows = await BadgeGrant.select(BadgeGrant.id, BadgeGrant.badge, BadgeGrant.granted_at).where(
        BadgeGrant.volunteer == volunteer_id).order_by(BadgeGrant.granted_at)
    return [EarnedBadge(code=row["badge"], name=BADGES_BY_CODE[row["badge"]].name,
                        criteria=BADGES_BY_CODE[row["badge"]].criteria, image=BADGES_BY_CODE[row["badge"]].image,
                        granted_at=row["granted_at"], assertion=assertion_url("", row["id"]))
            for row in rows if row["badge"] in BADGES_BY_CODE]


# Open Badges 2.0 (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html): every id
# below is a route of this app (incentives/controllers.py), so an exported badge can be followed and checked.
OPEN_BADGES_CONTEXT = "https://w3id.org/openbadges/v2"


def badge_class_url(base_url: str, code: str) -> str:
    return f"{base_url}/api/badges/{code}"


def issuer_url(base_url: str) -> str:
    return f"{base_url}/api/badges/issuer"


def assertion_url(base_url: str, grant_id: int) -> str:
    return f"{base_url}/api/badges/assertions/{assertion_token(grant_id)}"


def open_badge_class(badge: BadgeDefinition, base_url: str) -> dict:
    """The badge as an Open Badges 2.0 BadgeClass, so it could be exported."""
    return {"@context": OPEN_BADGES_CONTEXT, "type": "BadgeClass", "id": badge_class_url(base_url, badge.code),
            "name": badge.name, "description": badge.description, "image": f"{base_url}{badge.image}",
            "criteria": {"narrative": badge.criteria}, "issuer": issuer_url(base_url)}


def open_badge_issuer(base_url: str) -> dict:
    """The issuer's Profile: the district's volunteer service, at this app's address."""
    return {"@context": OPEN_BADGES_CONTEXT, "type": "Issuer", "id": issuer_url(base_url), "name": _("Volunteer Hub"),
            "url": f"{base_url}/"}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt="volunteer-hub-badge-assertion")


def assertion_token(grant_id: int) -> str:
    """A signed grant id: an assertion's address can be shared, but not guessed from another one."""
    return _serializer().dumps(grant_id)


def grant_id_from(token: str) -> int:
    try:
        grant_id = _serializer().loads(token)
    except BadSignature as error:
        raise NotFound(_("No such badge.")) from error
    if not isinstance(grant_id, int):
        raise NotFound(_("No such badge."))
    return grant_id


def recipient_identity(volunteer_id: int, base_url: str) -> str:
    """The volunteer's identity in their badges: an address that only this server can make (an HMAC of
    their id under SECRET_KEY). Not the phone number: a salted hash of a mainland mobile number is
    undone by trying the few billion possible numbers, and the salt is published with the hash."""
    tag = hmac.new(get_settings().secret_key.encode(), f"badge-recipient:{volunteer_id}".encode(), hashlib.sha256)
    return f"{base_url}/api/badges/recipients/{tag.hexdigest()[:32]}"


def hashed_identity(identity: str, salt: str) -> str:
    """Open Badges' hashed recipient: sha256 of the identity followed by the salt."""
    return "sha256$" + hashlib.sha256(f"{identity}{salt}".encode()).hexdigest()


def _salt(grant_id: int) -> str:
    return hmac.new(get_settings().secret_key.encode(), f"badge-salt:{grant_id}".encode(), hashlib.sha256).hexdigest()[:16]


async def open_badge_assertion(grant_id: int, base_url: str) -> dict:
    """One grant as an Open Badges 2.0 Assertion (hosted verification: its id is where it lives). The
    recipient is the volunteer's opaque recipient address (:func:`recipient_identity`), hashed with a
    salt; nothing in the JSON leads to their phone number."""
    row = await BadgeGrant.select(BadgeGrant.id, BadgeGrant.badge, BadgeGrant.granted_at, BadgeGrant.volunteer
                                  ).where(BadgeGrant.id == grant_id).first()
    if row is None or row["badge"] not in BADGES_BY_CODE:
        raise NotFound(_("No such badge."))
    salt = _salt(row["id"])
    identity = recipient_identity(row["volunteer"], base_url)
    return {"@context": OPEN_BADGES_CONTEXT, "type": "Assertion", "id": assertion_url(base_url, row["id"]),
            "recipient": {"type": "url", "hashed": True, "salt": salt, "identity": hashed_identity(identity, salt)},
            "badge": badge_class_url(base_url, row["badge"]), "verification": {"type": "hosted"},
            "issuedOn": row["granted_at"].astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")}


async def assertion_urls_of(volunteer_id: int, base_url: str) -> list[str]:
    rows = await BadgeGrant.select(BadgeGrant.id, BadgeGrant.badge).where(BadgeGrant.volunteer == volunteer_id).order_by(
        BadgeGrant.granted_at).order_by(BadgeGrant.id)
    return [assertion_url(base_url, row["id"]) for row in rows if row["badge"] in BADGES_BY_CODE]


# ---------------------------------------------------------------------------------- leaderboards

PERIODS = ("week", "month", "quarter", "year", "all")
BOARDS = ("volunteers", "units", "grids")
BOARD_SIZE = 50


def masked(name: str) -> str:
    """张小明 -> 张*明, 张明 -> 张*: recognisable to the person, not to strangers."""
    if len(name) <= 1:
        return name
    return name[0] + "*" + (name[-1] if len(name) > 2 else "")


@dataclass
class BoardRow:
    rank: int
    name: str
    points: int
    is_me: bool = False


async def leaderboard(board: str, period: str, viewer_volunteer_id: int | None = None) -> list[BoardRow]:
    """Points earned in the period (spending in the shop does not lower a rank): top 50, read from the
    period totals the ledger keeps."""
    if board not in BOARDS or period not in PERIODS:
        raise ValidationFailed(_("Please choose a board and a period from the lists."))
    start = points_period_start(period, local_today())
    in_period = (PointsPeriodTotal.period == period) & (PointsPeriodTotal.period_start == start)
    if board == "volunteers":
        rows = await PointsPeriodTotal.select(
            PointsPeriodTotal.volunteer, PointsPeriodTotal.earned, PointsPeriodTotal.volunteer.name.as_alias("name"),
        ).where(in_period & (PointsPeriodTotal.volunteer.hide_from_boards == False)).order_by(  # noqa: E712
            PointsPeriodTotal.earned, ascending=False).order_by(PointsPeriodTotal.volunteer).limit(BOARD_SIZE)
        return [BoardRow(rank=n + 1, name=masked(row["name"]), points=row["earned"],
                         is_me=row["volunteer"] == viewer_volunteer_id) for n, row in enumerate(rows)]
    kind = "unit" if board == "units" else "grid"
    rows = await GroupPeriodTotal.select(GroupPeriodTotal.group_id, GroupPeriodTotal.earned.as_alias("points")).where(
        (GroupPeriodTotal.group_kind == kind) & (GroupPeriodTotal.period == period)
        & (GroupPeriodTotal.period_start == start)).order_by(GroupPeriodTotal.earned, ascending=False).order_by(
        GroupPeriodTotal.group_id).limit(BOARD_SIZE)
    table = Unit if board == "units" else Grid
    ids = [row["group_id"] for row in rows]
    names = {row["id"]: row["name"] for row in await table.select(table.id, table.name).where(table.id.is_in(ids or [-1]))}
    return [BoardRow(rank=n + 1, name=names.get(row["group_id"], "?"), points=int(row["points"]))
            for n, row in enumerate(rows)]


async def is_hidden_from_boards(user: User) -> bool:
    from volunteer_hub.volunteers.services import volunteer_for_user

    return (await volunteer_for_user(user)).hide_from_boards


async def set_hidden_from_boards(user: User, hidden: bool) -> None:
    """A volunteer's own choice to stay off the public boards (units and grids still count their points)."""
    from volunteer_hub.volunteers.services import volunteer_for_user

    volunteer = await volunteer_for_user(user)
    await Volunteer.update({Volunteer.hide_from_boards: hidden}).where(Volunteer.id == volunteer.id)


@dataclass
class Recognition:
    stars: StarLevel
    badges: list[EarnedBadge]


async def recognition(volunteer_id: int) -> Recognition:
    """Star level and badges, for the profile."""
    rules = await rules_on(local_today())
    return Recognition(stars=star_level(await verified_minutes(volunteer_id), rules["star_hours"]),
                       badges=await badges_of(volunteer_id))


def _run_ending_at(days: set[dt.date], last: dt.date, step: dt.timedelta, skipped: frozenset[dt.date] = frozenset()) -> int:
    """How many of ``days`` run back from ``last`` in steps; a ``skipped`` step neither counts nor breaks it."""
    run, day = 0, last
    while day in days or day in skipped:
        run, day = run + (day in days), day - step
    return run


async def school_holiday_weeks(school_ids: set[int], first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """Mondays of the weeks from ``first`` to ``last`` in which none of these schools is open on any
    weekday (Monday to Friday all closed days: a holiday week). No schools, no holiday weeks."""
    if not school_ids:
        return frozenset()
    from volunteer_hub.schools.tables import SchoolClosure

    closed: dict[int, set[dt.date]] = {school: set() for school in school_ids}
    for row in await SchoolClosure.select(SchoolClosure.school, SchoolClosure.day).where(
            SchoolClosure.school.is_in(list(school_ids)) & (SchoolClosure.day >= first)
            & (SchoolClosure.day <= last + dt.timedelta(days=4))):
        closed[row["school"]].add(row["day"])
    weeks, monday = set(), first
    while monday <= last:
        school_days = {monday + dt.timedelta(days=n) for n in range(5)}
        if all(school_days <= days for days in closed.values()):
            weeks.add(monday)
        monday += dt.timedelta(weeks=1)
    return frozenset(weeks)


async def grant_streak_bonuses(volunteer_id: int, rules: dict, actor_id: int | None) -> None:
    """A bonus each time a run of consecutive Fridays (Friday activities) or consecutive school weeks
    (at least one verified escort a week) reaches a multiple of the rule's streak length. A week in
    which the volunteer's escort schools are all closed (a school holiday) is no school week: it
    neither breaks the run nor counts in it. Each bonus is keyed by the day or week that completed it,
    so it is paid once."""
    from volunteer_hub.points import services as points

    length, bonus = rules["streak_length"], rules["streak_bonus"]
    if not bonus or length < 2:
        return
    verified = await _verified(volunteer_id)
    fridays = {row["day"] for row in verified if row["kind"] != "escort" and row["day"].weekday() == 4}
    escorts = [row for row in verified if row["kind"] == "escort"]
    weeks = {row["day"] - dt.timedelta(days=row["day"].weekday()) for row in escorts}
    holidays = await school_holiday_weeks({row["school"] for row in escorts if row["school"] is not None},
                                          min(weeks), max(weeks)) if weeks else frozenset()
    for label, days, skipped in (("friday_streak", fridays, frozenset()), ("school_week_streak", weeks, holidays)):
        for last in sorted(days):
            run = _run_ending_at(days, last, dt.timedelta(weeks=1), skipped)
            if run and run % length == 0:
                await points.add_entry(volunteer_id, bonus, rule=label, source="badge", key=f"{label}:{volunteer_id}:{last.isoformat()}",
                                       created_by=actor_id, note=f"{run} in a row")
