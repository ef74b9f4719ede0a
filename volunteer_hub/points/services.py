"""The points ledger: append-only entries with a unique idempotency key, and each volunteer's balance
kept beside it in the same transaction.

Every function that writes must run inside ``db.write_transaction()``; it locks the volunteer row
first, so concurrent entries for one volunteer are serialised (and a balance can be checked before
it is spent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from piccolo.query.functions.aggregate import Sum
from piccolo.querystring import QueryString

from volunteer_hub.clock import local_today
from volunteer_hub.db import for_update
from volunteer_hub.points.tables import POINT_SOURCES, GroupPeriodTotal, PointsBalance, PointsEntry, PointsPeriodTotal
from volunteer_hub.volunteers.tables import Volunteer


async def lock_volunteer(volunteer_id: int) -> None:
    await for_update(Volunteer.select(Volunteer.id).where(Volunteer.id == volunteer_id)).first()


async def add_entry(volunteer_id: int, amount: int, *, rule: str, source: str, key: str, source_id: int | None = None,
                    created_by: int | None = None, note: str = "") -> bool:
    """Append one entry and move the balance with it. False (and nothing written) when an entry with
    this key exists already: a retry of something already recorded."""
    assert source in POINT_SOURCES
    await lock_volunteer(volunteer_id)
    if await PointsEntry.exists().where(PointsEntry.idempotency_key == key):
        return False
    await PointsEntry(volunteer=volunteer_id, amount=amount, rule=rule, source=source, source_id=source_id,
                      idempotency_key=key, created_by=created_by, note=note[:200]).save()
    now = dt.datetime.now(dt.timezone.utc)
    if source != "redemption":
        await _add_to_period_totals(volunteer_id, amount, local_today())
    moved = await PointsBalance.update({PointsBalance.balance: PointsBalance.balance + amount,
                                        PointsBalance.updated_at: now}).where(
        PointsBalance.volunteer == volunteer_id).returning(PointsBalance.id)
    if not moved:
        await PointsBalance(volunteer=volunteer_id, balance=amount, updated_at=now).save()
    return True


PERIODS = ("week", "month", "quarter", "year", "all")
ALL_TIME_START = dt.date(2000, 1, 1)


def period_start(period: str, day: dt.date) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return ALL_TIME_START


async def _add_to_period_totals(volunteer_id: int, amount: int, day: dt.date) -> None:
    groups = await Volunteer.select(Volunteer.unit, Volunteer.home_grid).where(Volunteer.id == volunteer_id).first()
    for period in PERIODS:
        start = period_start(period, day)
        updated = await PointsPeriodTotal.update({PointsPeriodTotal.earned: PointsPeriodTotal.earned + amount}).where(
            (PointsPeriodTotal.volunteer == volunteer_id) & (PointsPeriodTotal.period == period)
            & (PointsPeriodTotal.period_start == start)).returning(PointsPeriodTotal.id)
        if not updated:  # the volunteer row is locked: nobody else can insert this row meanwhile
            await PointsPeriodTotal(volunteer=volunteer_id, period=period, period_start=start, earned=amount).save()
        for kind, group_id in (("unit", groups["unit"]), ("grid", groups["home_grid"])):
            if group_id is not None:
                await _add_to_group_total(kind, group_id, period, start, amount)


async def _add_to_group_total(kind: str, group_id: int, period: str, start: dt.date, amount: int) -> None:
    """Many volunteers share a group row, so this one is an upsert (ON CONFLICT on its unique index)."""
    await GroupPeriodTotal.insert(GroupPeriodTotal(group_kind=kind, group_id=group_id, period=period, period_start=start,
                                                   earned=amount)).on_conflict(
        target=(GroupPeriodTotal.group_kind, GroupPeriodTotal.group_id, GroupPeriodTotal.period,
                GroupPeriodTotal.period_start),
        action="DO UPDATE", values=[(GroupPeriodTotal.earned, QueryString('"group_period_total"."earned" + {}', amount))])


async def rebuild_period_totals() -> int:
    """Recompute every period total from the ledger (after a restore, or to check them). Returns rows."""
    from zoneinfo import ZoneInfo

    from volunteer_hub.settings import get_settings

    zone = ZoneInfo(get_settings().timezone)
    totals: dict[tuple[int, str, dt.date], int] = {}
    rows = await PointsEntry.select(PointsEntry.volunteer, PointsEntry.amount, PointsEntry.created_at).where(
        PointsEntry.source != "redemption")
    for row in rows:
        day = row["created_at"].astimezone(zone).date()
        for period in PERIODS:
            key = (row["volunteer"], period, period_start(period, day))
            totals[key] = totals.get(key, 0) + row["amount"]
    await PointsPeriodTotal.delete(force=True)
    if totals:
        await PointsPeriodTotal.insert(*[PointsPeriodTotal(volunteer=v, period=p, period_start=d, earned=e)
                                         for (v, p, d), e in totals.items()])
    # Groups by today's membership: the history of who belonged where is not kept.
    memberships = {row["id"]: row for row in await Volunteer.select(Volunteer.id, Volunteer.unit, Volunteer.home_grid)}
    groups: dict[tuple[str, int, str, dt.date], int] = {}
    for (volunteer, period, start), earned in totals.items():
        for kind, column in (("unit", "unit"), ("grid", "home_grid")):
            group_id = memberships[volunteer][column]
            if group_id is not None:
                key = (kind, group_id, period, start)
                groups[key] = groups.get(key, 0) + earned
    await GroupPeriodTotal.delete(force=True)
    if groups:
        await GroupPeriodTotal.insert(*[GroupPeriodTotal(group_kind=k, group_id=g, period=p, period_start=d, earned=e)
                                        for (k, g, p, d), e in groups.items()])
    return len(totals)


async def total_for_source(source: str, source_id: int) -> int:
    row = await PointsEntry.select(Sum(PointsEntry.amount, alias="total")).where(
        (PointsEntry.source == source) & (PointsEntry.source_id == source_id)).first()
    return int(row["total"] or 0)


async def balance(volunteer_id: int) -> int:
    row = await PointsBalance.select(PointsBalance.balance).where(PointsBalance.volunteer == volunteer_id).first()
    return row["balance"] if row else 0


@dataclass
class LedgerLine:
    amount: int
    rule: str
    source: str
    note: str
    created_at: dt.datetime


async def ledger(volunteer_id: int, limit: int = 100) -> list[LedgerLine]:
    rows = await PointsEntry.select(PointsEntry.amount, PointsEntry.rule, PointsEntry.source, PointsEntry.note,
                                    PointsEntry.created_at).where(PointsEntry.volunteer == volunteer_id).order_by(
        PointsEntry.created_at, PointsEntry.id, ascending=False).limit(limit)
    return [LedgerLine(**row) for row in rows]


async def balances_that_disagree_with_the_ledger() -> dict[int, tuple[int, int]]:
    """Volunteer id -> (kept balance, ledger sum) wherever the two differ; empty when all is well."""
    sums = {row["volunteer"]: int(row["total"] or 0) for row in await PointsEntry.select(
        PointsEntry.volunteer, Sum(PointsEntry.amount, alias="total")).group_by(PointsEntry.volunteer)}
    kept = {row["volunteer"]: row["balance"] for row in await PointsBalance.select(PointsBalance.volunteer,
                                                                                  PointsBalance.balance)}
    return {volunteer: (kept.get(volunteer, 0), sums.get(volunteer, 0))
            for volunteer in set(sums) | set(kept) if kept.get(volunteer, 0) != sums.get(volunteer, 0)}
