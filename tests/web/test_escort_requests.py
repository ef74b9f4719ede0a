"""Escort requests through HTTP: a coordinator submits and edits, a manager approves (the request
expands into dated shifts) or rejects with a reason, a keeper ends it; the request page shows how
each dated shift is filled. Pages and the JSON API; every refusal is a clear 4xx and changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import html

from support import api, log_in, make_reference_data, page_text, post_form

from volunteer_hub.accounts.services import create_user
from volunteer_hub.accounts.tables import User
from volunteer_hub.clock import local_today
from volunteer_hub.schools.tables import BellSchedule, Crossing, EscortRequest, School, SchoolClosure, SchoolCoordinator
from volunteer_hub.shifts.tables import CONFIRMED, Assignment, Shift
from volunteer_hub.volunteers.tables import Volunteer

PASSWORD = "Staff2026pass"


async def staff(login: str, role: str, locale: str = "en"):
    return await create_user(login=login, password=PASSWORD, role=role, display_name=f"{login} name", locale=locale)


async def setup(client, who: str | None = "coord") -> dict:
    """Two schools with bell times Monday to Friday (arrival 07:30-08:10, dismissal 16:30-17:15) and a
    crossing each; ``coord`` keeps ``school``, ``boss`` is a manager. Logs ``who`` in."""
    refs = await make_reference_data()
    other = School(name="新蒲小学", address="新蒲大道8号", grid=refs["other_grid"].id, latitude=27.731, longitude=106.991)
    await other.save()
    coordinator = await staff("coord", "coordinator")
    await SchoolCoordinator(school=refs["school"].id, user=coordinator.id).save()
    await staff("boss", "manager")
    for school, name in ((refs["school"], "正门路口"), (other, "新蒲大道路口")):
        await Crossing(school=school.id, name=name, kind="crossing", latitude=school.latitude + 0.001,
                       longitude=school.longitude, priority=4).save()
        await BellSchedule.insert(*[BellSchedule(school=school.id, weekday=day, arrival_start=450, arrival_end=490,
                                                 dismissal_start=990, dismissal_end=1035) for day in range(5)])
    refs["other"] = other
    refs["crossing"] = await Crossing.objects().where(Crossing.school == refs["school"].id).first()
    refs["other_crossing"] = await Crossing.objects().where(Crossing.school == other.id).first()
    if who:
        await log_in(client, who, PASSWORD)
    return refs


async def make_volunteer(grid_id: int, phone: str) -> Volunteer:
    """A volunteer straight in the database (they never log in here)."""
    user = User(login=phone, password_hash="-", role="volunteer", display_name=phone, locale="en")
    await user.save()
    volunteer = Volunteer(user=user.id, name=f"志愿者{phone[-4:]}", phone=phone, birth_year=1985, home_grid=grid_id)
    await volunteer.save()
    return volunteer


def tomorrow() -> dt.date:
    return local_today() + dt.timedelta(days=1)


def request_form(refs: dict, **overrides) -> dict:
    """Two weeks from tomorrow, Monday to Friday, morning arrival: ten school days, so ten shifts."""
    form = {"school": str(refs["school"].id), "crossing": str(refs["crossing"].id), "slot": "arrival",
            "weekdays": ["0", "1", "2", "3", "4"], "start_date": tomorrow().isoformat(),
            "end_date": (tomorrow() + dt.timedelta(days=13)).isoformat(), "seats_min": "1", "seats_ideal": "2",
            "adults_only": "1"}
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def request_body(refs: dict, **overrides) -> dict:
    body = {"crossing_id": refs["crossing"].id, "slot": "dismissal", "weekdays": [0, 2, 4],
            "start_date": tomorrow().isoformat(), "end_date": (tomorrow() + dt.timedelta(days=13)).isoformat(),
            "seats_min": 2, "seats_ideal": 3, "needs_trained": True}
    body.update(overrides)
    return body


def school_days(first: dt.date, last: dt.date, weekdays=range(5), closed=()) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)
            if (first + dt.timedelta(days=n)).weekday() in weekdays and first + dt.timedelta(days=n) not in closed]


async def request_rows() -> list[dict]:
    return await EscortRequest.select().order_by(EscortRequest.id)


async def open_shift_days(request_id: int) -> list[dt.date]:
    rows = await Shift.select(Shift.day).where((Shift.escort_request == request_id) & (Shift.status == "open")
                                               ).order_by(Shift.day)
    return [row["day"] for row in rows]


async def submit(client, refs: dict, **overrides) -> int:
    response = await post_form(client, "/requests/new", request_form(refs, **overrides))
    assert response.status_code == 303, page_text(response.text)[-600:]
    request_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert response.headers["location"] == f"/requests/{request_id}"
    return request_id


async def as_user(client, login: str) -> None:
    await post_form(client, "/logout", {})
    await log_in(client, login, PASSWORD)


# ---------------------------------------------------------------------------------- the whole workflow


async def test_submit_approve_and_see_each_dated_shift_filled(client):
    refs = await setup(client)
    form_page = await client.get("/requests/new")
    assert form_page.status_code == 200
    assert 'name="adults_only" value="1" checked' in form_page.text  # adults only is on by default
    assert 'name="needs_lead" value="1">' in form_page.text
    request_id = await submit(client, refs, needs_lead="1")
    row = (await request_rows())[0]
    assert (row["school"], row["crossing"], row["slot"], row["weekdays"], row["seats_min"], row["seats_ideal"]) == (
        refs["school"].id, refs["crossing"].id, "arrival", "0,1,2,3,4", 1, 2)
    assert (row["status"], row["adults_only"], row["needs_trained"], row["needs_lead"]) == ("submitted", True, False, True)
    page = page_text((await client.get(f"/requests/{request_id}")).text)
    assert "Submitted" in page and "Shifts are made when a manager approves the request." in page
    assert await Shift.count() == 0
    listing = page_text((await client.get("/requests")).text)
    assert "正门路口 · Morning arrival" in listing and "Submitted" in listing

    await as_user(client, "boss")
    approved = await post_form(client, f"/requests/{request_id}/approve", {})
    assert approved.status_code == 303
    first, last = tomorrow(), tomorrow() + dt.timedelta(days=13)
    expected = school_days(first, last)
    assert len(expected) == 10
    assert await open_shift_days(request_id) == expected
    shift = await Shift.objects().where(Shift.escort_request == request_id).order_by(Shift.day).first()
    assert (shift.starts_at.hour, shift.starts_at.minute, shift.ends_at.hour, shift.ends_at.minute) == (7, 30, 8, 10)
    assert (shift.seats_min, shift.seats_ideal, shift.adults_only, shift.needs_lead) == (1, 2, True, True)
    assert (await EscortRequest.select(EscortRequest.status).first())["status"] == "approved"  # its first day is ahead

    # A volunteer takes a seat on the first shift: the coordinator sees 1 taken of minimum 1, ideal 2.
    volunteer = await make_volunteer(refs["grid"].id, "13900000001")
    await Assignment(shift=shift.id, volunteer=volunteer.id, status=CONFIRMED, source="self").save()
    await as_user(client, "coord")
    body = (await client.get(f"/requests/{request_id}")).text
    page = page_text(body)
    assert "Approved" in page
    assert f"{expected[0].isoformat()}" in page and "07:30-08:10" in page
    assert page.count("1 / 1 / 2") == 1 and page.count("0 / 1 / 2") == 9
    assert page.count("1 short") == 9
    shifts = (await api(client, "GET", f"/api/escort-requests/{request_id}/shifts")).json()
    assert [(s["day"], s["confirmed"], s["seats_min"], s["seats_ideal"]) for s in shifts][:2] == [
        (expected[0].isoformat(), 1, 1, 2), (expected[1].isoformat(), 0, 1, 2)]


async def test_approval_is_idempotent_and_shifts_skip_closed_days(client):
    refs = await setup(client)
    closed = school_days(tomorrow(), tomorrow() + dt.timedelta(days=13))[3]
    await SchoolClosure(school=refs["school"].id, day=closed, reason="校运动会").save()
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    assert (await post_form(client, f"/requests/{request_id}/approve", {})).status_code == 303
    days = await open_shift_days(request_id)
    assert len(days) == 9 and closed not in days
    again = await post_form(client, f"/requests/{request_id}/approve", {})
    assert again.status_code == 409
    assert "Only a submitted request can be approved or rejected." in page_text(again.text)
    assert await open_shift_days(request_id) == days
    assert await Shift.count() == 9


async def test_closing_and_reopening_a_day_follows_into_shifts(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    day = (await open_shift_days(request_id))[2]
    volunteer = await make_volunteer(refs["grid"].id, "13900000002")
    shift = await Shift.objects().where((Shift.escort_request == request_id) & (Shift.day == day)).first()
    await Assignment(shift=shift.id, volunteer=volunteer.id, status=CONFIRMED, source="self").save()
    response = await post_form(client, f"/schools/{refs['school'].id}/closures", {"first": day.isoformat(), "reason": "停课"})
    assert response.status_code == 303
    assert day not in await open_shift_days(request_id)
    assert (await Assignment.select(Assignment.status).first())["status"] == "cancelled"
    response = await post_form(client, f"/schools/{refs['school'].id}/closures/remove", {"first": day.isoformat()})
    assert response.status_code == 303
    assert day in await open_shift_days(request_id)


async def test_bell_time_change_moves_future_shifts(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    form = {}
    for day in range(5):
        form.update({f"b{day}_arrival_start": "07:40", f"b{day}_arrival_end": "08:20",
                     f"b{day}_dismissal_start": "16:30", f"b{day}_dismissal_end": "17:15"})
    assert (await post_form(client, f"/schools/{refs['school'].id}/bells", form)).status_code == 303
    starts = {(row["starts_at"].hour, row["starts_at"].minute)
              for row in await Shift.select(Shift.starts_at).where(Shift.escort_request == request_id)}
    assert starts == {(7, 40)}


async def test_reject_needs_a_reason_and_the_coordinator_sees_it(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    for reason in ("", "   "):
        response = await post_form(client, f"/requests/{request_id}/reject", {"reason": reason})
        assert response.status_code == 400
        assert "Please give a reason for the rejection." in page_text(response.text)
    too_long = await post_form(client, f"/requests/{request_id}/reject", {"reason": "x" * 501})
    assert too_long.status_code == 400 and "At most 500 characters." in page_text(too_long.text)
    assert (await request_rows())[0]["status"] == "submitted"
    response = await post_form(client, f"/requests/{request_id}/reject", {"reason": "该路口已有交警值守"})
    assert response.status_code == 303
    row = (await request_rows())[0]
    assert (row["status"], row["rejection_reason"]) == ("rejected", "该路口已有交警值守")
    assert await Shift.count() == 0
    await as_user(client, "coord")
    page = page_text((await client.get(f"/requests/{request_id}")).text)
    assert "Rejected" in page and "该路口已有交警值守" in page
    # A rejected request is closed: no editing, no approving, no ending.
    changed = await post_form(client, f"/requests/{request_id}/edit", request_form(refs, seats_ideal="5"))
    assert changed.status_code == 409 and "This request is closed and cannot be changed." in page_text(changed.text)
    assert (await post_form(client, f"/requests/{request_id}/end", {})).status_code == 409
    assert (await request_rows())[0]["seats_ideal"] == 2 and (await request_rows())[0]["status"] == "rejected"


async def test_coordinator_cannot_decide(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    for url, form in ((f"/requests/{request_id}/approve", {}), (f"/requests/{request_id}/reject", {"reason": "no"})):
        response = await post_form(client, url, form)
        assert response.status_code == 403
        assert "You do not have permission to open this page." in page_text(response.text)
    assert (await api(client, "POST", f"/api/escort-requests/{request_id}/approve")).status_code == 403
    assert (await request_rows())[0]["status"] == "submitted"
    assert await Shift.count() == 0
    assert "Approve" not in page_text((await client.get(f"/requests/{request_id}")).text)


async def test_edit_a_submitted_and_a_live_request(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    edit = await client.get(f"/requests/{request_id}/edit")
    assert edit.status_code == 200 and f'value="{tomorrow().isoformat()}"' in edit.text
    response = await post_form(client, f"/requests/{request_id}/edit", request_form(refs, seats_ideal="3", slot="dismissal"))
    assert response.status_code == 303
    row = (await request_rows())[0]
    assert (row["seats_ideal"], row["slot"], row["status"]) == (3, "dismissal", "submitted")

    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    assert len(await open_shift_days(request_id)) == 10
    await as_user(client, "coord")
    # Fewer weekdays and more people: the dropped days' shifts are cancelled, the rest follow.
    response = await post_form(client, f"/requests/{request_id}/edit",
                               request_form(refs, slot="dismissal", weekdays=["0", "2", "4"], seats_min="2", seats_ideal="4"))
    assert response.status_code == 303
    days = await open_shift_days(request_id)
    assert days == school_days(tomorrow(), tomorrow() + dt.timedelta(days=13), weekdays=(0, 2, 4))
    assert {(row["seats_min"], row["seats_ideal"]) for row in await Shift.select(Shift.seats_min, Shift.seats_ideal).where(
        (Shift.escort_request == request_id) & (Shift.status == "open"))} == {(2, 4)}
    assert await Shift.count().where((Shift.escort_request == request_id) & (Shift.status == "cancelled")) == 4
    assert (await request_rows())[0]["status"] == "approved"


async def test_end_request_cancels_future_shifts(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    shift = await Shift.objects().where(Shift.escort_request == request_id).first()
    volunteer = await make_volunteer(refs["grid"].id, "13900000003")
    await Assignment(shift=shift.id, volunteer=volunteer.id, status=CONFIRMED, source="self").save()
    await as_user(client, "coord")
    response = await post_form(client, f"/requests/{request_id}/end", {})
    assert response.status_code == 303
    assert (await request_rows())[0]["status"] == "ended"
    assert await open_shift_days(request_id) == []
    assert (await Assignment.select(Assignment.status).first())["status"] == "cancelled"
    page = page_text((await client.get(f"/requests/{request_id}")).text)
    assert "Ended" in page and "Cancelled" in page
    again = await post_form(client, f"/requests/{request_id}/end", {})
    assert again.status_code == 409


async def test_states_and_the_managers_filter(client):
    refs = await setup(client)
    submitted = await submit(client, refs)
    starts_today = await submit(client, refs, start_date=local_today().isoformat(), slot="dismissal")
    future = await submit(client, refs, weekdays=["2"])
    rejected = await submit(client, refs, weekdays=["3"])
    await as_user(client, "boss")
    assert (await post_form(client, f"/requests/{starts_today}/approve", {})).status_code == 303
    assert (await post_form(client, f"/requests/{future}/approve", {})).status_code == 303
    assert (await post_form(client, f"/requests/{rejected}/reject", {"reason": "重复申请"})).status_code == 303
    # One ended by its dates: approved long ago, its last day is over.
    old = EscortRequest(school=refs["other"].id, crossing=refs["other_crossing"].id, slot="arrival", weekdays="0",
                        start_date=local_today() - dt.timedelta(days=30), end_date=local_today() - dt.timedelta(days=2),
                        seats_min=1, seats_ideal=1, status="active")
    await old.save()

    async def listed(status: str) -> set[int]:
        response = await api(client, "GET", "/api/escort-requests" + (f"?status={status}" if status else ""))
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()}

    assert await listed("submitted") == {submitted}
    assert await listed("active") == {starts_today}
    assert await listed("approved") == {future}
    assert await listed("rejected") == {rejected}
    assert await listed("ended") == {old.id}
    assert await listed("") == {submitted, starts_today, future, rejected, old.id}
    states = {row["id"]: row["status"] for row in (await api(client, "GET", "/api/escort-requests")).json()}
    assert states == {submitted: "submitted", starts_today: "active", future: "approved", rejected: "rejected",
                      old.id: "ended"}
    page = page_text((await client.get("/requests?status=submitted")).text)
    assert "长征小学" in page and page.count("Morning arrival") == 1
    assert "新蒲小学" in page_text((await client.get("/requests")).text)
    one_school = page_text((await client.get(f"/requests?school={refs['other'].id}")).text)
    assert "新蒲小学" in one_school and "长征小学" not in one_school
    by_school = await api(client, "GET", f"/api/escort-requests?school={refs['school'].id}&status=approved")
    assert [row["id"] for row in by_school.json()] == [future]
    assert (await api(client, "GET", "/api/escort-requests?school=99999")).status_code == 404
    bad = await client.get("/requests?status=lost")
    assert bad.status_code == 400 and "Please choose a state from the list." in page_text(bad.text)
    assert (await api(client, "GET", "/api/escort-requests?status=lost")).status_code == 400
    # The coordinator sees only their school's requests.
    await as_user(client, "coord")
    assert await listed("") == {submitted, starts_today, future, rejected}
    assert "新蒲小学" not in page_text((await client.get("/requests")).text)
    assert (await client.get(f"/requests?school={refs['other'].id}")).status_code == 403


# ---------------------------------------------------------------------------------- bad input


async def test_bad_request_forms_are_refused_and_nothing_is_stored(client):
    refs = await setup(client)
    today = local_today()
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    cases = (
        ({"start_date": (today - dt.timedelta(days=1)).isoformat()}, "The first date must not be in the past."),
        ({"end_date": today.isoformat(), "start_date": tomorrow().isoformat()}, "The last date must not be before the first."),
        ({"end_date": (today + dt.timedelta(days=500)).isoformat()}, "A request covers at most one year."),
        ({"start_date": "2026-02-30"}, "Dates are written as YYYY-MM-DD."),
        ({"start_date": ""}, "Please give the first and the last date."),
        ({"seats_min": "0"}, "The minimum must be from 1 to 20."),
        ({"seats_min": "-2"}, "The minimum must be from 1 to 20."),
        ({"seats_min": "21", "seats_ideal": "25"}, "The minimum must be from 1 to 20."),
        ({"seats_min": "two"}, "Please give a whole number."),
        ({"seats_min": "3", "seats_ideal": "2"}, "The ideal number must be at least the minimum and at most 20."),
        ({"seats_ideal": "0"}, "The ideal number must be at least the minimum and at most 20."),
        ({"weekdays": None}, "Choose at least one weekday."),
        ({"weekdays": ["7"]}, "Choose at least one weekday."),
        ({"start_date": saturday.isoformat(), "end_date": (saturday + dt.timedelta(days=1)).isoformat()},
         "None of the chosen weekdays falls between the first and the last date."),
        ({"slot": "noon"}, "Choose morning arrival or afternoon dismissal."),
        ({"crossing": str(refs["other_crossing"].id)}, "Please choose one of this school's crossings."),
        ({"crossing": "99999"}, "Please choose one of this school's crossings."),
    )
    for overrides, message in cases:
        response = await post_form(client, "/requests/new", request_form(refs, **overrides))
        assert response.status_code == 400, (overrides, response.status_code)
        assert message in html.unescape(page_text(response.text)), (overrides, page_text(response.text)[-500:])
    # The form comes back with what was typed.
    response = await post_form(client, "/requests/new", request_form(refs, seats_min="0", seats_ideal="7"))
    assert 'value="7"' in response.text
    assert await request_rows() == []


async def test_coordinator_cannot_touch_another_schools_requests(client):
    refs = await setup(client)
    theirs = EscortRequest(school=refs["other"].id, crossing=refs["other_crossing"].id, slot="arrival", weekdays="0,1",
                           start_date=tomorrow(), end_date=tomorrow() + dt.timedelta(days=10), seats_min=1, seats_ideal=1)
    await theirs.save()
    before = await request_rows()
    other_form = request_form(refs, school=str(refs["other"].id), crossing=str(refs["other_crossing"].id))
    for method, url, form in (
        ("GET", f"/requests/{theirs.id}", None),
        ("GET", f"/requests/{theirs.id}/edit", None),
        ("GET", f"/requests/new?school={refs['other'].id}", None),
        ("POST", "/requests/new", other_form),
        ("POST", f"/requests/{theirs.id}/edit", other_form),
        ("POST", f"/requests/{theirs.id}/end", {}),
    ):
        response = await (client.get(url) if method == "GET" else post_form(client, url, form))
        assert response.status_code == 403, (url, response.status_code)
        assert "You may only change your own school." in page_text(response.text), url
    for method, url, body in (
        ("GET", f"/api/escort-requests/{theirs.id}", None),
        ("GET", f"/api/escort-requests/{theirs.id}/shifts", None),
        ("POST", f"/api/schools/{refs['other'].id}/escort-requests", request_body(refs, crossing_id=refs["other_crossing"].id)),
        ("PUT", f"/api/escort-requests/{theirs.id}", request_body(refs, crossing_id=refs["other_crossing"].id)),
        ("POST", f"/api/escort-requests/{theirs.id}/end", None),
    ):
        response = await api(client, method, url, **({"json": body} if body is not None else {}))
        assert response.status_code == 403, (url, response.text)
        assert response.json()["detail"] == "You may only change your own school."
    assert await request_rows() == before


async def test_unknown_request_ids(client):
    refs = await setup(client, who="boss")
    for url in ("/requests/99999", "/requests/99999/edit"):
        response = await client.get(url)
        assert response.status_code == 404 and "No such escort request." in page_text(response.text)
    for url, form in (("/requests/99999/approve", {}), ("/requests/99999/reject", {"reason": "x"}),
                      ("/requests/99999/end", {}), ("/requests/99999/edit", request_form(refs))):
        response = await post_form(client, url, form)
        assert response.status_code == 404, url
        assert "No such escort request." in page_text(response.text)
    for method, url in (("GET", "/api/escort-requests/99999"), ("GET", "/api/escort-requests/99999/shifts"),
                        ("POST", "/api/escort-requests/99999/approve"), ("POST", "/api/escort-requests/99999/end")):
        response = await api(client, method, url)
        assert response.status_code == 404 and response.json()["detail"] == "No such escort request."
    unknown_school = await post_form(client, "/requests/new", request_form(refs, school="99999"))
    assert unknown_school.status_code == 404 and "No such school." in page_text(unknown_school.text)
    assert (await client.get("/requests/new?school=99999")).status_code == 404
    assert await request_rows() == []


async def test_approving_a_request_whose_dates_are_over_is_refused(client):
    refs = await setup(client, who="boss")
    stale = EscortRequest(school=refs["school"].id, crossing=refs["crossing"].id, slot="arrival", weekdays="0,1,2,3,4",
                          start_date=local_today() - dt.timedelta(days=20), end_date=local_today() - dt.timedelta(days=1),
                          seats_min=1, seats_ideal=1)
    await stale.save()
    response = await post_form(client, f"/requests/{stale.id}/approve", {})
    assert response.status_code == 409
    assert "The last date of this request is over; it can no longer be approved." in page_text(response.text)
    assert (await request_rows())[0]["status"] == "submitted" and await Shift.count() == 0


async def test_missing_bell_times_are_pointed_out(client):
    refs = await setup(client)
    await BellSchedule.delete().where((BellSchedule.school == refs["school"].id) & (BellSchedule.weekday == 2))
    request_id = await submit(client, refs)
    page = page_text((await client.get(f"/requests/{request_id}")).text)
    assert "The school has no bell times for: Wednesday. No shifts are made on those days." in page
    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    assert [day.weekday() for day in await open_shift_days(request_id)] == [d.weekday() for d in school_days(
        tomorrow(), tomorrow() + dt.timedelta(days=13), weekdays=(0, 1, 3, 4))]


async def test_coordinator_without_school_is_sent_to_register_it(client):
    await setup(client, who=None)
    await staff("lonely", "coordinator")
    await log_in(client, "lonely", PASSWORD)
    response = await client.get("/requests/new")
    assert response.status_code == 303 and response.headers["location"] == "/schools"
    page = page_text((await client.get("/requests")).text)
    assert "You do not keep a school yet." in page
    assert (await api(client, "GET", "/api/escort-requests")).json() == []


async def test_manager_requests_for_a_chosen_school(client):
    refs = await setup(client, who="boss")
    chooser = page_text((await client.get("/requests/new")).text)
    assert "For which school?" in chooser and "新蒲小学" in chooser
    response = await post_form(client, "/requests/new", request_form(
        refs, school=str(refs["other"].id), crossing=str(refs["other_crossing"].id)))
    assert response.status_code == 303
    row = (await request_rows())[0]
    assert (row["school"], row["crossing"], row["status"]) == (refs["other"].id, refs["other_crossing"].id, "submitted")


# ---------------------------------------------------------------------------------- JSON API


async def test_escort_request_api_workflow(client):
    refs = await setup(client)
    created = await api(client, "POST", f"/api/schools/{refs['school'].id}/escort-requests", json=request_body(refs))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["weekdays"], body["adults_only"], body["needs_trained"]) == ("submitted", [0, 2, 4], True, True)
    request_id = body["id"]
    changed = await api(client, "PUT", f"/api/escort-requests/{request_id}", json=request_body(refs, seats_ideal=4))
    assert changed.status_code == 200 and changed.json()["seats_ideal"] == 4
    assert (await api(client, "GET", f"/api/escort-requests/{request_id}/shifts")).json() == []

    await as_user(client, "boss")
    rejected_without_reason = await api(client, "POST", f"/api/escort-requests/{request_id}/reject", json={"reason": " "})
    assert rejected_without_reason.status_code == 400
    assert rejected_without_reason.json()["errors"] == {"reason": "Please give a reason for the rejection."}
    approved = await api(client, "POST", f"/api/escort-requests/{request_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    shifts = (await api(client, "GET", f"/api/escort-requests/{request_id}/shifts")).json()
    expected = school_days(tomorrow(), tomorrow() + dt.timedelta(days=13), weekdays=(0, 2, 4))
    assert [s["day"] for s in shifts] == [day.isoformat() for day in expected]
    assert {(s["seats_min"], s["seats_ideal"], s["confirmed"], s["slot"]) for s in shifts} == {(2, 4, 0, "dismissal")}
    assert (await Shift.select(Shift.required_skills).first())["required_skills"] == "trained_escort"
    ended = await api(client, "POST", f"/api/escort-requests/{request_id}/end")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert await open_shift_days(request_id) == []


async def test_escort_request_api_refuses_bad_input_and_stores_nothing(client):
    refs = await setup(client)
    url = f"/api/schools/{refs['school'].id}/escort-requests"
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    for overrides, status, field in (
        ({"start_date": yesterday}, 400, "dates"),
        ({"end_date": local_today().isoformat()}, 400, "dates"),
        ({"seats_min": 0}, 400, "seats_min"),
        ({"seats_min": -1}, 400, "seats_min"),
        ({"seats_ideal": 0}, 400, "seats_ideal"),
        ({"weekdays": []}, 400, "weekdays"),
        ({"slot": "noon"}, 400, "slot"),
        ({"crossing_id": 99999}, 400, "crossing"),
        ({"crossing_id": refs["other_crossing"].id}, 400, "crossing"),
        ({"start_date": "tomorrow"}, 400, None),
    ):
        response = await api(client, "POST", url, json=request_body(refs, **overrides))
        assert response.status_code == status, (overrides, response.text)
        assert response.json()["detail"]
        if field:
            assert field in response.json()["errors"], (overrides, response.json())
    assert (await api(client, "POST", "/api/schools/99999/escort-requests", json=request_body(refs))).status_code == 404
    assert await request_rows() == []
    # A valid one, then a bad change: the stored request stays as it was.
    request_id = (await api(client, "POST", url, json=request_body(refs))).json()["id"]
    before = await request_rows()
    bad = await api(client, "PUT", f"/api/escort-requests/{request_id}", json=request_body(refs, seats_min=5, seats_ideal=3))
    assert bad.status_code == 400 and "seats_ideal" in bad.json()["errors"]
    assert await request_rows() == before


async def test_two_managers_approving_at_once_expand_once(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    answers = await asyncio.gather(*[api(client, "POST", f"/api/escort-requests/{request_id}/approve") for _ in range(4)])
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409]
    assert len(await open_shift_days(request_id)) == 10
    assert await Shift.count() == 10


async def test_editing_a_live_request_leaves_past_shifts_and_their_attendance_alone(client):
    refs = await setup(client)
    request_id = await submit(client, refs)
    await as_user(client, "boss")
    await post_form(client, f"/requests/{request_id}/approve", {})
    # A shift that already happened (as if the request had started last week), with a volunteer on it.
    past_day = local_today() - dt.timedelta(days=7)
    past = Shift(source_key=f"escort:{request_id}:{past_day.isoformat()}", escort_request=request_id,
                 school=refs["school"].id, crossing=refs["crossing"].id, grid=refs["grid"].id, kind="escort",
                 slot="arrival", title="长征小学 · 正门路口", day=past_day,
                 starts_at=dt.datetime.combine(past_day, dt.time(7, 30)),
                 ends_at=dt.datetime.combine(past_day, dt.time(8, 10)), latitude=27.72, longitude=106.98,
                 seats_min=1, seats_ideal=2, seats_max=2, priority=9)
    await past.save()
    volunteer = await make_volunteer(refs["grid"].id, "13900000004")
    await Assignment(shift=past.id, volunteer=volunteer.id, status=CONFIRMED, source="self").save()
    await as_user(client, "coord")
    response = await post_form(client, f"/requests/{request_id}/edit",
                               request_form(refs, seats_min="3", seats_ideal="5", weekdays=["1"]))
    assert response.status_code == 303, page_text(response.text)[-400:]
    kept = await Shift.objects().where(Shift.id == past.id).first()
    assert (kept.status, kept.seats_min, kept.seats_ideal) == ("open", 1, 2)
    assert (await Assignment.select(Assignment.status).where(Assignment.shift == past.id).first())["status"] == CONFIRMED
    future = await Shift.select(Shift.seats_min, Shift.day).where(
        (Shift.escort_request == request_id) & (Shift.status == "open") & (Shift.day > local_today()))
    assert future and {row["seats_min"] for row in future} == {3} and {row["day"].weekday() for row in future} == {1}
    # Ending it now cancels only what is still ahead.
    assert (await post_form(client, f"/requests/{request_id}/end", {})).status_code == 303
    assert (await Shift.objects().where(Shift.id == past.id).first()).status == "open"
    assert await open_shift_days(request_id) == [past_day]
