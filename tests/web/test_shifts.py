"""Volunteers sign up for shifts: seats, waitlist, promotion, cancellation cut-off, the rules that
refuse a sign-up, the pages, and the iCalendar feed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from icalendar import Calendar
from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, make_reference_data, page_text, post_form

from volunteer_hub.clock import local_now
from volunteer_hub.notifications.tables import Notification
from volunteer_hub.shifts.tables import CONFIRMED, WAITLISTED, Assignment
from volunteer_hub.volunteers.tables import AvailabilityWindow, Volunteer


async def _statuses(shift_id: int) -> list[str]:
    rows = await Assignment.select(Assignment.status).where(Assignment.shift == shift_id).order_by(Assignment.id)
    return [row["status"] for row in rows]


async def test_sign_up_waitlist_promotion_and_message(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=1)
    await make_volunteer(refs["grid"].id, "13900000001")
    await make_volunteer(refs["grid"].id, "13900000002")
    first = await volunteer_client(client, "13900000001")
    second = await volunteer_client(client, "13900000002")

    taken = await api(first, "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert taken.status_code == 201, taken.text
    assert taken.json()["status"] == "confirmed"
    waiting = await api(second, "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert waiting.status_code == 201
    assert waiting.json() | {"assignment_id": 0} == {"assignment_id": 0, "status": "waitlisted", "waitlist_position": 1}

    again = await api(first, "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == "您已报名该班次。"  # the volunteer's language is Chinese
    assert await _statuses(shift.id) == [CONFIRMED, WAITLISTED]

    left = await api(first, "DELETE", f"/api/shifts/{shift.id}/signup")
    assert left.status_code == 200 and left.json() == {"late": False}
    assert await _statuses(shift.id) == ["cancelled", CONFIRMED]
    mine = (await second.get("/api/my/shifts")).json()
    assert [(m["shift"]["id"], m["status"]) for m in mine] == [(shift.id, CONFIRMED)]
    messages = (await second.get("/api/notifications")).json()
    assert len(messages) == 1 and shift.title in messages[0]["text"] and not messages[0]["read"]
    assert (await first.get("/api/notifications")).json() == []

    # Leaving twice is refused and changes nothing.
    twice = await api(first, "DELETE", f"/api/shifts/{shift.id}/signup")
    assert twice.status_code == 404
    assert await _statuses(shift.id) == ["cancelled", CONFIRMED]


async def test_cancelling_inside_the_cut_off_is_recorded_as_late(client):
    refs = await make_reference_data()
    soon = await make_shift(refs, starts_in=dt.timedelta(hours=3), key="soon")
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    assert (await api(volunteer, "POST", f"/api/shifts/{soon.id}/signup", json={})).status_code == 201
    left = await api(volunteer, "DELETE", f"/api/shifts/{soon.id}/signup")
    assert left.json() == {"late": True}
    row = await Assignment.select(Assignment.late_cancellation, Assignment.status).where(Assignment.shift == soon.id).first()
    assert row == {"late_cancellation": True, "status": "cancelled"}


async def test_sign_up_is_refused_with_a_reason_and_nothing_changes(client):
    refs = await make_reference_data()
    grid = refs["grid"].id
    # Next Monday 10:00 and 14:00: always the same week, at least a day ahead.
    now = local_now()
    monday = dt.datetime.combine(now.date() + dt.timedelta(days=7 - now.weekday()), dt.time(10, 0))

    def at(moment: dt.datetime) -> dt.timedelta:
        return moment - now

    base = await make_shift(refs, starts_in=at(monday), minutes=60, seats_max=5, key="base")
    overlapping = await make_shift(refs, starts_in=at(monday + dt.timedelta(minutes=30)), seats_max=5, key="overlap")
    needs_skill = await make_shift(refs, starts_in=at(monday + dt.timedelta(days=1)), seats_max=5, key="skill",
                                   required_skills="trained_escort")
    started = await make_shift(refs, starts_in=dt.timedelta(minutes=-10), seats_max=5, key="started")
    second_same_week = await make_shift(refs, starts_in=at(monday + dt.timedelta(hours=4)), seats_max=5, key="later")
    await make_volunteer(grid, "13900000001", max_shifts=1, locale="en")
    await make_volunteer(grid, "13900000002", birth_year=dt.date.today().year - 15, locale="en")
    adult = await volunteer_client(client, "13900000001")
    minor = await volunteer_client(client, "13900000002")
    assert (await api(adult, "POST", f"/api/shifts/{base.id}/signup", json={})).status_code == 201

    cases = [
        (adult, overlapping.id, 400, "shift at that time"),
        (adult, needs_skill.id, 400, "skill"),
        (adult, started.id, 400, "started"),
        (adult, 999999, 404, "No such shift"),
        (minor, base.id, 400, "adults"),
        (adult, second_same_week.id, 400, "weekly maximum"),
    ]
    for who, shift_id, status, words in cases:
        response = await api(who, "POST", f"/api/shifts/{shift_id}/signup", json={})
        assert response.status_code == status, (shift_id, response.text)
        assert words.lower() in response.json()["detail"].lower(), response.json()
    assert await Assignment.count() == 1


async def test_a_shift_past_midnight_is_inside_availability_when_both_days_cover_it(client):
    """Windows end at midnight; a shift from 23:00 to 01:00 needs the evening of its day and the early
    hours of the next. Whatever the time of day the test runs at."""
    refs = await make_reference_data()
    day = local_now().date() + dt.timedelta(days=3)
    starts_at = dt.datetime.combine(day, dt.time(23, 0))
    shift = await make_shift(refs, key="late", starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=2), day=day)
    both = await make_volunteer(refs["grid"].id, "13900000001", always_available=False)
    evening_only = await make_volunteer(refs["grid"].id, "13900000002", always_available=False)
    for volunteer in (both, evening_only):
        await AvailabilityWindow(volunteer=volunteer.id, weekday=day.weekday(), start_minute=22 * 60, end_minute=24 * 60).save()
    await AvailabilityWindow(volunteer=both.id, weekday=(day.weekday() + 1) % 7, start_minute=0, end_minute=120).save()

    taken = await api(await volunteer_client(client, both.phone), "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert taken.status_code == 201, taken.text
    asked = await api(await volunteer_client(client, evening_only.phone), "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert asked.status_code == 409 and "confirm_outside_availability" in asked.json()["errors"]
    assert await _statuses(shift.id) == [CONFIRMED]


async def test_outside_availability_asks_first_then_signs_up(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, starts_in=dt.timedelta(days=2), key="any")
    volunteer = await make_volunteer(refs["grid"].id, "13900000001", always_available=False)
    await AvailabilityWindow(volunteer=volunteer.id, weekday=(shift.day.weekday() + 1) % 7, start_minute=0,
                             end_minute=600).save()
    other = await volunteer_client(client, "13900000001")
    asked = await api(other, "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert asked.status_code == 409
    assert "confirm_outside_availability" in asked.json()["errors"]
    assert await Assignment.count() == 0
    confirmed = await api(other, "POST", f"/api/shifts/{shift.id}/signup", json={"confirm_outside_availability": True})
    assert confirmed.status_code == 201 and confirmed.json()["status"] == CONFIRMED

    # The same through the pages: a confirmation page first, then the sign-up.
    second = await make_shift(refs, starts_in=dt.timedelta(days=4), key="second")
    page = await post_form(other, f"/shifts/{second.id}/signup", {"next": "/shifts"})
    assert page.status_code == 409 and 'name="confirm_outside_availability"' in page.text
    done = await post_form(other, f"/shifts/{second.id}/signup", {"next": "/shifts", "confirm_outside_availability": "1"})
    assert done.status_code == 303 and done.headers["location"] == "/shifts"
    assert await Assignment.count().where(Assignment.status == CONFIRMED) == 2


async def test_fifty_volunteers_race_for_the_last_seat(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=3, key="race")
    grid = refs["grid"].id
    phones = [f"139{n:08d}" for n in range(1, 54)]
    for phone in phones:
        await make_volunteer(grid, phone)
    clients = await asyncio.gather(*[volunteer_client(client, phone) for phone in phones])
    # Two seats are already taken: one seat is left.
    for early in clients[:2]:
        assert (await api(early, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] == CONFIRMED
    racers = clients[2:52]
    answers = await asyncio.gather(*[api(c, "POST", f"/api/shifts/{shift.id}/signup", json={}) for c in racers])
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers if a.status_code != 201][:3]
    results = [a.json() for a in answers]
    assert sum(r["status"] == CONFIRMED for r in results) == 1
    assert sorted(r["waitlist_position"] for r in results if r["status"] == WAITLISTED) == list(range(1, 50))
    # Arrival order: the seat went to whoever got in first, and waitlist positions follow the order of
    # the sign-ups as the database recorded them.
    rows = await Assignment.select(Assignment.id, Assignment.status).where(Assignment.shift == shift.id).order_by(Assignment.id)
    assert [row["status"] for row in rows] == [CONFIRMED] * 3 + [WAITLISTED] * 49
    position_by_id = {r["assignment_id"]: r["waitlist_position"] for r in results}
    assert [position_by_id[row["id"]] for row in rows[3:]] == list(range(1, 50))

    # A cancellation racing new sign-ups and another cancellation never overfills the shift.
    leaving = [api(clients[0], "DELETE", f"/api/shifts/{shift.id}/signup"),
               api(clients[1], "DELETE", f"/api/shifts/{shift.id}/signup")]
    newcomer = [api(clients[52], "POST", f"/api/shifts/{shift.id}/signup", json={})]
    await asyncio.gather(*leaving, *newcomer)
    assert await Assignment.count().where((Assignment.shift == shift.id) & (Assignment.status == CONFIRMED)) == 3
    promoted = await Notification.count().where(Notification.kind == "promoted_from_waitlist")
    assert promoted == 2
    for c in clients:
        await c.aclose()


async def test_browse_page_sign_up_and_my_shifts(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=2, key="page")
    far = await make_shift(refs, seats_max=2, key="far", latitude=28.5, longitude=107.9,
                           starts_in=dt.timedelta(days=2, hours=3))
    await make_volunteer(refs["grid"].id, "13900000001", locale="en")
    volunteer = await volunteer_client(client, "13900000001")

    listing = await volunteer.get("/shifts")
    assert listing.status_code == 200
    text = page_text(listing.text)
    assert shift.title in text and "2 seats left" in text
    assert f'action="/shifts/{shift.id}/signup"' in listing.text and f'action="/shifts/{far.id}/signup"' in listing.text
    near_only = await volunteer.get("/shifts", params={"max_km": "5"})
    assert f"/shifts/{shift.id}/signup" in near_only.text and f"/shifts/{far.id}/signup" not in near_only.text
    bad = await volunteer.get("/shifts", params={"date_from": "2026-13-01"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in page_text(bad.text)
    bad_api = await volunteer.get("/api/shifts", params={"max_km": "-1"})
    assert bad_api.status_code == 400

    signed = await post_form(volunteer, f"/shifts/{shift.id}/signup", {"next": "/shifts"})
    assert signed.status_code == 303
    after = page_text((await volunteer.get("/shifts")).text)
    assert "You are signed up" in after and "You are on this shift." in after and "1 seats left" in after
    mine = page_text((await volunteer.get("/my/shifts")).text)
    assert shift.title in mine and "Confirmed" in mine
    left = await post_form(volunteer, f"/shifts/{shift.id}/leave", {"next": "/my/shifts"})
    assert left.status_code == 303
    assert "You have no shifts coming up." in page_text((await volunteer.get("/my/shifts")).text)

    # Staff and strangers: a volunteer page is not theirs; logged-out people are sent to log in.
    assert (await client.get("/shifts")).status_code in (302, 303)


async def test_calendar_feed_is_private_and_revocable(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=2, key="ics", starts_in=dt.timedelta(days=3))
    await make_volunteer(refs["grid"].id, "13900000001")
    volunteer = await volunteer_client(client, "13900000001")
    assert (await api(volunteer, "POST", f"/api/shifts/{shift.id}/signup", json={})).status_code == 201
    url = (await volunteer.get("/api/my/calendar")).json()["url"]
    path = url.split("testserver.local", 1)[1]

    feed = await client.get(path)  # no login needed: the secret URL is the key
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert str(events[0]["summary"]) == shift.title
    start = events[0].decoded("dtstart")
    assert start.replace(tzinfo=None) == shift.starts_at and start.utcoffset() == dt.timedelta(hours=8)
    assert events[0].decoded("dtend").replace(tzinfo=None) == shift.ends_at

    renewed = await api(volunteer, "POST", "/api/my/calendar")
    assert renewed.status_code == 200 and renewed.json()["url"] != url
    assert (await client.get(path)).status_code == 404
    assert (await client.get(renewed.json()["url"].split("testserver.local", 1)[1])).status_code == 200
    assert (await client.get("/calendar/not-a-token.ics")).status_code == 404


async def test_a_shift_that_needs_a_lead_keeps_its_last_seat_for_one(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=2, key="lead", needs_lead=True)
    grid = refs["grid"].id
    await make_volunteer(grid, "13900000001", locale="en")
    await make_volunteer(grid, "13900000002", locale="en")
    await make_volunteer(grid, "13900000003", skills=("lead",))
    first, second, lead = [await volunteer_client(client, f"1390000000{n}") for n in (1, 2, 3)]
    assert (await api(first, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] == CONFIRMED
    kept = await api(second, "POST", f"/api/shifts/{shift.id}/signup", json={})
    assert kept.status_code == 400 and "lead" in kept.json()["detail"]
    assert (await api(lead, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] == CONFIRMED
    # Once the shift is full and has its lead, anyone may wait for a seat.
    assert (await api(second, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] == WAITLISTED
    # If the lead leaves, the waiting non-lead is not promoted into the seat kept for a lead.
    assert (await api(lead, "DELETE", f"/api/shifts/{shift.id}/signup")).status_code == 200
    assert await _statuses(shift.id) == [CONFIRMED, "cancelled", WAITLISTED]


async def test_a_unit_reserves_team_seats_and_its_members_take_them(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=4, key="team", team_slots=3)
    plain = await make_shift(refs, seats_max=4, key="plain", starts_in=dt.timedelta(days=3))
    grid, unit = refs["grid"].id, refs["unit"].id
    members = [await make_volunteer(grid, f"1390000000{n}", locale="en") for n in (1, 2)]
    for member in members:
        await Volunteer.update({Volunteer.unit: unit}).where(Volunteer.id == member.id)
    outsiders = [await make_volunteer(grid, f"1390000001{n}", locale="en") for n in (1, 2, 3)]
    member_phone = await volunteer_client(client, "13900000001")
    outsider_phones = [await volunteer_client(client, f"1390000001{n}") for n in (1, 2, 3)]

    for seats, status, words in ((4, 400, "team seats"), (-1, 400, "whole number")):
        refused = await api(member_phone, "POST", f"/api/shifts/{shift.id}/team", json={"seats": seats})
        assert refused.status_code == status and words in refused.json()["errors"]["seats"], refused.text
    assert (await api(member_phone, "POST", f"/api/shifts/{plain.id}/team", json={"seats": 1})).status_code == 400
    assert (await api(outsider_phones[0], "POST", f"/api/shifts/{shift.id}/team", json={"seats": 1})).status_code == 400
    booked = await api(member_phone, "POST", f"/api/shifts/{shift.id}/team", json={"seats": 2})
    assert booked.status_code == 200 and booked.json()["mine"] == 2

    # Two seats are held for the unit: outsiders get the other two, then the waitlist.
    results = [(await api(p, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] for p in outsider_phones]
    assert results == [CONFIRMED, CONFIRMED, WAITLISTED]
    for phone_number in ("13900000001", "13900000002"):
        member = member_phone if phone_number.endswith("1") else await volunteer_client(client, phone_number)
        assert (await api(member, "POST", f"/api/shifts/{shift.id}/signup", json={})).json()["status"] == CONFIRMED
    team = (await member_phone.get(f"/api/shifts/{shift.id}/team")).json()
    assert team["bookings"] == [{"unit": refs["unit"].name, "seats": 2, "taken": 2}]
    # When an outsider leaves, the waiting outsider takes the seat; the shift stays at its maximum.
    assert (await api(outsider_phones[0], "DELETE", f"/api/shifts/{shift.id}/signup")).status_code == 200
    assert await Assignment.count().where((Assignment.shift == shift.id) & (Assignment.status == CONFIRMED)) == 4
    page = await member_phone.get(f"/shifts/{shift.id}")
    assert "Team seats" in page.text and f'action="/shifts/{shift.id}/team"' in page.text
