"""The quarter's evaluation: unit and grid scores from members' points and verified hours, the
awards-in-lieu-of-subsidies (以奖代补) split of a reward pool, the honour roll (光荣榜), the year-end
summary, and their CSV and XLSX downloads (openpyxl).

A unit's score is the points its members earned in the quarter while they belonged to it (spending
in the shop does not lower it), read from the totals the ledger keeps, so it equals the unit board's
quarter; verified hours are shown beside it. Quarters are the district's local calendar quarters.
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
from volunteer_hub.points.tables import GroupPeriodTotal, PointsPeriodTotal
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


async def _group_points(kind: str, quarter_start: dt.date) -> dict[int, int]:
    """Points per unit or grid in the quarter, read from the totals the ledger keeps (the unit board's
    own numbers). Those count each entry for the group the volunteer belonged to WHEN the points were
    earned, and on the district's local calendar: a unit's award is for what its members did while
    they were its members, so someone who moves to another unit mid-quarter does not take the points
    they earned with the old one along, and the evaluation never disagrees with the board it sits
    beside."""
    rows = await GroupPeriodTotal.select(GroupPeriodTotal.group_id, GroupPeriodTotal.earned).where(
        (GroupPeriodTotal.group_kind == kind) & (GroupPeriodTotal.period == "quarter")
        & (GroupPeriodTotal.period_start == quarter_start))
    return {row["group_id"]: int(row["earned"]) for row in rows}


async def _group_minutes(group_column_name: str, start: dt.date, end: dt.date) -> dict[int, int]:
    """Verified minutes of shifts on local days in [start, end), per group. Attendance keeps no record
    of the unit a volunteer was in that day, so hours go to the current unit and home grid."""
    column = getattr(Attendance.volunteer, group_column_name)
    return {row["group_id"]: int(row["minutes"] or 0) for row in await Attendance.select(
        column.as_alias("group_id"), Sum(Attendance.verified_minutes, alias="minutes")).where(
        (Attendance.shift.day >= start) & (Attendance.shift.day < end)).group_by(column)}


async def _scores(group_column_name: str, start: dt.date, end: dt.date) -> list[Score]:
    group = getattr(Volunteer, group_column_name)
    table = Unit if group_column_name == "unit" else Grid
    points = await _group_points("unit" if group_column_name == "unit" else "grid", start)
    minutes = await _group_minutes(group_column_name, start, end)
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
    """The quarter's top volunteers by points earned (the quarter's kept totals, on the district's
    local calendar, like the boards): candidates for the exemplary-people selection."""
    start, end = quarter_bounds(year, quarter)
    rows = await PointsPeriodTotal.select(PointsPeriodTotal.volunteer, PointsPeriodTotal.earned.as_alias("points")).where(
        (PointsPeriodTotal.period == "quarter") & (PointsPeriodTotal.period_start == start)).order_by(
        PointsPeriodTotal.earned, ascending=False).order_by(PointsPeriodTotal.volunteer).limit(size)
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
    minutes: list[int]  # verified minutes per quarter

    @property
    def total(self) -> int:
        return sum(self.quarters)

    @property
    def hours(self) -> list[float]:
        return [round(m / 60, 1) for m in self.minutes]

    @property
    def total_hours(self) -> float:
        return round(sum(self.minutes) / 60, 1)


async def _year_rows(group_column_name: str, year: int) -> list[YearRow]:
    """Every group's four quarters, read with one query for points and one for minutes."""
    kind, table = ("unit", Unit) if group_column_name == "unit" else ("grid", Grid)
    starts = [quarter_bounds(year, quarter)[0] for quarter in range(1, 5)]
    rows = {row["id"]: YearRow(name=row["name"], quarters=[0] * 4, minutes=[0] * 4)
            for row in await table.select(table.id, table.name)}
    for row in await GroupPeriodTotal.select(GroupPeriodTotal.group_id, GroupPeriodTotal.period_start,
                                             GroupPeriodTotal.earned).where(
            (GroupPeriodTotal.group_kind == kind) & (GroupPeriodTotal.period == "quarter")
            & GroupPeriodTotal.period_start.is_in(starts)):
        if row["group_id"] in rows:
            rows[row["group_id"]].quarters[starts.index(row["period_start"])] += int(row["earned"])
    column = getattr(Attendance.volunteer, group_column_name)
    for row in await Attendance.select(column.as_alias("group_id"), Attendance.shift.day.as_alias("day"),
                                       Sum(Attendance.verified_minutes, alias="minutes")).where(
            (Attendance.shift.day >= starts[0]) & (Attendance.shift.day < dt.date(year + 1, 1, 1))).group_by(
            column, Attendance.shift.day):
        if row["group_id"] in rows:
            rows[row["group_id"]].minutes[(row["day"].month - 1) // 3] += int(row["minutes"] or 0)
    ordered = list(rows.values())
    ordered.sort(key=lambda row: (-row.total, -sum(row.minutes), row.name))
    return ordered


async def year_summary(year: int) -> list[YearRow]:
    """Each unit's points and verified hours in the year's four quarters."""
    return await _year_rows("unit", year)


async def year_grid_summary(year: int) -> list[YearRow]:
    return await _year_rows("home_grid", year)


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


def _year_table(first_column: str, rows: list[YearRow]) -> list[list]:
    header = [first_column, *[_("Q%(quarter)s points", quarter=q) for q in range(1, 5)], _("Points"),
              *[_("Q%(quarter)s hours", quarter=q) for q in range(1, 5)], _("Verified hours")]
    return [header] + [[r.name, *r.quarters, r.total, *r.hours, r.total_hours] for r in rows]


async def year_sheets(year: int) -> dict[str, list[list]]:
    """The year-end summary from the four quarters: units, then grids (points and verified hours)."""
    return {_("Units"): _year_table(_("Unit"), await year_summary(year)),
            _("Grids"): _year_table(_("Grid"), await year_grid_summary(year))}


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
