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

from volunteer_hub.db import for_update
from volunteer_hub.points.tables import POINT_SOURCES, PointsBalance, PointsEntry
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
    moved = await PointsBalance.update({PointsBalance.balance: PointsBalance.balance + amount,
                                        PointsBalance.updated_at: now}).where(
        PointsBalance.volunteer == volunteer_id).returning(PointsBalance.id)
    if not moved:
        await PointsBalance(volunteer=volunteer_id, balance=amount, updated_at=now).save()
    return True


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
        PointsEntry.id, ascending=False).limit(limit)
    return [LedgerLine(**row) for row in rows]


async def balances_that_disagree_with_the_ledger() -> dict[int, tuple[int, int]]:
    """Volunteer id -> (kept balance, ledger sum) wherever the two differ; empty when all is well."""
    sums = {row["volunteer"]: int(row["total"] or 0) for row in await PointsEntry.select(
        PointsEntry.volunteer, Sum(PointsEntry.amount, alias="total")).group_by(PointsEntry.volunteer)}
    kept = {row["volunteer"]: row["balance"] for row in await PointsBalance.select(PointsBalance.volunteer,
                                                                                  PointsBalance.balance)}
    return {volunteer: (kept.get(volunteer, 0), sums.get(volunteer, 0))
            for volunteer in set(sums) | set(kept) if kept.get(volunteer, 0) != sums.get(volunteer, 0)}
