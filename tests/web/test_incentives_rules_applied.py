"""The incentive rules applied through the roster: the four multipliers, the daily cap, the
school-week streak (holiday weeks neither break nor count), the escort-count, all-weather and
festival badges, the month and year boards for individuals, and a volunteer kept out of the rules
page. Shifts and attendance that only set the scene are written straight to the tables; the marking
that earns something goes through HTTP, as a coordinator would do it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.attendance.tables import Attendance
from volunteer_hub.clock import local_now, local_today, week_start
from volunteer_hub.db import write_transaction
from volunteer_hub.incentives.services import DEFAULT_RULES
from volunteer_hub.incentives.tables import BadgeGrant, IncentiveRules
from volunteer_hub.points import services as points
from volunteer_hub.points.services import balance, balances_that_disagree_with_the_ledger
from volunteer_hub.points.tables import PointsBalance, PointsEntry
from volunteer_hub.schools.tables import School, SchoolClosure
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import Assignment, Shift
from volunteer_hub.volunteers.tables import Volunteer


async def _manager(client) -> None:
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")


async def _rules(**changes) -> dict:
    """A version of the rules in force since long before every shift here (the rules page only adds
    versions from today on; a past version is set up straight in the table)."""
    rules = copy.deepcopy(DEFAULT_RULES)
    rules.update(first_shift_bonus=0, streak_bonus=0, daily_cap=10_000)
    rules.update(changes)
    await IncentiveRules(effective_from=local_today() - dt.timedelta(days=400), params=rules).save()
    return rules


async def _shift_at(refs, day: dt.date, at: dt.time, key: str, minutes: int = 60, **overrides) -> Shift:
    return await make_shift(refs, starts_in=dt.datetime.combine(day, at) - local_now(), minutes=minutes, key=key,
                            **overrides)


async def _mark(client, shift: Shift, volunteer: Volunteer, status: str = "present") -> None:
    await Assignment(shift=shift.id, volunteer=volunteer.id, status="confirmed", source="self").save()
    marked = await api(client, "PUT", f"/api/shifts/{shift.id}/attendance",
                       json={"marks": [{"volunteer_id": volunteer.id, "status": status}]})
    assert marked.status_code == 200 and marked.json() == {"changed": 1}, marked.text


async def _badges(volunteer: Volunteer) -> list[str]:
    return sorted(row["badge"] for row in await BadgeGrant.select(BadgeGrant.badge).where(BadgeGrant.volunteer == volunteer.id))


async def test_each_multiplier_applies_on_its_own_and_together_and_earns_its_badges(client):
    refs = await make_reference_data()
    await _manager(client)
    ordinary, stormy = local_today() - dt.timedelta(days=3), local_today() - dt.timedelta(days=2)
    rules = await _rules(hard_to_fill_multiplier=1.5, early_escort_multiplier=1.2, bad_weather_multiplier=2.0,
                         festival_multiplier=3.0, bad_weather_days=[stormy.isoformat()])
    early = dt.time(7, 0)
    cases = {  # name: (day, start, shift fields, which multipliers should apply)
        "plain": (ordinary, dt.time(9, 0), {}, []),
        "hard": (ordinary, dt.time(9, 0), {"priority": rules["hard_to_fill_priority"]}, ["hard_to_fill"]),
        "early escort": (ordinary, early, {"kind": "escort"}, ["early_escort"]),
        "escort at the limit": (ordinary, dt.time(7, 30), {"kind": "escort"}, []),
        "early cleanup": (ordinary, early, {}, []),
        "bad weather": (stormy, dt.time(9, 0), {}, ["bad_weather"]),
        "festival": (ordinary, dt.time(9, 0), {"kind": "festival"}, ["festival"]),
        "all at once": (stormy, early, {"kind": "escort", "priority": 9}, ["hard_to_fill", "early_escort", "bad_weather"]),
    }
    for n, (name, (day, start, fields, multipliers)) in enumerate(cases.items()):
        volunteer = await make_volunteer(refs["grid"].id, f"1390000{n:04d}")
        shift = await _shift_at(refs, day, start, f"case{n}", **fields)
        await _mark(client, shift, volunteer)
        factor = 1.0
        for multiplier in multipliers:
            factor *= rules[f"{multiplier}_multiplier"]
        expected = round(rules["points_per_hour"][shift.kind] * factor)
        assert await balance(volunteer.id) == expected, name
        badges = await _badges(volunteer)
        assert ("all_weather" in badges) == (day == stormy), name
        assert ("festival" in badges) == (fields.get("kind") == "festival"), name
        assert ("first_escort" in badges) == (fields.get("kind") == "escort"), name
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_the_daily_cap_limits_one_day_and_not_the_next(client):
    refs = await make_reference_data()
    await _manager(client)
    rules = await _rules(daily_cap=50)
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    day = local_today() - dt.timedelta(days=2)
    worth = rules["points_per_hour"]["cleanup"] * 2  # a two-hour shift
    expected, paid = [], 0
    for n, hour in enumerate((8, 11, 14)):
        shift = await _shift_at(refs, day, dt.time(hour, 0), f"capped{n}", minutes=120)
        await _mark(client, shift, volunteer)
        expected.append(min(worth, rules["daily_cap"] - paid))
        paid += expected[-1]
    assert 3 * worth > rules["daily_cap"] > 2 * worth  # the third shift really hits the cap
    assert await balance(volunteer.id) == rules["daily_cap"]
    amounts = [row["amount"] for row in await PointsEntry.select(PointsEntry.amount).order_by(PointsEntry.id)]
    assert amounts == expected and sum(amounts) == rules["daily_cap"]
    next_day = await _shift_at(refs, day + dt.timedelta(days=1), dt.time(8, 0), "next", minutes=120)
    await _mark(client, next_day, volunteer)
    assert await balance(volunteer.id) == rules["daily_cap"] + worth
    # Correcting the first shift to one hour: it is worth half, and the day stays within the cap.
    first = await Shift.objects().where(Shift.source_key == "capped0").first()
    corrected = await api(client, "PUT", f"/api/shifts/{first.id}/attendance", json={
        "marks": [{"volunteer_id": volunteer.id, "status": "late", "minutes": 60}], "reason": "晚到"})
    assert corrected.status_code == 200
    assert await balance(volunteer.id) == rules["daily_cap"] - expected[0] + worth // 2 + worth
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_school_weeks_in_a_row_earn_a_bonus_and_a_holiday_week_does_not_break_them(client):
    refs = await make_reference_data()
    await _manager(client)
    rules = await _rules(streak_bonus=30, streak_length=4)
    open_school = School(name="新蒲小学", address="新蒲路2号", grid=refs["grid"].id, latitude=27.72, longitude=106.98)
    await open_school.save()
    mondays = [week_start(local_today()) - dt.timedelta(weeks=5 - k) for k in range(5)]  # the last is last week
    holiday = mondays[2]
    for n in range(5):  # the whole week is closed at the first school only
        await SchoolClosure(school=refs["school"].id, day=holiday + dt.timedelta(days=n), reason="国庆").save()
    closed_only_four_days = School(name="遵义路小学", address="遵义路3号", grid=refs["grid"].id, latitude=27.72, longitude=106.98)
    await closed_only_four_days.save()
    for n in range(4):  # Monday to Thursday: the Friday is a school day, so the week is not a holiday
        await SchoolClosure(school=closed_only_four_days.id, day=holiday + dt.timedelta(days=n), reason="调休").save()
    people = {}
    for n, school in enumerate((refs["school"], open_school, closed_only_four_days)):
        volunteer = await make_volunteer(refs["grid"].id, f"1390000000{n}")
        people[school.name] = volunteer
        for k, monday in enumerate(mondays):
            if monday == holiday:
                continue  # no escort that week
            shift = await _shift_at(refs, monday, dt.time(7, 40), f"escort:{n}:{k}", kind="escort", school=school.id)
            await _mark(client, shift, volunteer)

    async def streak_bonuses(volunteer: Volunteer) -> list[int]:
        return [row["amount"] for row in await PointsEntry.select(PointsEntry.amount).where(
            (PointsEntry.volunteer == volunteer.id) & (PointsEntry.rule == "school_week_streak"))]

    # Four escort weeks around the holiday week: one bonus, paid once though every marking re-checks.
    assert await streak_bonuses(people[refs["school"].name]) == [rules["streak_bonus"]]
    # Where the school was open that week, the empty week breaks the run (2 + 2 weeks: no bonus).
    assert await streak_bonuses(people[open_school.name]) == []
    assert await streak_bonuses(people[closed_only_four_days.name]) == []
    # Marking again pays nothing more.
    last = await Shift.objects().where(Shift.source_key == "escort:0:4").first()
    again = await api(client, "PUT", f"/api/shifts/{last.id}/attendance",
                      json={"marks": [{"volunteer_id": people[refs["school"].name].id, "status": "present"}]})
    assert again.json() == {"changed": 0}
    assert await streak_bonuses(people[refs["school"].name]) == [rules["streak_bonus"]]
    assert await balances_that_disagree_with_the_ledger() == {}


async def test_ten_fifty_and_a_hundred_escorts_earn_their_badges_once(client):
    refs = await make_reference_data()
    await _manager(client)
    await _rules()
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    day = local_today() - dt.timedelta(days=1)
    done = 0

    async def escorts_before(count: int) -> None:
        """Verified escorts straight in the tables, so that the next marking is the ``count``-th."""
        nonlocal done
        start = dt.datetime.combine(day, dt.time(7, 40))
        site = refs["site"]
        shifts = [Shift(source_key=f"past:{done + n}", site=site.id, grid=site.grid, kind="escort", title="护学", day=day,
                        starts_at=start, ends_at=start + dt.timedelta(minutes=40), latitude=site.latitude,
                        longitude=site.longitude, seats_min=1, seats_ideal=1, seats_max=1, priority=3)
                  for n in range(count - 1 - done)]
        await Shift.insert(*shifts)
        attended = {row["shift"] for row in await Attendance.select(Attendance.shift)}
        ids = [row["id"] for row in await Shift.select(Shift.id).where(Shift.source_key.like("past:%"))
               if row["id"] not in attended]
        await Attendance.insert(*[Attendance(shift=shift_id, volunteer=volunteer.id, status="present", verified_minutes=40,
                                             source="roster", revision=1) for shift_id in ids])
        done = count - 1

    earned: list[str] = []
    for count, badge in ((10, "escorts_10"), (50, "escorts_50"), (100, "escorts_100")):
        await escorts_before(count)
        assert await Attendance.count() == count - 1
        assert badge not in await _badges(volunteer)
        shift = await _shift_at(refs, day, dt.time(16, 0), f"mark:{count}", minutes=40, kind="escort")
        await _mark(client, shift, volunteer)
        done += 1
        earned += (["first_escort"] if count == 10 else []) + [badge]
        assert await _badges(volunteer) == sorted(earned), count
    assert await BadgeGrant.count() == 4  # each once, though every marking checked them all


async def test_a_volunteer_cannot_open_or_change_the_incentive_rules(client):
    refs = await make_reference_data()
    await make_volunteer(refs["grid"].id, "13900000001")
    phone = await volunteer_client(client, "13900000001")
    page = await phone.get("/incentives/rules")
    assert page.status_code == 403 and "您没有权限打开此页面。" in page_text(page.text)
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    posted = await post_form(phone, "/incentives/rules", {"effective_from": tomorrow, "daily_cap": "1"})
    assert posted.status_code == 403
    assert (await phone.get("/api/incentives/rules")).status_code == 403
    api_post = await api(phone, "POST", "/api/incentives/rules", json={"effective_from": tomorrow, "changes": {"daily_cap": 1}})
    assert api_post.status_code == 403 and api_post.json()["detail"]
    assert await IncentiveRules.count() == 0


async def test_month_and_year_boards_for_individuals_count_only_their_period(client):
    refs = await make_reference_data()
    zone = ZoneInfo(get_settings().timezone)
    today = local_today()
    now_earner, month_earner, old_earner = [await make_volunteer(refs["grid"].id, f"1390000000{n}") for n in range(3)]
    for volunteer, name in ((now_earner, "张小明"), (month_earner, "李红梅"), (old_earner, "王大力")):
        await Volunteer.update({Volunteer.name: name}).where(Volunteer.id == volunteer.id)
    async with write_transaction():
        await points.add_entry(now_earner.id, 30, rule="test", source="correction", key="now")
    # Earlier entries, written at past moments (add_entry always writes now), then the totals rebuilt.
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    two_years_ago = today.replace(year=today.year - 2, month=6, day=1)
    for volunteer, amount, day in ((month_earner, 50, last_month), (old_earner, 90, two_years_ago)):
        await PointsEntry(volunteer=volunteer.id, amount=amount, rule="test", source="correction",
                          idempotency_key=f"past:{volunteer.id}", created_at=dt.datetime.combine(day, dt.time(12), tzinfo=zone)).save()
        await PointsBalance(volunteer=volunteer.id, balance=amount).save()
    await points.rebuild_period_totals()
    assert await balances_that_disagree_with_the_ledger() == {}
    viewer = await volunteer_client(client, "13900000000")

    async def board(period: str) -> list[tuple[str, int]]:
        answer = await viewer.get("/api/leaderboard", params={"board": "volunteers", "period": period})
        assert answer.status_code == 200
        return [(row["name"], row["points"]) for row in answer.json()]

    assert await board("month") == [("张*明", 30)]
    year = [("李*梅", 50), ("张*明", 30)] if last_month.year == today.year else [("张*明", 30)]
    assert await board("year") == year
    assert await board("all") == [("王*力", 90), ("李*梅", 50), ("张*明", 30)]
    for period, rows in (("month", [("张*明", 30)]), ("year", year)):
        text = page_text((await viewer.get("/leaderboard", params={"board": "volunteers", "period": period})).text)
        for name, _points in rows:
            assert name in text
        assert "王*力" not in text and "王大力" not in text
