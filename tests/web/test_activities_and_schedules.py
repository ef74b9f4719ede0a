"""Managers keep sites and Friday activities; requests and activities expand into dated shifts
(idempotently, skipping closed days, leaving the past alone); rosters and the week overview."""

from __future__ import annotations

import datetime as dt

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.activities.services import next_friday
from volunteer_hub.activities.tables import Activity
from volunteer_hub.clock import local_today, week_start
from volunteer_hub.notifications.tables import Notification
from volunteer_hub.schools.tables import SchoolCoordinator
from volunteer_hub.shifts.services import expand_all
from volunteer_hub.shifts.tables import Assignment, Shift
from volunteer_hub.sites.tables import Site

MANAGER = ("wangfang", "Staff2026pass")


async def _manager(client):
    await make_staff(MANAGER[0], "manager")
    await log_in(client, *MANAGER)
    assert (await post_form(client, "/language", {"locale": "en", "next": "/"})).status_code == 303


def _activity(site: int, **changes) -> dict:
    friday = next_friday(local_today() + dt.timedelta(days=1))
    body = {"site_id": site, "title": "背街小巷清扫", "kind": "cleanup", "first_date": friday.isoformat(),
            "start": "15:00", "end": "17:00", "seats_min": 2, "seats_max": 4, "repeat_weekly": True,
            "until_date": (friday + dt.timedelta(weeks=2)).isoformat()}
    body.update(changes)
    return body


async def test_sites_api_and_pages(client):
    refs = await make_reference_data()
    await _manager(client)
    made = await api(client, "POST", "/api/sites", json={"name": "城中村3号点", "category": "urban_village",
                                                          "grid_id": refs["grid"].id, "latitude": 27.7, "longitude": 106.9})
    assert made.status_code == 201, made.text
    duplicate = await api(client, "POST", "/api/sites", json={"name": "城中村3号点", "category": "park",
                                                               "grid_id": refs["grid"].id, "latitude": 27.7, "longitude": 106.9})
    assert duplicate.status_code == 409
    bad = await api(client, "POST", "/api/sites", json={"name": "x", "category": "moon", "grid_id": 999,
                                                         "latitude": 95, "longitude": 106.9})
    assert bad.status_code == 400 and set(bad.json()["errors"]) >= {"category", "grid"}
    assert await Site.count() == 2
    page = await post_form(client, "/sites", {"name": "", "category": "park", "grid": str(refs["grid"].id),
                                              "latitude": "27.7", "longitude": "106.9"})
    assert page.status_code == 400 and await Site.count() == 2
    renamed = await post_form(client, f"/sites/{made.json()['id']}", {
        "name": "城中村三号点", "category": "urban_village", "grid": str(refs["grid"].id), "latitude": "27.7",
        "longitude": "106.9"})
    assert renamed.status_code == 303
    assert "城中村三号点" in page_text((await client.get("/sites")).text)


async def test_activity_expands_into_weekly_shifts_idempotently(client):
    refs = await make_reference_data()
    await _manager(client)
    made = await api(client, "POST", "/api/activities", json=_activity(refs["site"].id))
    assert made.status_code == 201, made.text
    shifts = await Shift.select(Shift.day, Shift.starts_at, Shift.seats_max).where(
        Shift.activity == made.json()["id"]).order_by(Shift.day)
    first = dt.date.fromisoformat(made.json()["first_date"])
    assert [s["day"] for s in shifts] == [first + dt.timedelta(weeks=n) for n in range(3)]
    assert all(s["day"].weekday() == 4 and s["starts_at"].hour == 15 and s["seats_max"] == 4 for s in shifts)
    again = await expand_all()
    assert (again.created, again.updated, again.cancelled) == (0, 0, 0)
    assert await Shift.count() == 3
    page = page_text((await client.get("/activities")).text)
    assert "背街小巷清扫" in page


async def test_bad_activities_are_refused_and_nothing_is_stored(client):
    refs = await make_reference_data()
    await _manager(client)
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    cases = [
        ({"first_date": yesterday, "repeat_weekly": False}, "first_date"),
        ({"start": "17:00", "end": "15:00"}, "time"),
        ({"seats_min": 0}, "seats_min"),
        ({"seats_min": -3}, "seats_min"),
        ({"seats_min": 5, "seats_max": 2}, "seats_max"),
        ({"site_id": 999999}, "site"),
        ({"kind": "party"}, "kind"),
        ({"until_date": yesterday}, "until_date"),
        ({"required_skills": ["juggling"]}, "required_skills"),
    ]
    for changes, field in cases:
        response = await api(client, "POST", "/api/activities", json=_activity(refs["site"].id, **changes))
        assert response.status_code == 400, (changes, response.text)
        assert field in response.json()["errors"], (changes, response.json())
    form = await post_form(client, "/activities/new", {"site": str(refs["site"].id), "title": "清扫", "kind": "cleanup",
                                                       "first_date": yesterday, "start": "15:00", "end": "17:00",
                                                       "seats_min": "2", "seats_max": "4"})
    assert form.status_code == 400 and "must not be in the past" in page_text(form.text)
    assert await Activity.count() == 0 and await Shift.count() == 0
    assert (await api(client, "PUT", "/api/activities/424242", json=_activity(refs["site"].id))).status_code == 404


async def test_editing_an_activity_moves_future_shifts_and_tells_people_and_cancelling_tells_them(client):
    refs = await make_reference_data()
    await _manager(client)
    made = (await api(client, "POST", "/api/activities", json=_activity(refs["site"].id))).json()
    first_shift = await Shift.objects().where(Shift.activity == made["id"]).order_by(Shift.day).first()
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    assert (await api(volunteer, "POST", f"/api/shifts/{first_shift.id}/signup", json={})).status_code == 201
    # A past shift of the same activity (as if it had happened last week) must not change.
    past_day = first_shift.day - dt.timedelta(weeks=1)
    past = await make_shift(refs, key=f"activity:{made['id']}:{past_day.isoformat()}", activity=made["id"],
                            starts_in=dt.timedelta(days=-3))

    moved = await api(client, "PUT", f"/api/activities/{made['id']}", json=_activity(refs["site"].id, start="09:00",
                                                                                        end="11:00"))
    assert moved.status_code == 200, moved.text
    future = await Shift.objects().where((Shift.activity == made["id"]) & (Shift.id != past.id))
    assert {s.starts_at.hour for s in future} == {9}
    assert (await Shift.objects().where(Shift.id == past.id).first()).starts_at == past.starts_at
    assert await Assignment.count().where(Assignment.status == "confirmed") == 1  # still on the moved shift
    assert await Notification.count().where(Notification.kind == "shift_changed") == 1

    cancelled = await api(client, "POST", f"/api/activities/{made['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["is_cancelled"]
    assert await Shift.count().where((Shift.activity == made["id"]) & (Shift.status == "open")) == 1  # only the past one
    assert await Notification.count().where(Notification.kind == "shift_cancelled") == 1
    assert await Assignment.count().where(Assignment.status == "confirmed") == 0
    refused = await api(client, "PUT", f"/api/activities/{made['id']}", json=_activity(refs["site"].id))
    assert refused.status_code == 409


async def _school_with_request(client, refs) -> tuple[int, int]:
    """A school with bells and a crossing, and an approved Monday-to-Friday arrival request."""
    school_id = refs["school"].id
    crossing = await api(client, "POST", f"/api/schools/{school_id}/crossings",
                         json={"name": "正门路口", "latitude": 27.721, "longitude": 106.981, "priority": 5})
    assert crossing.status_code == 201, crossing.text
    bells = [{"weekday": d, "arrival_start": "07:30", "arrival_end": "08:10", "dismissal_start": "16:30",
              "dismissal_end": "17:15"} for d in range(5)]
    assert (await api(client, "PUT", f"/api/schools/{school_id}/bells", json=bells)).status_code == 200
    start = local_today() + dt.timedelta(days=1)
    request = await api(client, "POST", f"/api/schools/{school_id}/escort-requests", json={
        "crossing_id": crossing.json()["id"], "slot": "arrival", "weekdays": [0, 1, 2, 3, 4],
        "start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=20)).isoformat(),
        "seats_min": 2, "seats_ideal": 3})
    assert request.status_code == 201, request.text
    approved = await api(client, "POST", f"/api/escort-requests/{request.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    return school_id, request.json()["id"]


async def test_escort_shifts_skip_closed_days_and_follow_later_closures(client):
    refs = await make_reference_data()
    await _manager(client)
    school_id, request_id = await _school_with_request(client, refs)
    days = [row["day"] for row in await Shift.select(Shift.day).where(Shift.escort_request == request_id)]
    start = local_today() + dt.timedelta(days=1)
    expected = [start + dt.timedelta(days=n) for n in range(21) if (start + dt.timedelta(days=n)).weekday() < 5]
    assert sorted(days) == expected
    assert (await expand_all()).created == 0

    holiday = expected[2]
    closed = await api(client, "POST", f"/api/schools/{school_id}/closures", json={"days": [holiday.isoformat()],
                                                                                    "reason": "运动会"})
    assert closed.status_code in (200, 201), closed.text
    assert await Shift.count().where((Shift.escort_request == request_id) & (Shift.status == "open")) == len(expected) - 1
    assert (await Shift.objects().where((Shift.escort_request == request_id) & (Shift.day == holiday)).first()).status == "cancelled"
    reopened = await api(client, "DELETE", f"/api/schools/{school_id}/closures/{holiday.isoformat()}")
    assert reopened.status_code == 204
    assert await Shift.count().where((Shift.escort_request == request_id) & (Shift.status == "open")) == len(expected)
    assert await Shift.count().where(Shift.escort_request == request_id) == len(expected)  # the same row came back


async def test_rosters_and_week_overview(client):
    refs = await make_reference_data()
    await _manager(client)
    school_id, request_id = await _school_with_request(client, refs)
    shift = await Shift.objects().where(Shift.escort_request == request_id).order_by(Shift.day).first()
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    assert (await api(volunteer, "POST", f"/api/shifts/{shift.id}/signup", json={})).status_code == 201
    monday = week_start(shift.day)

    roster = await client.get("/api/rosters", params={"week": shift.day.isoformat(), "school": school_id})
    assert roster.status_code == 200
    entry = next(e for e in roster.json() if e["shift"]["id"] == shift.id)
    assert entry["people"] == [{"name": "志愿者0001", "phone": "13900000001"}]
    html = (await client.get("/rosters", params={"week": monday.isoformat(), "school": school_id})).text
    page = page_text(html)
    assert "志愿者0001" in page and "13900000001" in page
    assert html.count("<svg") == len(roster.json())  # each shift's check-in code, printed on the roster

    overview = await client.get("/api/overview", params={"week": monday.isoformat()})
    assert overview.status_code == 200
    cells = [card for row in overview.json() for day in row["days"] for card in day]
    assert {card["id"] for card in cells} == {s.id for s in await Shift.objects().where(
        (Shift.day >= monday) & (Shift.day < monday + dt.timedelta(days=7)))}
    html = (await client.get("/overview", params={"week": monday.isoformat()})).text
    assert "cell short" in html  # one person against a minimum of two
    assert (await client.get("/overview", params={"week": "last tuesday"})).status_code == 400

    # A coordinator sees their own school's roster, not another school's, and no week overview.
    await make_staff("lead", "coordinator")
    await SchoolCoordinator(school=school_id, user=(await _user_id("lead"))).save()
    await client.post("/logout", headers={"x-csrftoken": client.cookies.get("csrftoken")})
    client.cookies.clear()
    await log_in(client, "lead", "Staff2026pass")
    mine = await client.get("/rosters", params={"week": monday.isoformat()})
    assert mine.status_code == 200 and "13900000001" in page_text(mine.text)
    other = await client.get("/api/rosters", params={"week": monday.isoformat(), "site": refs["site"].id})
    assert other.status_code == 403
    assert (await client.get("/api/overview")).status_code == 403
    # Volunteers never see rosters (with phone numbers).
    assert (await volunteer.get("/api/rosters", params={"school": school_id})).status_code == 403


async def _user_id(login: str) -> int:
    from volunteer_hub.accounts.tables import User

    return (await User.select(User.id).where(User.login == login).first())["id"]


async def test_cancelling_a_shift_tells_everyone_on_it(client):
    refs = await make_reference_data()
    await _manager(client)
    shift = await make_shift(refs, seats_max=1, key="to-cancel")
    for phone in ("13900000001", "13900000002"):
        await make_volunteer(refs["grid"].id, phone)
        other = await volunteer_client(client, phone)
        assert (await api(other, "POST", f"/api/shifts/{shift.id}/signup", json={})).status_code == 201
    done = await api(client, "POST", f"/api/shifts/{shift.id}/cancel")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert await Notification.count().where(Notification.kind == "shift_cancelled") == 2
    assert await Assignment.count().where(Assignment.status != "cancelled") == 0
    assert (await api(client, "POST", f"/api/shifts/{shift.id}/cancel")).status_code == 409
    messages = await volunteer_client(client, "13900000001")
    page = await messages.get("/notifications")
    assert shift.title in page_text(page.text)


async def test_the_shift_api_is_in_the_openapi_schema(client):
    schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/shifts", "/api/shifts/{shift_id}/signup", "/api/my/shifts", "/api/my/calendar", "/api/rosters",
                 "/api/overview", "/api/activities", "/api/activities/{activity_id}", "/api/sites",
                 "/api/notifications", "/api/schools", "/api/escort-requests"):
        assert path in schema["paths"], path
    assert {"post", "delete"} <= set(schema["paths"]["/api/shifts/{shift_id}/signup"])
