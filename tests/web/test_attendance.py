"""Attendance by QR code and on the roster, and the points it earns through the ledger.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import httpx

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.accounts.tables import User
from volunteer_hub.attendance.services import check_in_token
from volunteer_hub.incentives.services import DEFAULT_RULES, shift_worth
from volunteer_hub.attendance.tables import Attendance, AttendanceCorrection
from volunteer_hub.points.services import balance, balances_that_disagree_with_the_ledger
from volunteer_hub.points.tables import PointsEntry
from volunteer_hub.shifts.tables import Assignment

MANAGER = ("wangfang", "Staff2026pass")


async def _on_shift(shift, *volunteers) -> None:
    """Put volunteers on a shift as if they had signed up before it started."""
    for volunteer in volunteers:
        await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()


async def _manager(client):
    await make_staff(MANAGER[0], "manager")
    await log_in(client, *MANAGER)
    assert (await post_form(client, "/language", {"locale": "en", "next": "/"})).status_code == 303


async def test_check_in_and_out_by_qr_code_earns_verified_minutes(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, starts_in=dt.timedelta(minutes=-20), minutes=60, key="now")
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    await _on_shift(shift, volunteer)
    phone = await volunteer_client(client, "13900000001")
    token = check_in_token(shift.id)

    page = await phone.get(f"/checkin/{token}")
    assert page.status_code == 200 and f'action="/checkin/{token}/in"' in page.text
    out_first = await api(phone, "POST", "/api/checkout", json={"token": token})
    assert out_first.status_code == 400 and "check in before" in out_first.json()["detail"]
    checked_in = await post_form(phone, f"/checkin/{token}/in", {})
    assert checked_in.status_code == 303
    row = await Attendance.objects().where(Attendance.shift == shift.id).first()
    assert row.status == "late" and row.verified_minutes == 0  # 20 minutes after the start
    again = await api(phone, "POST", "/api/checkin", json={"token": token})
    assert again.status_code == 409

    out = await api(phone, "POST", "/api/checkout", json={"token": token})
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["status"] == "left_early" and 0 <= body["verified_minutes"] <= 1
    bonus = DEFAULT_RULES["first_shift_bonus"] if body["verified_minutes"] else 0
    assert await balance(volunteer.id) == shift_worth(DEFAULT_RULES, shift, "left_early", body["verified_minutes"]) + bonus
    hours = (await phone.get("/api/my/hours")).json()
    assert hours["total_minutes"] == body["verified_minutes"]
    assert shift.title in page_text((await phone.get("/my/hours")).text)


async def test_bad_check_ins_are_refused_and_record_nothing(client):
    refs = await make_reference_data()
    later = await make_shift(refs, starts_in=dt.timedelta(days=2), key="later")
    over = await make_shift(refs, starts_in=dt.timedelta(hours=-3), minutes=60, key="over")
    now = await make_shift(refs, starts_in=dt.timedelta(minutes=-5), minutes=60, key="now")
    mine = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    await make_volunteer(refs["grid"].id, "13900000002", locale="en")
    await _on_shift(later, mine)
    await _on_shift(over, mine)
    await _on_shift(now, mine)
    phone = await volunteer_client(client, "13900000001")
    stranger = await volunteer_client(client, "13900000002")

    cases = [
        (phone, check_in_token(later.id), 400, "opens"),
        (phone, check_in_token(over.id), 400, "over"),
        (phone, check_in_token(now.id)[:-3] + "abc", 400, "not valid"),
        (phone, "forged." + check_in_token(now.id), 400, "not valid"),
        (stranger, check_in_token(now.id), 403, "not on this shift"),
        (phone, check_in_token(424242), 404, "No such shift"),
    ]
    for who, token, status, words in cases:
        response = await api(who, "POST", "/api/checkin", json={"token": token})
        assert response.status_code == status, (token, response.text)
        assert words.lower() in response.json()["detail"].lower()
    assert await Attendance.count() == 0 and await PointsEntry.count() == 0
    # A volunteer cannot open the staff's attendance sheet.
    assert (await phone.get(f"/api/shifts/{now.id}/attendance")).status_code == 403


async def test_roster_marking_is_idempotent_and_corrections_reverse_through_the_ledger(client):
    refs = await make_reference_data()
    await _manager(client)
    shift = await make_shift(refs, starts_in=dt.timedelta(hours=-2), minutes=60, key="done")
    came = await make_volunteer(refs["grid"].id, "13900000001")
    missed = await make_volunteer(refs["grid"].id, "13900000002")
    await _on_shift(shift, came, missed)
    marks = {"marks": [{"volunteer_id": came.id, "status": "present"}, {"volunteer_id": missed.id, "status": "no_show"}]}

    first = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json=marks)
    assert first.status_code == 200 and first.json() == {"changed": 2}
    # An hour at 10 points an hour, and the first-shift bonus; a no-show with nothing to lose loses nothing.
    assert await balance(came.id) == 30 and await balance(missed.id) == 0
    again = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json=marks)
    assert again.json() == {"changed": 0}
    assert await PointsEntry.count() == 2

    change = {"marks": [{"volunteer_id": came.id, "status": "late", "minutes": 30}]}
    no_reason = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json=change)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    assert await balance(came.id) == 30 and await AttendanceCorrection.count() == 0
    corrected = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json={**change, "reason": "到岗晚了半小时"})
    assert corrected.json() == {"changed": 1}
    assert await balance(came.id) == 25
    entries = await PointsEntry.select(PointsEntry.amount).where(PointsEntry.volunteer == came.id).order_by(PointsEntry.id)
    assert [e["amount"] for e in entries] == [10, 20, -5]
    correction = await AttendanceCorrection.objects().first()
    assert (correction.old_status, correction.new_status, correction.old_minutes, correction.new_minutes) == (
        "present", "late", 60, 30)
    assert await balances_that_disagree_with_the_ledger() == {}

    bad = [
        ({"marks": [{"volunteer_id": came.id, "status": "asleep"}]}, 400),
        ({"marks": [{"volunteer_id": came.id, "status": "late", "minutes": 90}]}, 400),
        ({"marks": [{"volunteer_id": came.id, "status": "late", "minutes": -5}]}, 400),
        ({"marks": [{"volunteer_id": 999999, "status": "present"}]}, 400),
    ]
    for body, status in bad:
        response = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json={**body, "reason": "x"})
        assert response.status_code == status, (body, response.text)
    future = await make_shift(refs, starts_in=dt.timedelta(days=1), key="future")
    await _on_shift(future, came)
    early = await api(client, "PUT", f"/api/shifts/{future.id}/attendance",
                      json={"marks": [{"volunteer_id": came.id, "status": "present"}]})
    assert early.status_code == 400
    assert await PointsEntry.count() == 3 and await balance(came.id) == 25

    # A no-show costs twice what the shift would have earned (an hour: 20 points).
    missed_shift = await make_shift(refs, starts_in=dt.timedelta(hours=-5), minutes=60, key="missed")
    await _on_shift(missed_shift, came)
    penalty = await api(client, "PUT", f"/api/shifts/{missed_shift.id}/attendance",
                        json={"marks": [{"volunteer_id": came.id, "status": "no_show"}]})
    assert penalty.json() == {"changed": 1} and await balance(came.id) == 5
    assert await balances_that_disagree_with_the_ledger() == {}

    page = await client.get(f"/shifts/{shift.id}/attendance")
    assert page.status_code == 200 and "<svg" in page.text and "/checkin/" in page.text


async def test_two_managers_confirming_at_once_award_once(client):
    refs = await make_reference_data()
    await _manager(client)
    await make_staff("lisi", "manager")
    second = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    await log_in(second, "lisi", "Staff2026pass")
    shift = await make_shift(refs, starts_in=dt.timedelta(hours=-2), minutes=90, key="twice")
    volunteers = [await make_volunteer(refs["grid"].id, f"1390000000{n}") for n in range(1, 4)]
    await _on_shift(shift, *volunteers)
    marks = {"marks": [{"volunteer_id": v.id, "status": "present"} for v in volunteers]}
    answers = await asyncio.gather(*[api(c, "PUT", f"/api/shifts/{shift.id}/attendance", json=marks)
                                     for c in (client, second, client, second)])
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(a.json()["changed"] for a in answers) == 3
    assert await PointsEntry.count() == 6  # an hour and a half each, and each one's first-shift bonus
    assert [await balance(v.id) for v in volunteers] == [35, 35, 35]
    await second.aclose()


STATUS_MINUTES = st.one_of(st.just(("present", None)), st.just(("no_show", None)),
                           st.tuples(st.sampled_from(["late", "left_early"]), st.integers(1, 60)))
_examples = itertools.count()
_shared: dict = {}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(STATUS_MINUTES, min_size=1, max_size=6))
async def test_balance_always_equals_the_ledger_and_the_last_mark(client, history):
    """Any sequence of markings and corrections: the kept balance equals the ledger's sum, never goes
    below zero, and ends at what the last marking is worth plus the first-shift bonus."""
    # Hypothesis runs every example inside one test (one emptied database): set up once, then give
    # each example its own shift and volunteer.
    number = next(_examples)
    if not await User.exists().where(User.login == MANAGER[0]):
        await _manager(client)
        _shared["refs"] = await make_reference_data()
    refs = _shared["refs"]
    shift = await make_shift(refs, starts_in=dt.timedelta(hours=-2), minutes=60, key=f"prop:{number}")
    volunteer = await make_volunteer(refs["grid"].id, f"137{number:08d}")
    await _on_shift(shift, volunteer)
    for status, minutes in history:
        mark = {"volunteer_id": volunteer.id, "status": status, "minutes": minutes}
        response = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance", json={"marks": [mark], "reason": "更正"})
        assert response.status_code == 200, response.text
        assert await balances_that_disagree_with_the_ledger() == {}
        assert await balance(volunteer.id) >= 0
    status, minutes = history[-1]
    minutes = 60 if status == "present" else 0 if status == "no_show" else minutes
    bonus = DEFAULT_RULES["first_shift_bonus"] if any(s != "no_show" for s, _m in history) else 0
    worth = shift_worth(DEFAULT_RULES, shift, status, minutes)
    assert await balance(volunteer.id) == bonus + max(worth, -bonus)
