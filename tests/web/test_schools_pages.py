"""Schools through HTTP: the coordinator's and the manager's pages and the JSON API for the school,
its crossings and gates, bell times, closed days and coordinators. Every refusal is a clear 4xx and
leaves the database as it was."""

from __future__ import annotations

import datetime as dt

from pytest import approx
from support import api, log_in, make_reference_data, page_text, post_form

from volunteer_hub.accounts.services import create_user
from volunteer_hub.clock import local_today
from volunteer_hub.schools.tables import BellSchedule, Crossing, School, SchoolClosure, SchoolCoordinator

PASSWORD = "Staff2026pass"


async def staff(login: str, role: str, locale: str = "en"):
    return await create_user(login=login, password=PASSWORD, role=role, display_name=f"{login} name", locale=locale)


async def setup(client, who: str | None = "coord", locale: str = "en") -> dict:
    """Reference data with two schools: ``school`` kept by the coordinator ``coord`` and ``other``
    kept by nobody; a manager ``boss``; a crossing at each school. Logs ``who`` in."""
    refs = await make_reference_data()
    other = School(name="新蒲小学", address="新蒲大道8号", grid=refs["other_grid"].id, latitude=27.731, longitude=106.991)
    await other.save()
    coordinator = await staff("coord", "coordinator", locale=locale)
    await SchoolCoordinator(school=refs["school"].id, user=coordinator.id).save()
    await staff("boss", "manager", locale=locale)
    for school, name in ((refs["school"], "正门路口"), (other, "新蒲大道路口")):
        await Crossing(school=school.id, name=name, kind="crossing", latitude=school.latitude,
                       longitude=school.longitude, priority=4).save()
    refs["other"] = other
    refs["crossing"] = await Crossing.objects().where(Crossing.school == refs["school"].id).first()
    refs["other_crossing"] = await Crossing.objects().where(Crossing.school == other.id).first()
    if who:
        await log_in(client, who, PASSWORD)
    return refs


def school_form(grid_id: int, **overrides) -> dict:
    form = {"name": "遵义市第五小学", "address": "五小路5号", "grid": str(grid_id), "latitude": "27.7", "longitude": "106.9"}
    form.update(overrides)
    return form


async def school_rows() -> list[tuple]:
    return [(row["name"], row["address"], row["grid"], row["latitude"], row["longitude"])
            for row in await School.select().order_by(School.id)]


async def crossing_rows() -> list[tuple]:
    return [(row["school"], row["name"], row["kind"], row["priority"], row["latitude"], row["longitude"])
            for row in await Crossing.select().order_by(Crossing.id)]


async def bell_rows(school_id: int) -> list[tuple]:
    return [(row["weekday"], row["arrival_start"], row["arrival_end"], row["dismissal_start"], row["dismissal_end"])
            for row in await BellSchedule.select().where(BellSchedule.school == school_id).order_by(BellSchedule.weekday)]


async def closure_rows() -> list[tuple]:
    return [(row["school"], row["day"], row["reason"]) for row in await SchoolClosure.select().order_by(SchoolClosure.day)]


def bells_form(**rows: tuple[str, str, str, str]) -> dict:
    """``d0=("07:30", "08:10", "16:30", "17:15")`` and so on; other days are left empty."""
    form = {}
    for key, times in rows.items():
        day = key[1:]
        for name, value in zip(("arrival_start", "arrival_end", "dismissal_start", "dismissal_end"), times):
            form[f"b{day}_{name}"] = value
    return form


WEEK = {f"d{day}": ("07:30", "08:10", "16:30", "17:15") for day in range(5)}


# ---------------------------------------------------------------------------------- landing and access


async def test_coordinator_lands_on_their_own_school(client):
    refs = await setup(client)
    response = await client.get("/schools")
    assert response.status_code == 303
    assert response.headers["location"] == f"/schools/{refs['school'].id}"
    html = (await client.get(response.headers["location"])).text
    page = page_text(html)
    for text in ("长征小学", "Crossings and gates", "Bell times", "Holidays and closed days"):
        assert text in page
    assert 'value="长征路1号"' in html and 'value="正门路口"' in html
    assert "新蒲小学" not in html
    assert "User name of a coordinator account" not in page  # assigning coordinators is for managers


async def test_coordinator_without_school_registers_it_once(client):
    refs = await setup(client, who=None)
    await staff("newcoord", "coordinator")
    await log_in(client, "newcoord", PASSWORD)
    landing = await client.get("/schools")
    assert landing.status_code == 200
    assert "Register your school" in page_text(landing.text)

    response = await post_form(client, "/schools", school_form(refs["grid"].id))
    assert response.status_code == 303, page_text(response.text)[-500:]
    school = await School.objects().where(School.name == "遵义市第五小学").first()
    assert response.headers["location"] == f"/schools/{school.id}"
    keeper = await SchoolCoordinator.select(SchoolCoordinator.school).where(
        SchoolCoordinator.user.login == "newcoord").first()
    assert keeper["school"] == school.id
    assert (await client.get("/schools")).headers["location"] == f"/schools/{school.id}"

    before = await school_rows()
    again = await post_form(client, "/schools", school_form(refs["grid"].id, name="另一所小学"))
    assert again.status_code == 409
    assert "You already keep a school." in page_text(again.text)
    assert await school_rows() == before


async def test_coordinator_cannot_reach_another_school(client):
    refs = await setup(client)
    other = refs["other"].id
    schools, crossings, closures = await school_rows(), await crossing_rows(), await closure_rows()
    tomorrow = (local_today() + dt.timedelta(days=1)).isoformat()
    attempts = [
        ("GET", f"/schools/{other}", None),
        ("POST", f"/schools/{other}", school_form(refs["grid"].id, name="改名")),
        ("POST", f"/schools/{other}/crossings", {"name": "新路口", "kind": "gate", "priority": "3",
                                                   "latitude": "27.7", "longitude": "106.9"}),
        ("POST", f"/schools/{other}/crossings/{refs['other_crossing'].id}",
         {"name": "改名路口", "kind": "gate", "priority": "1", "latitude": "27.7", "longitude": "106.9"}),
        ("POST", f"/schools/{other}/bells", bells_form(**WEEK)),
        ("POST", f"/schools/{other}/closures", {"first": tomorrow, "reason": "放假"}),
    ]
    for method, url, form in attempts:
        response = await (client.get(url) if method == "GET" else post_form(client, url, form))
        assert response.status_code == 403, (url, response.status_code)
        assert "You may only change your own school." in page_text(response.text), url
    # A crossing of another school reached through one's own school's address is unknown there.
    sneaky = await post_form(client, f"/schools/{refs['school'].id}/crossings/{refs['other_crossing'].id}",
                             {"name": "改名路口", "kind": "gate", "priority": "1", "latitude": "27.7", "longitude": "106.9"})
    assert sneaky.status_code == 404
    assert "No such crossing." in page_text(sneaky.text)
    for method, url, body in [
        ("GET", f"/api/schools/{other}", None),
        ("PUT", f"/api/schools/{other}", {"name": "改名", "address": "x", "grid_id": refs["grid"].id,
                                           "latitude": 27.7, "longitude": 106.9}),
        ("PUT", f"/api/crossings/{refs['other_crossing'].id}", {"name": "改名", "latitude": 27.7, "longitude": 106.9}),
        ("PUT", f"/api/schools/{other}/bells", [{"weekday": 0, "arrival_start": "07:30", "arrival_end": "08:00",
                                                  "dismissal_start": "16:30", "dismissal_end": "17:00"}]),
        ("POST", f"/api/schools/{other}/closures", {"days": [tomorrow]}),
        ("POST", f"/api/schools/{other}/coordinators", {"login": "coord"}),
    ]:
        response = await api(client, method, url, **({"json": body} if body is not None else {}))
        assert response.status_code == 403, (url, response.text)
        assert response.json()["detail"]
    assert [s["id"] for s in (await api(client, "GET", "/api/schools")).json()] == [refs["school"].id]
    assert (schools, crossings, closures) == (await school_rows(), await crossing_rows(), await closure_rows())
    assert await BellSchedule.count() == 0
    assert await SchoolCoordinator.count() == 1


async def test_the_refusal_is_in_chinese_for_a_chinese_coordinator(client):
    refs = await setup(client, locale="zh_CN")
    response = await client.get(f"/schools/{refs['other'].id}")
    assert response.status_code == 403
    assert "您只能修改自己的学校。" in page_text(response.text)


async def test_volunteers_and_strangers_are_kept_out(client):
    await setup(client, who=None)
    anonymous = await client.get("/schools")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert (await api(client, "GET", "/api/schools")).status_code == 401


async def test_unknown_school_is_not_found(client):
    await setup(client, who="boss")
    response = await client.get("/schools/99999")
    assert response.status_code == 404
    assert "No such school." in page_text(response.text)
    before = await crossing_rows()
    added = await post_form(client, "/schools/99999/crossings", {"name": "x", "kind": "gate", "priority": "3",
                                                                  "latitude": "27.7", "longitude": "106.9"})
    assert added.status_code == 404
    assert await crossing_rows() == before
    assert (await api(client, "GET", "/api/schools/99999")).status_code == 404


# ---------------------------------------------------------------------------------- managers


async def test_manager_lists_creates_and_opens_any_school(client):
    refs = await setup(client, who="boss")
    listing = page_text((await client.get("/schools")).text)
    assert "长征小学" in listing and "新蒲小学" in listing and "Add a school" in listing
    response = await post_form(client, "/schools", school_form(refs["grid"].id))
    assert response.status_code == 303
    school = await School.objects().where(School.name == "遵义市第五小学").first()
    assert (school.address, school.grid) == ("五小路5号", refs["grid"].id)
    assert (school.latitude, school.longitude) == (approx(27.7, abs=1e-5), approx(106.9, abs=1e-5))  # float4 on PostgreSQL
    assert await SchoolCoordinator.count() == 1  # a manager does not become its keeper
    page = await client.get(f"/schools/{refs['other'].id}")
    assert page.status_code == 200 and 'value="新蒲大道路口"' in page.text


async def test_school_form_refuses_bad_input_and_keeps_what_was_typed(client):
    refs = await setup(client, who="boss")
    before = await school_rows()
    for overrides, status, message in (
        ({"name": ""}, 400, "Please give a name of at most 100 characters."),
        ({"name": "长征小学"}, 409, "This name is already in use."),
        ({"address": ""}, 400, "Please give an address of at most 200 characters."),
        ({"grid": "99999"}, 400, "Please choose a grid from the list."),
        ({"latitude": "200"}, 400, "Latitude must be a number from -90 to 90."),
        ({"longitude": "east"}, 400, "Please give a number."),
    ):
        response = await post_form(client, "/schools", school_form(refs["grid"].id, **overrides))
        assert response.status_code == status, (overrides, response.status_code)
        text = page_text(response.text)
        assert message in text, (overrides, text[-400:])
        if "address" not in overrides:
            assert "五小路5号" in response.text  # what was typed is still there
    assert await school_rows() == before


async def test_update_school(client):
    refs = await setup(client)
    url = f"/schools/{refs['school'].id}"
    response = await post_form(client, url, school_form(refs["other_grid"].id, name="长征小学（本部）", latitude="27.725"))
    assert response.status_code == 303
    assert response.headers["location"].startswith(url)
    school = await School.objects().where(School.id == refs["school"].id).first()
    assert (school.name, school.grid, school.latitude) == ("长征小学（本部）", refs["other_grid"].id, approx(27.725, abs=1e-5))
    before = await school_rows()
    for overrides, status in (({"latitude": "-91"}, 400), ({"name": "新蒲小学"}, 409), ({"grid": ""}, 400)):
        response = await post_form(client, url, school_form(refs["grid"].id, **overrides))
        assert response.status_code == status, overrides
    assert await school_rows() == before


async def test_manager_assigns_a_coordinator_login(client):
    refs = await setup(client, who="boss")
    await staff("coord2", "coordinator")
    url = f"/schools/{refs['other'].id}/coordinators"
    response = await post_form(client, url, {"login": "coord2"})
    assert response.status_code == 303
    page = page_text((await client.get(f"/schools/{refs['other'].id}")).text)
    assert "coord2 name" in page
    # Moving the first coordinator releases their old school: a coordinator keeps one school.
    assert (await post_form(client, url, {"login": "coord"})).status_code == 303
    rows = await SchoolCoordinator.select(SchoolCoordinator.user.login.as_alias("login"), SchoolCoordinator.school)
    assert sorted((row["login"], row["school"]) for row in rows) == [("coord", refs["other"].id),
                                                                     ("coord2", refs["other"].id)]
    before = await SchoolCoordinator.select().order_by(SchoolCoordinator.id)
    for login in ("nobody", "boss", ""):
        response = await post_form(client, url, {"login": login})
        assert response.status_code == 400, login
        assert "No coordinator account with this user name." in page_text(response.text)
    unknown = await post_form(client, "/schools/99999/coordinators", {"login": "coord2"})
    assert unknown.status_code == 404
    assert await SchoolCoordinator.select().order_by(SchoolCoordinator.id) == before


async def test_coordinator_cannot_assign_coordinators(client):
    refs = await setup(client)
    await staff("coord2", "coordinator")
    response = await post_form(client, f"/schools/{refs['school'].id}/coordinators", {"login": "coord2"})
    assert response.status_code == 403
    assert "You do not have permission to open this page." in page_text(response.text)
    assert await SchoolCoordinator.count() == 1


# ---------------------------------------------------------------------------------- crossings


async def test_add_and_edit_crossings(client):
    refs = await setup(client)
    school_id = refs["school"].id
    response = await post_form(client, f"/schools/{school_id}/crossings",
                               {"name": "北门", "kind": "gate", "priority": "2", "latitude": "27.7215", "longitude": "106.9815"})
    assert response.status_code == 303
    gate = await Crossing.objects().where(Crossing.name == "北门").first()
    assert (gate.school, gate.kind, gate.priority, gate.latitude) == (school_id, "gate", 2, approx(27.7215, abs=1e-5))
    response = await post_form(client, f"/schools/{school_id}/crossings/{gate.id}",
                               {"name": "北门（新）", "kind": "crossing", "priority": "5", "latitude": "27.72",
                                "longitude": "106.98"})
    assert response.status_code == 303
    gate = await Crossing.objects().where(Crossing.id == gate.id).first()
    assert (gate.name, gate.kind, gate.priority, gate.longitude) == ("北门（新）", "crossing", 5, approx(106.98, abs=1e-5))
    assert 'value="北门（新）"' in (await client.get(f"/schools/{school_id}")).text


async def test_crossing_bad_input_is_refused(client):
    refs = await setup(client)
    school_id, crossing_id = refs["school"].id, refs["crossing"].id
    good = {"name": "西门", "kind": "gate", "priority": "3", "latitude": "27.7", "longitude": "106.9"}
    before = await crossing_rows()
    for overrides, message in (
        ({"priority": "0"}, "Priority runs from 1 (calm) to 5 (dangerous)."),
        ({"priority": "6"}, "Priority runs from 1 (calm) to 5 (dangerous)."),
        ({"priority": "high"}, "Please give a whole number."),
        ({"kind": "bridge"}, "Choose crossing or gate."),
        ({"name": " "}, "Please give a name of at most 100 characters."),
        ({"latitude": ""}, "Latitude must be a number from -90 to 90."),
    ):
        for url in (f"/schools/{school_id}/crossings", f"/schools/{school_id}/crossings/{crossing_id}"):
            response = await post_form(client, url, {**good, **overrides})
            assert response.status_code == 400, (url, overrides)
            assert message in page_text(response.text), (url, overrides)
    unknown = await post_form(client, f"/schools/{school_id}/crossings/99999", good)
    assert unknown.status_code == 404
    assert await crossing_rows() == before


# ---------------------------------------------------------------------------------- bell times


async def test_bell_times_per_weekday(client):
    refs = await setup(client)
    url = f"/schools/{refs['school'].id}/bells"
    response = await post_form(client, url, bells_form(**{**WEEK, "d4": ("07:30", "08:10", "15:30", "16:15")}))
    assert response.status_code == 303
    assert await bell_rows(refs["school"].id) == [(day, 450, 490, 990, 1035) for day in range(4)] + [(4, 450, 490, 930, 975)]
    html = (await client.get(f"/schools/{refs['school'].id}")).text
    assert 'name="b0_arrival_start" value="07:30"' in html and 'name="b3_dismissal_end" value="17:15"' in html
    assert 'name="b4_dismissal_start" value="15:30"' in html and 'name="b5_arrival_start" value=""' in html
    # Emptying a day removes it; the rest stay.
    week = dict(WEEK)
    del week["d2"]
    assert (await post_form(client, url, bells_form(**week))).status_code == 303
    assert [row[0] for row in await bell_rows(refs["school"].id)] == [0, 1, 3, 4]


async def test_bad_bell_times_change_nothing(client):
    refs = await setup(client)
    url = f"/schools/{refs['school'].id}/bells"
    assert (await post_form(client, url, bells_form(**WEEK))).status_code == 303
    before = await bell_rows(refs["school"].id)
    for rows, message in (
        ({"d0": ("08:10", "07:30", "16:30", "17:15")}, "Monday: each window must end after it starts, within the day."),
        ({"d1": ("07:30", "17:00", "16:30", "17:15")}, "Tuesday: arrival must end before dismissal starts."),
        ({"d4": ("07:30", "08:10", "17:15", "16:30")}, "Friday: each window must end after it starts, within the day."),
        ({"d2": ("07:30", "", "16:30", "17:15")}, "give all four times, written as HH:MM."),
        ({"d3": ("7h30", "08:10", "16:30", "17:15")}, "give all four times, written as HH:MM."),
        ({"d6": ("07:30", "08:10", "16:30", "25:00")}, "give all four times, written as HH:MM."),
    ):
        response = await post_form(client, url, bells_form(**rows))
        assert response.status_code == 400, rows
        assert message in page_text(response.text), rows
    assert await bell_rows(refs["school"].id) == before


# ---------------------------------------------------------------------------------- closed days


async def test_holiday_range_is_added_shown_and_removed(client):
    refs = await setup(client)
    school_id = refs["school"].id
    first = local_today() + dt.timedelta(days=10)
    response = await post_form(client, f"/schools/{school_id}/closures",
                               {"first": first.isoformat(), "last": (first + dt.timedelta(days=2)).isoformat(),
                                "reason": "秋假"})
    assert response.status_code == 303
    assert await closure_rows() == [(school_id, first + dt.timedelta(days=offset), "秋假") for offset in range(3)]
    single = first + dt.timedelta(days=20)
    assert (await post_form(client, f"/schools/{school_id}/closures",
                            {"first": single.isoformat(), "reason": "校运动会"})).status_code == 303
    page = page_text((await client.get(f"/schools/{school_id}")).text)
    assert f"{first.isoformat()} – {(first + dt.timedelta(days=2)).isoformat()} 秋假" in page
    assert f"{single.isoformat()} 校运动会" in page
    # Removing the holiday leaves the sports day.
    response = await post_form(client, f"/schools/{school_id}/closures/remove",
                               {"first": first.isoformat(), "last": (first + dt.timedelta(days=2)).isoformat()})
    assert response.status_code == 303
    assert await closure_rows() == [(school_id, single, "校运动会")]
    missing = await post_form(client, f"/schools/{school_id}/closures/remove", {"first": first.isoformat()})
    assert missing.status_code == 404
    assert "This day is not marked as closed." in page_text(missing.text)
    assert await closure_rows() == [(school_id, single, "校运动会")]


async def test_bad_closed_days_change_nothing(client):
    refs = await setup(client)
    url = f"/schools/{refs['school'].id}/closures"
    today = local_today()
    for form, message in (
        ({"first": (today - dt.timedelta(days=1)).isoformat()}, "Closed days must not be in the past."),
        ({"first": (today + dt.timedelta(days=5)).isoformat(), "last": (today + dt.timedelta(days=4)).isoformat()},
         "The last date must not be before the first."),
        ({"first": "2026-02-30"}, "Dates are written as YYYY-MM-DD."),
        ({"first": ""}, "Please give the first date."),
        ({"first": today.isoformat(), "last": (today + dt.timedelta(days=400)).isoformat()}, "At most 366 days at a time."),
        ({"first": today.isoformat(), "reason": "假" * 101}, "At most 100 characters."),
    ):
        response = await post_form(client, url, form)
        assert response.status_code == 400, form
        assert message in page_text(response.text), form
    assert await closure_rows() == []


# ---------------------------------------------------------------------------------- JSON API


async def test_school_api_round_trip(client):
    refs = await setup(client, who="boss")
    created = await api(client, "POST", "/api/schools", json={"name": "遵义市第五小学", "address": "五小路5号",
                                                               "grid_id": refs["grid"].id, "latitude": 27.7,
                                                               "longitude": 106.9})
    assert created.status_code == 201, created.text
    school_id = created.json()["id"]
    changed = await api(client, "PUT", f"/api/schools/{school_id}", json={
        "name": "遵义市第五小学", "address": "五小路6号", "grid_id": refs["other_grid"].id, "latitude": 27.71, "longitude": 106.91})
    assert changed.status_code == 200 and changed.json()["address"] == "五小路6号"
    crossing = await api(client, "POST", f"/api/schools/{school_id}/crossings",
                         json={"name": "南门", "kind": "gate", "priority": 2, "latitude": 27.71, "longitude": 106.91})
    assert crossing.status_code == 201, crossing.text
    crossing_id = crossing.json()["id"]
    moved = await api(client, "PUT", f"/api/crossings/{crossing_id}",
                      json={"name": "南门", "kind": "gate", "priority": 4, "latitude": 27.712, "longitude": 106.91})
    assert moved.status_code == 200 and moved.json()["priority"] == 4
    bells = await api(client, "PUT", f"/api/schools/{school_id}/bells", json=[
        {"weekday": day, "arrival_start": "07:30", "arrival_end": "08:10", "dismissal_start": "16:30",
         "dismissal_end": "17:15"} for day in range(5)])
    assert bells.status_code == 200 and len(bells.json()) == 5
    day = local_today() + dt.timedelta(days=3)
    closed = await api(client, "POST", f"/api/schools/{school_id}/closures", json={"days": [day.isoformat()], "reason": "停电"})
    assert closed.status_code == 201 and closed.json() == [{"day": day.isoformat(), "reason": "停电"}]
    await staff("coord2", "coordinator")
    assert (await api(client, "POST", f"/api/schools/{school_id}/coordinators", json={"login": "coord2"})).status_code == 201
    detail = (await api(client, "GET", f"/api/schools/{school_id}")).json()
    assert detail["school"]["grid_id"] == refs["other_grid"].id
    assert [c["name"] for c in detail["crossings"]] == ["南门"]
    assert detail["bells"][0] == {"weekday": 0, "arrival_start": "07:30", "arrival_end": "08:10",
                                  "dismissal_start": "16:30", "dismissal_end": "17:15"}
    assert detail["closures"] == [{"day": day.isoformat(), "reason": "停电"}]
    removed = await api(client, "DELETE", f"/api/schools/{school_id}/closures/{day.isoformat()}")
    assert removed.status_code == 204
    assert (await api(client, "DELETE", f"/api/schools/{school_id}/closures/{day.isoformat()}")).status_code == 404
    assert await SchoolClosure.count() == 0
    names = [s["name"] for s in (await api(client, "GET", "/api/schools")).json()]
    assert names == sorted(["长征小学", "新蒲小学", "遵义市第五小学"])


async def test_school_api_refuses_bad_input_and_changes_nothing(client):
    refs = await setup(client, who="boss")
    school_id = refs["school"].id
    snapshot = (await school_rows(), await crossing_rows(), await bell_rows(school_id), await closure_rows())
    base = {"name": "新学校", "address": "某路1号", "grid_id": refs["grid"].id, "latitude": 27.7, "longitude": 106.9}
    yesterday = (local_today() - dt.timedelta(days=1)).isoformat()
    for method, url, body, status, field in (
        ("POST", "/api/schools", {**base, "latitude": 95}, 400, "latitude"),
        ("POST", "/api/schools", {**base, "grid_id": 99999}, 400, "grid"),
        ("POST", "/api/schools", {**base, "name": "长征小学"}, 409, "name"),
        ("POST", "/api/schools", {"name": "x"}, 400, None),
        ("PUT", "/api/schools/99999", base, 404, None),
        ("POST", f"/api/schools/{school_id}/crossings", {"name": "x", "priority": 0, "latitude": 1, "longitude": 1}, 400, "priority"),
        ("POST", f"/api/schools/{school_id}/crossings", {"name": "x", "kind": "tunnel", "latitude": 1, "longitude": 1}, 400, "kind"),
        ("PUT", "/api/crossings/99999", {"name": "x", "latitude": 1, "longitude": 1}, 404, None),
        ("PUT", f"/api/schools/{school_id}/bells", [{"weekday": 0, "arrival_start": "8:60", "arrival_end": "09:00",
                                                      "dismissal_start": "16:00", "dismissal_end": "17:00"}], 400, "bells"),
        ("PUT", f"/api/schools/{school_id}/bells", [{"weekday": 7, "arrival_start": "08:00", "arrival_end": "09:00",
                                                      "dismissal_start": "16:00", "dismissal_end": "17:00"}], 400, "bells"),
        ("PUT", f"/api/schools/{school_id}/bells", [{"weekday": 1, "arrival_start": "08:00", "arrival_end": "09:00",
                                                      "dismissal_start": "16:00", "dismissal_end": "17:00"}] * 2, 400, "bells"),
        ("POST", f"/api/schools/{school_id}/closures", {"days": [yesterday]}, 400, "days"),
        ("POST", f"/api/schools/{school_id}/closures", {"days": []}, 400, "days"),
        ("POST", f"/api/schools/{school_id}/coordinators", {"login": "nobody"}, 400, "login"),
    ):
        response = await api(client, method, url, json=body)
        assert response.status_code == status, (url, body, response.text)
        answer = response.json()
        assert answer["detail"]
        if field:
            assert field in answer.get("errors", {}), (url, answer)
    assert snapshot == (await school_rows(), await crossing_rows(), await bell_rows(school_id), await closure_rows())
