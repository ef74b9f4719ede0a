"""The incentive scheme: versioned rules, stars, badges, leaderboards, the points shop and its
concurrency. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.clock import local_now, local_today
from volunteer_hub.db import write_transaction
from volunteer_hub.incentives.services import masked, rules_on, star_level
from volunteer_hub.incentives.tables import BadgeGrant, IncentiveRules
from volunteer_hub.points import services as points
from volunteer_hub.points.services import balance, balances_that_disagree_with_the_ledger
from volunteer_hub.points.tables import GroupPeriodTotal, PointsPeriodTotal
from volunteer_hub.rewards.tables import Redemption, Reward
from volunteer_hub.shifts.tables import Assignment
from volunteer_hub.volunteers.tables import Unit, Volunteer

MANAGER = ("wangfang", "Staff2026pass")


async def _manager(client):
    await make_staff(MANAGER[0], "manager")
    await log_in(client, *MANAGER)
    assert (await post_form(client, "/language", {"locale": "en", "next": "/"})).status_code == 303


async def _give(volunteer_id: int, amount: int, key: str) -> None:
    async with write_transaction():
        await points.add_entry(volunteer_id, amount, rule="test", source="correction", key=key)


def test_star_levels_follow_the_national_thresholds():
    hours = [100, 300, 600, 1000, 1500]
    assert star_level(0, hours).stars == 0 and star_level(0, hours).progress_percent == 0
    assert star_level(99 * 60 + 59, hours).stars == 0
    assert star_level(100 * 60, hours).stars == 1 and star_level(100 * 60, hours).next_stars_at == 300
    assert star_level(200 * 60, hours).progress_percent == 50
    assert star_level(1500 * 60, hours).stars == 5 and star_level(1500 * 60, hours).next_stars_at is None
    assert star_level(250 * 60, [100, 200, 500, 800, 1000]).stars == 2  # Beijing's table


def test_public_names_are_masked():
    assert [masked(n) for n in ("张小明", "张明", "欧阳娜娜", "李")] == ["张*明", "张*", "欧*娜", "李"]


async def test_rules_change_forward_only_and_are_checked(client):
    await _manager(client)
    tomorrow = local_today() + dt.timedelta(days=1)
    made = await api(client, "POST", "/api/incentives/rules", json={
        "effective_from": tomorrow.isoformat(), "changes": {"points_per_hour": {"escort": 20}, "daily_cap": 80}})
    assert made.status_code == 201, made.text
    assert (await client.get("/api/incentives/rules")).json()["points_per_hour"]["escort"] == 10  # today: unchanged
    later = await rules_on(tomorrow + dt.timedelta(days=30))
    assert later["points_per_hour"]["escort"] == 20 and later["points_per_hour"]["cleanup"] == 10 and later["daily_cap"] == 80
    bad = [
        ({"effective_from": (local_today() - dt.timedelta(days=1)).isoformat(), "changes": {}}, 400, "effective_from"),
        ({"effective_from": (tomorrow + dt.timedelta(days=1)).isoformat(), "changes": {"festival_multiplier": 9}}, 400,
         "festival_multiplier"),
        ({"effective_from": (tomorrow + dt.timedelta(days=1)).isoformat(), "changes": {"star_hours": [300, 100]}}, 400,
         "star_hours"),
        ({"effective_from": tomorrow.isoformat(), "changes": {}}, 409, "effective_from"),
    ]
    for body, status, field in bad:
        response = await api(client, "POST", "/api/incentives/rules", json=body)
        assert response.status_code == status and field in response.json()["errors"], (body, response.text)
    assert await IncentiveRules.count() == 1
    page = await client.get("/incentives/rules")
    assert page.status_code == 200 and tomorrow.isoformat() in page.text


async def test_attendance_earns_badges_once_and_the_record_shows_them(client):
    refs = await make_reference_data()
    await _manager(client)
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    for n in range(2):
        shift = await make_shift(refs, starts_in=dt.timedelta(hours=-3 - n * 24), minutes=40, key=f"escort{n}",
                                 kind="escort", priority=5)
        await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()
        marked = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance",
                           json={"marks": [{"volunteer_id": volunteer.id, "status": "present"}]})
        assert marked.status_code == 200, marked.text
    assert [row["badge"] for row in await BadgeGrant.select(BadgeGrant.badge)] == ["first_escort"]
    phone = await volunteer_client(client, "13900000001")
    record = page_text((await phone.get("/my/hours")).text)
    assert "First escort" in record and "0 stars" in record
    badge = (await client.get("/api/badges/first_escort")).json()
    assert badge["type"] == "BadgeClass" and badge["name"] == "First escort" and badge["criteria"]["narrative"]
    assert (await client.get("/api/badges/nonsense")).status_code == 404


async def test_leaderboards_rank_mask_and_respect_hiding(client):
    refs = await make_reference_data()
    unit = await Unit.objects().first()
    first = await make_volunteer(refs["grid"].id, "13900000001")
    second = await make_volunteer(refs["grid"].id, "13900000002")
    hidden = await make_volunteer(refs["other_grid"].id, "13900000003")
    await Volunteer.update({Volunteer.name: "张小明", Volunteer.unit: unit.id}).where(Volunteer.id == first.id)
    await Volunteer.update({Volunteer.name: "李华", Volunteer.unit: unit.id}).where(Volunteer.id == second.id)
    await Volunteer.update({Volunteer.hide_from_boards: True}).where(Volunteer.id == hidden.id)
    await _give(first.id, 30, "a")
    await _give(second.id, 50, "b")
    await _give(hidden.id, 90, "c")
    await _give(second.id, -20, "d")  # spending or a correction lowers the total it earned
    viewer = await volunteer_client(client, "13900000001")
    board = (await viewer.get("/api/leaderboard", params={"board": "volunteers", "period": "week"})).json()
    assert board == [{"rank": 1, "name": "李*", "points": 30}, {"rank": 2, "name": "张*明", "points": 30}] or board == [
        {"rank": 1, "name": "张*明", "points": 30}, {"rank": 2, "name": "李*", "points": 30}]
    units = (await viewer.get("/api/leaderboard", params={"board": "units", "period": "all"})).json()
    assert units == [{"rank": 1, "name": unit.name, "points": 60}]
    grids = (await viewer.get("/api/leaderboard", params={"board": "grids", "period": "quarter"})).json()
    assert [g["points"] for g in grids] == [90, 60]  # a hidden volunteer still counts for their grid
    assert (await viewer.get("/api/leaderboard", params={"board": "cats"})).status_code == 400
    # The totals the ledger keeps are exactly what recomputing them from the ledger gives.
    async def all_totals():
        people = sorted(tuple(r.values()) for r in await PointsPeriodTotal.select(
            PointsPeriodTotal.volunteer, PointsPeriodTotal.period, PointsPeriodTotal.period_start, PointsPeriodTotal.earned))
        groups = sorted(tuple(r.values()) for r in await GroupPeriodTotal.select(
            GroupPeriodTotal.group_kind, GroupPeriodTotal.group_id, GroupPeriodTotal.period, GroupPeriodTotal.period_start,
            GroupPeriodTotal.earned))
        return people, groups

    kept = await all_totals()
    assert len(kept[0]) == 3 * 5 and len(kept[1]) == (1 + 2) * 5  # one unit; two grids
    assert await points.rebuild_period_totals() == 15
    assert await all_totals() == kept
    page = await viewer.get("/leaderboard")
    assert page.status_code == 200 and "张*明" in page.text and "张小明" not in page.text
    # The viewer leaves the public boards; the unit still counts their points.
    assert (await post_form(viewer, "/leaderboard/visibility", {"hidden": "1"})).status_code == 303
    board = (await viewer.get("/api/leaderboard", params={"board": "volunteers", "period": "week"})).json()
    assert [row["name"] for row in board] == ["李*"]
    assert (await viewer.get("/api/leaderboard", params={"board": "units", "period": "all"})).json()[0]["points"] == 60


async def test_points_shop_redeem_reject_refund_and_fulfil(client):
    refs = await make_reference_data()
    await _manager(client)
    today = local_today().isoformat()
    bad = [{"name": "毛巾", "points_cost": 0, "stock": 5, "active_from": today},
           {"name": "毛巾", "points_cost": 10, "stock": -1, "active_from": today},
           {"name": "", "points_cost": 10, "stock": 1, "active_from": today},
           {"name": "毛巾", "points_cost": 10, "stock": 1, "active_from": today, "active_until": "2020-01-01"}]
    for body in bad:
        assert (await api(client, "POST", "/api/rewards", json=body)).status_code == 400, body
    assert await Reward.count() == 0
    reward = (await api(client, "POST", "/api/rewards", json={"name": "环保袋", "points_cost": 10, "stock": 1,
                                                               "active_from": today})).json()
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    await _give(volunteer.id, 25, "start")
    phone = await volunteer_client(client, "13900000001")
    taken = await api(phone, "POST", f"/api/rewards/{reward['id']}/redeem")
    assert taken.status_code == 201 and await balance(volunteer.id) == 15
    empty = await api(phone, "POST", f"/api/rewards/{reward['id']}/redeem")
    assert empty.status_code == 409 and "out of stock" in empty.json()["detail"]
    assert (await api(phone, "POST", "/api/redemptions/1/decision", json={"fulfil": True})).status_code == 403
    no_reason = await api(client, "POST", f"/api/redemptions/{taken.json()['id']}/decision", json={"fulfil": False})
    assert no_reason.status_code == 400 and await balance(volunteer.id) == 15
    rejected = await api(client, "POST", f"/api/redemptions/{taken.json()['id']}/decision",
                         json={"fulfil": False, "reason": "已下架"})
    assert rejected.json()["status"] == "rejected" and await balance(volunteer.id) == 25
    assert (await Reward.objects().first()).stock == 1
    again = await api(client, "POST", f"/api/redemptions/{taken.json()['id']}/decision", json={"fulfil": True})
    assert again.status_code == 409
    second = await post_form(phone, f"/rewards/{reward['id']}/redeem", {})
    assert second.status_code == 303 and await balance(volunteer.id) == 15
    pending = await client.get("/rewards/manage")
    assert "环保袋" in page_text(pending.text)
    redemption = await Redemption.objects().where(Redemption.status == "requested").first()
    handed = await post_form(client, f"/rewards/redemptions/{redemption.id}", {"decision": "fulfil"})
    assert handed.status_code == 303
    assert (await Redemption.objects().where(Redemption.id == redemption.id).first()).status == "fulfilled"
    assert (await phone.get("/rewards/manage")).status_code == 403
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_twenty_redemptions_against_a_balance_for_five(client):
    refs = await make_reference_data()
    await _manager(client)
    reward = (await api(client, "POST", "/api/rewards", json={"name": "雨伞", "points_cost": 10, "stock": 100,
                                                               "active_from": local_today().isoformat()})).json()
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    await _give(volunteer.id, 55, "start")
    phones = [await volunteer_client(client, "13900000001") for _ in range(4)]
    answers = await asyncio.gather(*[api(phones[n % 4], "POST", f"/api/rewards/{reward['id']}/redeem") for n in range(20)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 5 + [409] * 15, statuses
    assert await balance(volunteer.id) == 5
    assert (await Reward.objects().first()).stock == 95
    assert await Redemption.count() == 5
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_a_late_cancellation_costs_points_but_never_below_zero(client):
    refs = await make_reference_data()
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    broke = await make_volunteer(refs["grid"].id, "13900000002")
    await _give(volunteer.id, 12, "start")
    soon = await make_shift(refs, starts_in=dt.timedelta(hours=2), seats_max=3, key="soon")
    for phone_number in ("13900000001", "13900000002"):
        phone = await volunteer_client(client, phone_number)
        assert (await api(phone, "POST", f"/api/shifts/{soon.id}/signup", json={})).status_code == 201
        assert (await api(phone, "DELETE", f"/api/shifts/{soon.id}/signup")).json() == {"late": True}
    assert await balance(volunteer.id) == 7 and await balance(broke.id) == 0
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_four_fridays_in_a_row_earn_a_streak_bonus_and_a_badge_once(client):
    refs = await make_reference_data()
    await _manager(client)
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    today = local_today()
    last_friday = today - dt.timedelta(days=(today.weekday() - 4) % 7 or 7)
    shifts = []
    for weeks_ago in (3, 2, 1, 0):
        day = last_friday - dt.timedelta(weeks=weeks_ago)
        starts_in = dt.datetime.combine(day, dt.time(15, 0)) - local_now()  # that Friday at 15:00
        shift = await make_shift(refs, starts_in=starts_in, minutes=60, key=f"friday{weeks_ago}")
        await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()
        shifts.append(shift)
    assert {s.day for s in shifts} == {last_friday - dt.timedelta(weeks=n) for n in range(4)}
    for shift in shifts:
        for _attempt in range(2):  # marking again pays nothing more
            marked = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance",
                               json={"marks": [{"volunteer_id": volunteer.id, "status": "present"}]})
            assert marked.status_code == 200, marked.text
    rules = await rules_on(today)
    streaks = await points.ledger(volunteer.id)
    assert [line.rule for line in streaks].count("friday_streak") == 1
    assert await balance(volunteer.id) == 4 * 10 + rules["first_shift_bonus"] + rules["streak_bonus"]
    assert await BadgeGrant.count().where(BadgeGrant.badge == "friday_streak_4") == 1
    phone = await volunteer_client(client, "13900000001")
    profile = page_text((await phone.get("/profile")).text)
    assert "0 stars" in profile and "4.0 of 100 hours to the next star" in profile
