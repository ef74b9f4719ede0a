"""The points ledger holds in the database itself: rows cannot be updated or deleted (triggers), and
an idempotency key cannot be used twice (unique constraint), whatever code writes. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from shift_support import make_volunteer
from support import empty_database, make_reference_data

from volunteer_hub.db import engine, is_unique_violation, write_transaction
from volunteer_hub.points import services as points
from volunteer_hub.points.tables import PointsEntry


async def _one_entry() -> PointsEntry:
    refs = await make_reference_data()
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    async with write_transaction():
        assert await points.add_entry(volunteer.id, 25, rule="test", source="correction", key="ledger:1")
    return await PointsEntry.objects().first()


async def test_raw_update_and_delete_of_a_ledger_entry_are_refused(db):
    entry = await _one_entry()
    for statement in (f'UPDATE "points_entry" SET "amount" = 999 WHERE "id" = {entry.id}',
                      f'DELETE FROM "points_entry" WHERE "id" = {entry.id}',
                      'DELETE FROM "points_entry"'):
        with pytest.raises(Exception, match="append-only"):
            await engine().run_ddl(statement)
    with pytest.raises(Exception, match="append-only"):
        await PointsEntry.update({PointsEntry.note: "edited"}).where(PointsEntry.id == entry.id)
    with pytest.raises(Exception, match="append-only"):
        await PointsEntry.delete().where(PointsEntry.id == entry.id)
    rows = await PointsEntry.select(PointsEntry.amount, PointsEntry.note)
    assert rows == [{"amount": 25, "note": ""}]
    assert await points.balances_that_disagree_with_the_ledger() == {}


async def test_a_duplicate_idempotency_key_is_refused_by_the_database(db):
    entry = await _one_entry()
    duplicate = PointsEntry(volunteer=entry.volunteer, amount=25, rule="test", source="correction",
                            idempotency_key=entry.idempotency_key)
    with pytest.raises(Exception) as raised:
        await duplicate.save()
    assert is_unique_violation(raised.value), raised.value
    other = PointsEntry(volunteer=entry.volunteer, amount=5, rule="test", source="correction", idempotency_key="ledger:2")
    await other.save()  # a fresh key goes in: the refusal was the key's, not the row's
    assert await PointsEntry.count() == 2


async def test_the_test_suite_can_still_empty_the_ledger_and_the_guard_comes_back(db):
    await _one_entry()
    await empty_database()
    assert await PointsEntry.count() == 0
    entry = await _one_entry()
    with pytest.raises(Exception, match="append-only"):
        await PointsEntry.delete().where(PointsEntry.id == entry.id)
