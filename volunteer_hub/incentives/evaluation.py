"""The quarter's evaluation: unit and grid scores from members' points and verified hours, the
awards-in-lieu-of-subsidies (以奖代补) split of a reward pool, the honour roll (光荣榜), the year-end
summary, and their CSV and XLSX downloads (openpyxl).

A unit's score is the points its members earned in the quarter (spending in the shop does not lower
it); verified hours are shown beside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from openpyxl import Workbook
from piccolo.query.functions.aggregate import Sum

from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER, User
from volunteer_hub.attendance.tables import Attendance
from volunteer_hub.errors import Forbidden, ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.points.tables import PointsEntry
from volunteer_hub.reference.tables import Grid
from volunteer_hub.volunteers.tables import Unit, Volunteer

STAFF = (ROLE_MANAGER, ROLE_ADMIN)
CENT = Decimal("0.01")


def check_staff(user: User) -> None:
    if user.role not in STAFF:
        raise Forbidden(_("You do not have permission to open this page."))


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First day of the quarter and first day after it."""
    if not 1 <= quarter <= 4 or not 2000 <= year <= 2100:
        raise ValidationFailed(_("Please choose a year and a quarter (1-4)."))
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


@dataclass
class Score:
    group_id: int
    name: str
    members: int
    points: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


async def _scores(group_column_name: str, start: dt.date, end: dt.date) -> list[Score]:
    group = getattr(Volunteer, group_column_name)
    table = Unit if group_column_name == "unit" else Grid
    points = {row["group_id"]: int(row["points"] or 0) for row in await PointsEntry.select(
        getattr(PointsEntry.volunteer, group_column_name).as_alias("group_id"),
        Sum(PointsEntry.amount, alias="points")).where(
        (PointsEntry.source != "redemption") & (PointsEntry.created_at >= _utc(start)) & (PointsEntry.created_at < _utc(end))
    ).group_by(getattr(PointsEntry.volunteer, group_column_name))}
    minutes = {row["group_id"]: int(row["minutes"] or 0) for row in await Attendance.select(
        getattr(Attendance.volunteer, group_column_name).as_alias("group_id"),
        Sum(Attendance.verified_minutes, alias="minutes")).where(
        (Attendance.shift.day >= start) & (Attendance.shift.day < end)
    ).group_by(getattr(Attendance.volunteer, group_column_name))}
    members: dict[int, int] = {}
    for row in await Volunteer.select(group.as_alias("group_id")):
        if row["group_id"] is not None:
            members[row["group_id"]] = members.get(row["group_id"], 0) + 1
    names = {row["id"]: row["name"] for row in await table.select(table.id, table.name)}
    scores = [Score(group_id=gid, name=name, members=members.get(gid, 0), points=points.get(gid, 0),
                    minutes=minutes.get(gid, 0)) for gid, name in names.items()]
    scores.sort(key=lambda s: (-s.points, -s.minutes, s.name))
    return scores


async def unit_scores(year: int, quarter: int) -> list[Score]:
    return await _scores("unit", *quarter_bounds(year, quarter))


async def grid_scores(year: int, quarter: int) -> list[Score]:
    return await _scores("home_grid", *quarter_bounds(year, quarter))


@dataclass
class Award:
    name: str
    points: int
    eligible: bool
    amount: Decimal


@dataclass
class AwardSplit:
    pool: Decimal
    threshold: int
    eligible_points: int
    awards: list[Award]
    remainder: Decimal  # cents left by rounding down, given to the first eligible unit


def award_split(scores: list[Score], pool: Decimal, threshold: int) -> AwardSplit:
    """Units at or above the threshold share the pool in proportion to their points; each share is
    rounded down to the cent and the cents left over go to the highest-scoring unit, so the shares add
    up to the pool exactly."""
    if pool < 0 or pool > Decimal("100000000"):
        raise ValidationFailed(_("The reward pool must be from 0 to 100,000,000 yuan."))
    if threshold < 0:
        raise ValidationFailed(_("The threshold must not be negative."))
    eligible = [s for s in scores if s.points >= threshold and s.points > 0]
    total = sum(s.points for s in eligible)
    awards = []
    for score in scores:
        share = (pool * score.points / total).quantize(CENT, rounding=ROUND_DOWN) if score in eligible and total else Decimal(0)
        awards.append(Award(name=score.name, points=score.points, eligible=score in eligible, amount=share))
    remainder = pool - sum(a.amount for a in awards) if total else Decimal(0)
    if remainder and eligible:
        first = next(a for a in awards if a.eligible)
        first.amount += remainder
    return AwardSplit(pool=pool, threshold=threshold, eligible_points=total, awards=awards, remainder=remainder)


@dataclass
class Candidate:
    rank: int
    name: str
    phone: str
    unit: str | None
    points: int
    minutes: int


async def honour_roll(year: int, quarter: int, size: int = 10) -> list[Candidate]:
    """The quarter's top volunteers by points earned: candidates for the exemplary-people selection."""
    start, end = quarter_bounds(year, quarter)
    rows = await PointsEntry.select(PointsEntry.volunteer, Sum(PointsEntry.amount, alias="points")).where(
        (PointsEntry.source != "redemption") & (PointsEntry.created_at >= _utc(start)) & (PointsEntry.created_at < _utc(end))
    ).group_by(PointsEntry.volunteer).order_by(Sum(PointsEntry.amount), ascending=False).limit(size)
    ids = [row["volunteer"] for row in rows]
    people = {row["id"]: row for row in await Volunteer.select(
        Volunteer.id, Volunteer.name, Volunteer.phone, Volunteer.unit.name.as_alias("unit_name")).where(
        Volunteer.id.is_in(ids or [-1]))}
    minutes = {row["volunteer"]: int(row["minutes"] or 0) for row in await Attendance.select(
        Attendance.volunteer, Sum(Attendance.verified_minutes, alias="minutes")).where(
        Attendance.volunteer.is_in(ids or [-1]) & (Attendance.shift.day >= start) & (Attendance.shift.day < end)
    ).group_by(Attendance.volunteer)}
    return [Candidate(rank=n + 1, name=people[row["volunteer"]]["name"], phone=people[row["volunteer"]]["phone"],
                      unit=people[row["volunteer"]]["unit_name"], points=int(row["points"]),
                      minutes=minutes.get(row["volunteer"], 0)) for n, row in enumerate(rows)]


@dataclass
class YearRow:
    name: str
    quarters: list[int]  # points per quarter

    @property
    def total(self) -> int:
        return sum(self.quarters)


async def year_summary(year: int) -> list[YearRow]:
    by_unit: dict[str, list[int]] = {}
    for quarter in range(1, 5):
        for score in await unit_scores(year, quarter):
            by_unit.setdefault(score.name, [0, 0, 0, 0])[quarter - 1] = score.points
    rows = [YearRow(name=name, quarters=points) for name, points in by_unit.items()]
    rows.sort(key=lambda row: (-row.total, row.name))
    return rows


# ---------------------------------------------------------------------------------- downloads


def _sheets_for_quarter(units: list[Score], grids: list[Score], split: AwardSplit, roll: list[Candidate]) -> dict:
    return {
        _("Units"): [[_("Unit"), _("Members"), _("Points"), _("Verified hours"), _("Eligible"), _("Award (yuan)")]] + [
            [s.name, s.members, s.points, s.hours, a.eligible, float(a.amount)] for s, a in zip(units, split.awards)],
        _("Grids"): [[_("Grid"), _("Members"), _("Points"), _("Verified hours")]] + [
            [s.name, s.members, s.points, s.hours] for s in grids],
        _("Honour roll"): [[_("Rank"), _("Name"), _("Phone"), _("Unit"), _("Points"), _("Verified hours")]] + [
            [c.rank, c.name, c.phone, c.unit or "", c.points, round(c.minutes / 60, 1)] for c in roll],
    }


async def quarter_sheets(year: int, quarter: int, pool: Decimal, threshold: int) -> dict[str, list[list]]:
    units = await unit_scores(year, quarter)
    return _sheets_for_quarter(units, await grid_scores(year, quarter), award_split(units, pool, threshold),
                               await honour_roll(year, quarter))


async def year_sheets(year: int) -> dict[str, list[list]]:
    rows = await year_summary(year)
    return {_("Year"): [[_("Unit"), "Q1", "Q2", "Q3", "Q4", _("Total")]] + [[r.name, *r.quarters, r.total] for r in rows]}


def to_xlsx(sheets: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")  # with a BOM, so spreadsheet programs read Chinese correctly
