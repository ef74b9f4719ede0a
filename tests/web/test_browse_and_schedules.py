"""Browsing shifts by kind and grid (page and API), the cancellation cut-off and the planning horizon
as settings, a one-off Friday activity made on the page, and a site's printable roster."""

from __future__ import annotations

import datetime as dt

import pytest
from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub import settings as settings_module
from volunteer_hub.activities.services import next_friday
from volunteer_hub.clock import local_now, local_today, week_start
from volunteer_hub.shifts.services import expand_all
from volunteer_hub.shifts.tables import Assignment, Shift
from volunteer_hub.sites.tables import Site


@pytest.fixture
def setting(monkeypatch):
    """Change one environment setting for the rest of the test; the cached settings follow it and are
    rebuilt from the real environment afterwards."""

    def change(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        settings_module.get_settings.cache_clear()

    yield change
    settings_module.get_settings.cache_clear()


async def _manager(client):
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")


def _signup_actions(html: str) -> set[int]:
    import re

    return {int(n) for n in re.findall(r'action="/shifts/(\d+)/signup"', html)}


async def test_browse_by_kind_and_by_grid_on_the_page_and_in_the_api(client):
    refs = await make_reference_data()
    other_site = Site(name="二号网格老旧小区", category="old_estate", grid=refs["other_grid"].id, latitude=27.73,
                      longitude=106.99)
    await other_site.save()
    cleanup_here = await make_shift(refs, key="k1", kind="cleanup", seats_max=3)
    publicity_here = await make_shift(refs, key="k2", kind="civility_publicity", seats_max=3,
                                      starts_in=dt.timedelta(days=2, hours=2))
    cleanup_there = await make_shift(refs, key="k3", kind="cleanup", seats_max=3, site=other_site.id,
                                     grid=refs["other_grid"].id, starts_in=dt.timedelta(days=3))
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    every = {cleanup_here.id, publicity_here.id, cleanup_there.id}
    grid, other = str(refs["grid"].id), str(refs["other_grid"].id)
    cases = [
        ({}, every),
        ({"kind": "cleanup"}, {cleanup_here.id, cleanup_there.id}),
        ({"kind": "civility_publicity"}, {publicity_here.id}),
        ({"kind": "festival"}, set()),
        ({"grid": grid}, {cleanup_here.id, publicity_here.id}),
        ({"grid": other}, {cleanup_there.id}),
        ({"grid": other, "kind": "civility_publicity"}, set()),
        ({"grid": grid, "kind": "cleanup"}, {cleanup_here.id}),
    ]
    for params, expected in cases:
        listed = await volunteer.get("/api/shifts", params=params)
        assert listed.status_code == 200, (params, listed.text)
        assert {card["id"] for card in listed.json()} == expected, params
        assert all(card["kind"] == params["kind"] for card in listed.json()) if "kind" in params else True
        page = await volunteer.get("/shifts", params=params)
        assert page.status_code == 200 and _signup_actions(page.text) == expected, params
    # The choice stays selected on the page.
    page = await volunteer.get("/shifts", params={"kind": "cleanup", "grid": other})
    assert 'value="cleanup" selected' in page.text and f'value="{other}" selected' in page.text
    # Bad filters: a clear reason in the volunteer's language, and no list.
    for params, field, words in (({"kind": "party"}, "kind", "请从列表中选择类型"), ({"grid": "two"}, "grid", "请填写数字")):
        refused = await volunteer.get("/api/shifts", params=params)
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.text
        assert words in refused.json()["errors"][field]
        page = await volunteer.get("/shifts", params=params)
        assert page.status_code == 400 and words in page_text(page.text) and _signup_actions(page.text) == set()
        assert "没有符合条件的班次" not in page_text(page.text)  # the list is not empty, it was not looked up
    await volunteer.aclose()


async def test_the_cancellation_cut_off_follows_its_setting(client, setting):
    refs = await make_reference_data()
    in_three_hours = await make_shift(refs, key="soon", starts_in=dt.timedelta(hours=3))
    in_two_days = await make_shift(refs, key="later", starts_in=dt.timedelta(hours=44))
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")

    async def leave(shift: Shift) -> bool:
        assert (await api(volunteer, "POST", f"/api/shifts/{shift.id}/signup", json={})).status_code == 201
        left = await api(volunteer, "DELETE", f"/api/shifts/{shift.id}/signup")
        assert left.status_code == 200, left.text
        row = await Assignment.select(Assignment.late_cancellation).where(Assignment.shift == shift.id).order_by(
            Assignment.id, ascending=False).first()
        assert row["late_cancellation"] is left.json()["late"]
        return left.json()["late"]

    setting("CANCEL_CUTOFF_HOURS", "1")
    assert await leave(in_three_hours) is False  # 3 hours ahead is outside a 1-hour cut-off
    assert await leave(in_two_days) is False
    setting("CANCEL_CUTOFF_HOURS", "48")
    assert await leave(in_two_days) is True  # under 2 days ahead is inside a 48-hour cut-off
    # The page says which cut-off applied, written as people write hours.
    assert (await post_form(volunteer, f"/shifts/{in_three_hours.id}/signup", {})).status_code == 303
    left = await post_form(volunteer, f"/shifts/{in_three_hours.id}/leave", {"next": "/my/shifts"})
    assert left.status_code == 303
    text = page_text((await volunteer.get("/my/shifts")).text)
    assert "距开始不足 48 小时，记为迟退" in text and "48.0" not in text
    setting("CANCEL_CUTOFF_HOURS", "12")
    assert await leave(in_two_days) is False  # the default again: 44 hours ahead is in time
    await volunteer.aclose()


async def test_expansion_stops_at_the_planning_horizon(client, setting):
    refs = await make_reference_data()
    await _manager(client)
    friday = next_friday(local_today() + dt.timedelta(days=1))
    body = {"site_id": refs["site"].id, "title": "每周清扫", "kind": "cleanup", "first_date": friday.isoformat(),
            "start": "15:00", "end": "17:00", "seats_min": 1, "seats_max": 4, "repeat_weekly": True,
            "until_date": (friday + dt.timedelta(weeks=20)).isoformat()}

    def fridays_until(horizon_days: int) -> list[dt.date]:
        last = local_today() + dt.timedelta(days=horizon_days)
        return [friday + dt.timedelta(weeks=n) for n in range(21) if friday + dt.timedelta(weeks=n) <= last]

    setting("PLANNING_HORIZON_DAYS", "15")
    made = await api(client, "POST", "/api/activities", json=body)
    assert made.status_code == 201, made.text
    days = sorted(row["day"] for row in await Shift.select(Shift.day).where(Shift.activity == made.json()["id"]))
    assert days == fridays_until(15) and 2 <= len(days) <= 3
    assert max(days) <= local_today() + dt.timedelta(days=15)
    assert (await expand_all()).created == 0  # nothing beyond the horizon on a second pass either
    setting("PLANNING_HORIZON_DAYS", "40")
    assert (await expand_all()).created == len(fridays_until(40)) - len(days) > 0
    days = sorted(row["day"] for row in await Shift.select(Shift.day).where(Shift.activity == made.json()["id"]))
    assert days == fridays_until(40)


async def test_a_one_off_friday_activity_made_on_the_page_is_one_dated_shift(client):
    refs = await make_reference_data()
    await _manager(client)
    friday = next_friday(local_today() + dt.timedelta(days=1))
    made = await post_form(client, "/activities/new", {
        "site": str(refs["site"].id), "title": "文明宣传一次", "kind": "civility_publicity", "first_date": friday.isoformat(),
        "start": "15:30", "end": "17:00", "seats_min": "2", "seats_max": "5"})  # repeat_weekly not ticked
    assert made.status_code == 303, page_text(made.text)[-400:]
    shifts = await Shift.objects().where(Shift.title.like("%文明宣传一次%"))
    assert len(shifts) == 1
    shift = shifts[0]
    assert shift.day == friday and shift.day.weekday() == 4
    assert (shift.starts_at, shift.ends_at) == (dt.datetime.combine(friday, dt.time(15, 30)),
                                                dt.datetime.combine(friday, dt.time(17, 0)))
    assert (shift.kind, shift.seats_min, shift.seats_max, shift.site) == ("civility_publicity", 2, 5, refs["site"].id)
    assert (await expand_all()).created == 0 and await Shift.count() == 1
    # A volunteer sees it once, on that date.
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    cards = (await volunteer.get("/api/shifts")).json()
    assert [(card["id"], card["day"]) for card in cards] == [(shift.id, friday.isoformat())]
    assert _signup_actions((await volunteer.get("/shifts")).text) == {shift.id}
    await volunteer.aclose()


async def test_a_managers_printable_roster_of_one_site(client):
    refs = await make_reference_data()
    other_site = Site(name="城中村5号点", category="urban_village", grid=refs["grid"].id, latitude=27.7, longitude=106.9)
    await other_site.save()
    # At 09:00 a week ahead, so that "empty" (two hours later) falls on the same day and week whatever
    # the hour now (from 22:00 on a Sunday, "now + 7 days + 2 hours" was already the next week).
    nine = dt.datetime.combine(local_today() + dt.timedelta(days=7), dt.time(9, 0)) - local_now()
    here = await make_shift(refs, key="here", seats_min=2, seats_max=3, starts_in=nine)
    empty = await make_shift(refs, key="empty", seats_min=1, seats_max=3, title="空班次", starts_in=nine + dt.timedelta(hours=2))
    there = await make_shift(refs, key="there", site=other_site.id, title="别处的班次", starts_in=nine)
    next_week = await make_shift(refs, key="next-week", title="下周的班次", starts_in=nine + dt.timedelta(days=7))
    for phone in ("13900000001", "13900000002"):
        await make_volunteer(refs["grid"].id, phone)
    first, second = [await volunteer_client(client, phone) for phone in ("13900000001", "13900000002")]
    assert (await api(first, "POST", f"/api/shifts/{here.id}/signup", json={})).status_code == 201
    assert (await api(second, "POST", f"/api/shifts/{there.id}/signup", json={})).status_code == 201
    await _manager(client)
    monday = week_start(here.day)

    page = await client.get("/rosters", params={"week": here.day.isoformat(), "site": refs["site"].id})
    assert page.status_code == 200
    text = page_text(page.text)
    assert f"{refs['site'].name} · {monday.isoformat()} 这一周" in text  # the heading: which site, which week
    assert here.title in text and "空班次" in text
    assert f"{here.starts_at:%H:%M}-{here.ends_at:%H:%M}" in text
    assert "志愿者0001 13900000001" in text and "1/2" in text  # who, their number, filled against the minimum
    assert "别处的班次" not in text and "13900000002" not in text and "下周的班次" not in text
    assert page.text.count("<svg") == 2  # a check-in code per shift
    assert 'class="short"' in page.text  # both are short of their minimum
    assert f'value="{refs["site"].id}" selected' in page.text
    roster = (await client.get("/api/rosters", params={"week": monday.isoformat(), "site": refs["site"].id})).json()
    assert [(entry["shift"]["id"], entry["people"]) for entry in roster] == [
        (here.id, [{"name": "志愿者0001", "phone": "13900000001"}]), (empty.id, [])]
    later = (await client.get("/api/rosters", params={"week": next_week.day.isoformat(), "site": refs["site"].id})).json()
    assert [entry["shift"]["id"] for entry in later] == [next_week.id]
    # Unknown site, both or neither place: refused with a reason.
    assert (await client.get("/api/rosters", params={"site": 424242})).status_code == 404
    both = await client.get("/api/rosters", params={"site": refs["site"].id, "school": refs["school"].id})
    assert both.status_code == 400
    for person in (first, second):
        await person.aclose()
