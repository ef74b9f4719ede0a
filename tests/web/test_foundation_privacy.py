"""A volunteer's phone number is never shown to other volunteers: another volunteer walks every page
and API answer a volunteer may open (the list comes from the app's routes and their guards) while
the first volunteer is on a shift, in a unit with team seats and on the leaderboards."""

from __future__ import annotations

import re

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff

from volunteer_hub import db
from volunteer_hub.points import services as points
from volunteer_hub.volunteers.tables import Volunteer

PHONE = "13911112222"
# Pages anyone may open without logging in (tests/web/test_foundation_guards.py checks no other route lacks a guard).
PUBLIC_PAGES = ("/", "/login", "/register", "/api/reference/grids", "/api/reference/units")
SHOWN_AS = (PHONE, "139 1111 2222", "139-1111-2222", "139****2222")


def _leaks(text: str) -> list[str]:
    return [form for form in SHOWN_AS if form in text]


async def test_another_volunteer_never_sees_the_phone_number(client):
    refs = await make_reference_data()
    shift = await make_shift(refs, seats_max=4, key="privacy", team_slots=2)
    first = await make_volunteer(refs["grid"].id, PHONE)
    await make_volunteer(refs["grid"].id, "13900000002")
    await Volunteer.update({Volunteer.unit: refs["unit"].id}).where(Volunteer.id.is_in([first.id]))
    async with db.write_transaction():
        await points.add_entry(first.id, 40, rule="test", source="correction", key="privacy-points")
    owner = await volunteer_client(client, PHONE)
    assert (await api(owner, "POST", f"/api/shifts/{shift.id}/team", json={"seats": 1})).status_code == 200
    assert (await api(owner, "POST", f"/api/shifts/{shift.id}/signup", json={})).status_code == 201
    assert PHONE in (await owner.get("/profile")).text  # the owner sees their own number
    other = await volunteer_client(client, "13900000002")

    ids = {"shift_id": str(shift.id), "grid_id": str(refs["grid"].id), "school_id": str(refs["school"].id),
           "site_id": str(refs["site"].id)}
    urls = list(PUBLIC_PAGES)
    for route in client._transport.app.routes:  # every GET a volunteer's guards let through
        for handler in getattr(route, "route_handlers", []):
            guards = [guard for layer in handler.ownership_layers for guard in (getattr(layer, "guards", None) or [])]
            if "GET" in handler.http_methods and guards and all("volunteer" in guard.roles for guard in guards):
                urls.append(re.sub(r"\{([^}:]+):[a-z]+\}", lambda m: ids.get(m.group(1), "424242"), route.path))
    assert {"/shifts", f"/shifts/{shift.id}", "/api/shifts", f"/api/shifts/{shift.id}/team", "/leaderboard",
            "/api/leaderboard", "/api/reference/units"} <= set(urls), urls
    for board in ("volunteers", "units", "grids"):
        for period in ("week", "all"):
            urls += [f"/leaderboard?board={board}&period={period}", f"/api/leaderboard?board={board}&period={period}"]
    urls += ["/rosters", f"/rosters?site={refs['site'].id}", f"/api/rosters?site={refs['site'].id}"]

    seen = 0
    for url in urls:
        answer = await other.get(url)
        assert _leaks(answer.text) == [], (url, answer.status_code)
        seen += answer.status_code == 200
    assert seen > 15  # most of them really answered
    board = (await other.get("/api/leaderboard", params={"board": "volunteers", "period": "all"})).json()
    assert [row["points"] for row in board] == [40]  # the first volunteer is on it, without the number
    card = (await other.get(f"/api/shifts/{shift.id}")).json()
    assert card["id"] == shift.id and _leaks(str(card)) == []

    # The same number is on the manager's roster, so the walk above looked for the right thing.
    await make_staff("manager1", "manager")
    await log_in(client, "manager1", "Staff2026pass")
    roster = await client.get("/api/rosters", params={"site": refs["site"].id, "week": shift.day.isoformat()})
    assert roster.status_code == 200 and PHONE in roster.text
    for person in (owner, other):
        await person.aclose()
