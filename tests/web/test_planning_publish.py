"""Planning through the HTTP API, what publishing does and refuses: the preview's unfilled seats with
their reasons and its per-volunteer changes (added, removed, moved) and the notifications they send;
self sign-ups and locked assignments kept, and unlocking; started and past shifts left alone by a
re-solve; a publication refused because a volunteer left after the run started; a volunteer's
decline of a planned shift refused after the cut-off.

Runs are executed by ``execute_run`` (what the worker calls) in the test's own event loop."""

from __future__ import annotations

import datetime as dt
import json

from shift_support import make_shift, make_volunteer, volunteer_client
from support import api, log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.accounts.tables import ROLE_MANAGER
from volunteer_hub.clock import local_now, local_today
from volunteer_hub.notifications.tables import Notification, OutboxMessage
from volunteer_hub.planning.tables import PlanProposal, PlanRun, PublishedVersion
from volunteer_hub.planning.worker import execute_run
from volunteer_hub.points.tables import PointsEntry
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import Assignment

MANAGER_PASSWORD = "Staff2026pass"


async def _manager(client) -> dict:
    refs = await make_reference_data()
    await make_staff("manager1", ROLE_MANAGER, name="王经理")
    await log_in(client, "manager1", MANAGER_PASSWORD)
    return refs


def _period(first_day_offset: int = 0) -> dict:
    today = local_today()
    return {"start": (today + dt.timedelta(days=first_day_offset)).isoformat(),
            "end": (today + dt.timedelta(days=6)).isoformat()}


async def _shift_at(refs: dict, day: dt.date, hour: int, key: str, seats: tuple[int, int, int] = (1, 1, 1), **overrides):
    starts_at = dt.datetime.combine(day, dt.time(hour))
    seats_min, seats_ideal, seats_max = seats
    return await make_shift(refs, key=key, seats_min=seats_min, seats_max=seats_max,
                            **{"starts_at": starts_at, "ends_at": starts_at + dt.timedelta(hours=1), "day": day,
                               "seats_ideal": seats_ideal, **overrides})


async def _start(client, url: str = "/api/plan/runs", body: dict | None = None) -> int:
    response = await api(client, "POST", url, json={"time_limit_s": 10, **(body or {})})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    assert await execute_run(run_id) == "succeeded"
    return run_id


async def _publish(client, run_id: int) -> dict:
    response = await api(client, "POST", f"/api/plan/runs/{run_id}/publish")
    assert response.status_code == 200, response.text
    return response.json()


async def _assignments() -> list[tuple]:
    rows = await Assignment.select(Assignment.id, Assignment.shift, Assignment.volunteer, Assignment.status,
                                   Assignment.source, Assignment.locked).order_by(Assignment.id)
    return [(r["id"], r["shift"], r["volunteer"], r["status"], r["source"], r["locked"]) for r in rows]


async def _confirmed() -> dict[tuple[int, int], dict]:
    rows = await Assignment.select().where(Assignment.status == "confirmed")
    return {(r["shift"], r["volunteer"]): r for r in rows}


def _params(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


async def test_preview_lists_unfilled_seats_with_the_reasons(client):
    refs = await _manager(client)
    day = local_today() + dt.timedelta(days=2)
    short = await _shift_at(refs, day, 14, "short", seats=(3, 3, 3))
    other = await _shift_at(refs, day, 9, "other")
    chosen = [await make_volunteer(refs["grid"].id, f"1390000001{k}") for k in range(2)]
    await make_volunteer(refs["grid"].id, "13900000020", birth_year=local_today().year - 12)  # too young
    await make_volunteer(refs["grid"].id, "13900000021", always_available=False)  # no time given
    busy = await make_volunteer(refs["grid"].id, "13900000022", max_shifts=1)  # on another shift this week
    left = await make_volunteer(refs["grid"].id, "13900000023")  # left this shift before
    for person, shift_id, leave in ((busy, other.id, False), (left, short.id, True)):
        volunteer = await volunteer_client(client, person.phone)
        assert (await api(volunteer, "POST", f"/api/shifts/{shift_id}/signup", json={})).status_code == 201
        if leave:
            assert (await api(volunteer, "DELETE", f"/api/shifts/{shift_id}/signup")).status_code == 200
        await volunteer.aclose()

    run_id = await _start(client, body=_period())
    preview = (await client.get(f"/api/plan/runs/{run_id}/preview")).json()
    assert preview["shortfall_count"] == 1 and preview["seats_short_min"] == 1 and preview["seats_short_ideal"] == 1
    [row] = preview["shortfalls"]
    assert row["shift_id"] == short.id
    assert row["title"] == f"{refs['site'].name} · {short.title}"
    assert row["when"] == f"{day.isoformat()} 14:00-15:00"
    assert (row["filled"], row["seats_min"], row["seats_ideal"], row["eligible"]) == (2, 3, 3, 3)  # eligible: the two chosen and the one at their limit
    # worded in the manager's language, zero counts left out
    assert row["reasons"] == {"年龄不足": 1, "该时段没空": 1, "已婉拒此班次": 1, "已达每周上限": 1}, row["reasons"]
    cell = next(c for r in preview["grid"] for d in r["days"] for c in d if c["shift_id"] == short.id)
    assert (cell["filled"], cell["state"]) == (2, "short")
    proposal = {(r["shift"], r["volunteer"]) for r in await PlanProposal.select().where(PlanProposal.run == run_id)}
    assert {(short.id, p.id) for p in chosen} <= proposal

    page = page_text((await client.get(f"/plan/runs/{run_id}")).text)
    assert f"{day.isoformat()} 14:00-15:00 {refs['site'].name} · {short.title} : 2/3/3" in page, page
    assert "年龄不足: 1" in page and "已达每周上限: 1" in page


async def test_preview_shows_each_volunteers_changes_and_publish_tells_them(client):
    refs = await _manager(client)
    day = local_today() + dt.timedelta(days=2)
    if day.weekday() == 6:  # the next day in the same week, so that "one shift a week" holds for both
        day += dt.timedelta(days=1)
    early = await _shift_at(refs, day, 8, "early")
    late = await _shift_at(refs, day, 11, "late")
    next_day = await _shift_at(refs, day + dt.timedelta(days=1), 9, "next", seats=(1, 2, 2))
    people = [await make_volunteer(refs["grid"].id, f"1390000003{k}", max_shifts=1) for k in range(3)]
    newcomer = await make_volunteer(refs["grid"].id, "13900000039", max_shifts=1, always_available=False)
    first = await _start(client, body=_period())
    await _publish(client, first)
    published = await _confirmed()
    on = {shift: volunteer for shift, volunteer in published}
    assert set(on) == {early.id, late.id, next_day.id}  # each of the three on one shift (one a week each)
    by_id = {p.id: p for p in people + [newcomer]}
    mover, dropped = by_id[on[early.id]], by_id[on[late.id]]

    # The re-solve's proposal, changed by hand: the early volunteer moves to the late shift of the
    # same day (its volunteer is dropped), and the newcomer joins the next day's shift.
    second = await _start(client, f"/api/plan/runs/{first}/resolve")
    rows = {(r["shift"], r["volunteer"]): r["id"] for r in await PlanProposal.select().where(PlanProposal.run == second)}
    for pair in ((early.id, mover.id), (late.id, dropped.id)):
        assert (await api(client, "DELETE", f"/api/plan/runs/{second}/rows/{rows[pair]}")).status_code == 204
    assert (await api(client, "POST", f"/api/plan/runs/{second}/rows",
                      json={"shift_id": late.id, "phone": mover.phone})).status_code == 201
    added = await api(client, "POST", f"/api/plan/runs/{second}/rows",
                      json={"shift_id": next_day.id, "phone": newcomer.phone, "confirm": True})
    assert added.status_code == 201 and added.json()["broken_rules"]  # outside their stated times

    place = refs["site"].name
    early_label = f"{day.isoformat()} 08:00-09:00 {place}"
    late_label = f"{day.isoformat()} 11:00-12:00 {place}"
    next_label = f"{(day + dt.timedelta(days=1)).isoformat()} 09:00-10:00 {place}"
    preview = (await client.get(f"/api/plan/runs/{second}/preview")).json()
    assert preview["change_totals"] == {"added": 1, "removed": 1, "moved": 1, "volunteers": 3}
    changes = {c["volunteer_id"]: (c["name"], c["added"], c["removed"], c["moved"]) for c in preview["changes"]}
    assert changes == {
        mover.id: (mover.name, [], [], [[early_label, late_label]]),
        dropped.id: (dropped.name, [], [late_label], []),
        newcomer.id: (newcomer.name, [next_label], [], []),
    }
    page = page_text((await client.get(f"/plan/runs/{second}")).text)
    assert f"{mover.name} → {early_label} ⇒ {late_label}" in page
    assert f"{dropped.name} − {late_label}" in page and f"{newcomer.name} + {next_label}" in page

    notified_before = {r["id"] for r in await Notification.select(Notification.id)}
    outbox_before = {r["id"] for r in await OutboxMessage.select(OutboxMessage.id)}
    assert await _publish(client, second) == {"version": 2, "added": 1, "removed": 1, "moved": 1}
    notes = await Notification.select().where(Notification.id.not_in(list(notified_before)))
    assert sorted((n["user"], n["kind"]) for n in notes) == sorted(
        [(mover.user, "plan_moved"), (dropped.user, "plan_removed"), (newcomer.user, "plan_added")])
    moved = _params(next(n["params"] for n in notes if n["kind"] == "plan_moved"))
    assert (moved["shift_id"], moved["when"], moved["from_when"]) == (
        late.id, f"{day.isoformat()} 11:00-12:00", f"{day.isoformat()} 08:00-09:00")
    outbox = await OutboxMessage.select().where(OutboxMessage.id.not_in(list(outbox_before)))
    assert sorted((m["user"], m["kind"], m["channel"], m["address"]) for m in outbox) == sorted(
        [(mover.user, "plan_moved", "sms", mover.phone), (dropped.user, "plan_removed", "sms", dropped.phone),
         (newcomer.user, "plan_added", "sms", newcomer.phone)])
    live = await _confirmed()
    assert set(live) == {(late.id, mover.id), (next_day.id, on[next_day.id]), (next_day.id, newcomer.id)}
    assert live[(next_day.id, newcomer.id)]["source"] == "manual"
    # what the moved volunteer reads, in their language
    volunteer = await volunteer_client(client, mover.phone)
    messages = page_text((await volunteer.get("/notifications")).text)
    assert f"{day.isoformat()} 08:00-09:00" in messages and f"{day.isoformat()} 11:00-12:00" in messages
    await volunteer.aclose()


async def test_publish_keeps_self_sign_ups_and_locks_and_unlocking_frees_the_assignment(client):
    refs = await _manager(client)
    day = local_today() + dt.timedelta(days=2)
    together = await _shift_at(refs, day, 9, "together", seats=(1, 2, 2))
    alone = await _shift_at(refs, day + dt.timedelta(days=1), 9, "alone")
    people = [await make_volunteer(refs["grid"].id, f"1390000004{k}") for k in range(4)]
    volunteer = await volunteer_client(client, people[0].phone)
    assert (await api(volunteer, "POST", f"/api/shifts/{together.id}/signup", json={})).status_code == 201
    await volunteer.aclose()

    first = await _start(client, body=_period())
    rows = {(r["shift"], r["volunteer"]): r for r in await PlanProposal.select().where(PlanProposal.run == first)}
    assert rows[(together.id, people[0].id)]["origin"] == "self"
    [(_, locked_volunteer)] = [pair for pair in rows if pair[0] == alone.id]
    lock_row = rows[(alone.id, locked_volunteer)]
    assert (await api(client, "POST", f"/api/plan/runs/{first}/rows/{lock_row['id']}/lock",
                      json={"locked": True})).status_code == 200
    self_row = rows[(together.id, people[0].id)]
    assert (await api(client, "POST", f"/api/plan/runs/{first}/rows/{self_row['id']}/lock",
                      json={"locked": True})).status_code == 409  # a sign-up stays anyway
    await _publish(client, first)
    live = await _confirmed()
    own, locked = live[(together.id, people[0].id)], live[(alone.id, locked_volunteer)]
    assert (own["source"], own["locked"]) == ("self", False)
    assert (locked["source"], locked["locked"]) == ("solver", True)
    [(_, planned_volunteer)] = [pair for pair in live if pair[0] == together.id and pair[1] != people[0].id]

    # The re-solve keeps both as fixed; the manager takes the planned partner off the shared shift.
    second = await _start(client, f"/api/plan/runs/{first}/resolve")
    rows = {(r["shift"], r["volunteer"]): r for r in await PlanProposal.select().where(PlanProposal.run == second)}
    assert (rows[(together.id, people[0].id)]["origin"], rows[(alone.id, locked_volunteer)]["origin"]) == ("self", "locked")
    assert rows[(alone.id, locked_volunteer)]["locked"] is True
    for pair in ((together.id, people[0].id), (alone.id, locked_volunteer)):
        refused = await api(client, "DELETE", f"/api/plan/runs/{second}/rows/{rows[pair]['id']}")
        assert refused.status_code == 409 and refused.json()["detail"]
    assert (await api(client, "DELETE", f"/api/plan/runs/{second}/rows/{rows[(together.id, planned_volunteer)]['id']}")).status_code == 204
    # and unlocks the locked one: it stays on the schedule, no longer locked
    assert (await api(client, "POST", f"/api/plan/runs/{second}/rows/{rows[(alone.id, locked_volunteer)]['id']}/lock",
                      json={"locked": False})).status_code == 200
    summary = await _publish(client, second)
    assert (summary["removed"], summary["added"], summary["moved"]) == (1, 0, 0)
    after = await _confirmed()
    assert set(after) == {(together.id, people[0].id), (alone.id, locked_volunteer)}
    assert after[(together.id, people[0].id)]["id"] == own["id"] and after[(together.id, people[0].id)]["source"] == "self"
    assert after[(alone.id, locked_volunteer)]["id"] == locked["id"] and after[(alone.id, locked_volunteer)]["locked"] is False

    # Unlocked, it is an ordinary planned row the next time: not fixed, and it can be removed.
    third = await _start(client, f"/api/plan/runs/{second}/resolve")
    rows = {(r["shift"], r["volunteer"]): r for r in await PlanProposal.select().where(PlanProposal.run == third)}
    row = rows[(alone.id, locked_volunteer)]
    assert (row["origin"], row["locked"]) == ("solver", False)
    assert (await api(client, "DELETE", f"/api/plan/runs/{third}/rows/{row['id']}")).status_code == 204


async def test_a_resolve_leaves_past_and_started_shifts_alone(client):
    refs = await _manager(client)
    now = local_now().replace(second=0)
    past = await make_shift(refs, key="past", starts_in=dt.timedelta(hours=-3), seats_min=2, seats_max=2)
    started = await make_shift(refs, key="started", starts_in=dt.timedelta(minutes=-30), seats_min=2, seats_max=2)
    coming = await _shift_at(refs, local_today() + dt.timedelta(days=2), 9, "coming", seats=(2, 2, 2))
    assert past.ends_at < now < started.ends_at and started.starts_at < now
    people = [await make_volunteer(refs["grid"].id, f"1390000005{k}") for k in range(4)]
    # Published earlier, when these shifts lay ahead: one of two seats taken on each.
    await Assignment.insert(Assignment(shift=past.id, volunteer=people[0].id, status="confirmed", source="solver"),
                            Assignment(shift=started.id, volunteer=people[1].id, status="confirmed", source="solver"))
    before = {row for row in await _assignments() if row[1] in (past.id, started.id)}
    period = _period(-1)  # from yesterday: the past shift is in the period however early today is

    first = await _start(client, body=period)
    await _publish(client, first)
    second = await _start(client, f"/api/plan/runs/{first}/resolve")
    assert (await PlanRun.select(PlanRun.stability).where(PlanRun.id == second).first())["stability"] is True
    preview = (await client.get(f"/api/plan/runs/{second}/preview")).json()
    assert preview["change_totals"]["removed"] == 0
    notified = await Notification.count()
    await _publish(client, second)
    assert {row for row in await _assignments() if row[1] in (past.id, started.id)} == before
    assert {pair[0] for pair in await _confirmed()} == {past.id, started.id, coming.id}
    assert sum(1 for pair in await _confirmed() if pair[0] == coming.id) == 2
    # nobody is told anything about the started or past shift
    for note in await Notification.select():
        assert _params(note["params"]).get("shift_id") not in (past.id, started.id)
    assert await Notification.count() == notified  # the re-solve changed nothing ahead either


async def test_publish_refuses_when_a_volunteer_left_after_the_run_started(client):
    refs = await _manager(client)
    day = local_today() + dt.timedelta(days=2)
    shifts = [await _shift_at(refs, day, 9 + 3 * k, f"s{k}", seats=(1, 2, 2)) for k in range(2)]
    people = [await make_volunteer(refs["grid"].id, f"1390000006{k}") for k in range(4)]
    first = await _start(client, body=_period())
    await _publish(client, first)
    second = await _start(client, f"/api/plan/runs/{first}/resolve")
    proposal = {(r["shift"], r["volunteer"]) for r in await PlanProposal.select().where(PlanProposal.run == second)}
    shift_id, volunteer_id = sorted(proposal & set(await _confirmed()))[0]
    leaver = next(p for p in people if p.id == volunteer_id)
    # After the run started (here: after it ended), the volunteer declines that shift.
    volunteer = await volunteer_client(client, leaver.phone)
    assert (await api(volunteer, "DELETE", f"/api/shifts/{shift_id}/signup")).status_code == 200
    await volunteer.aclose()

    before = (await _assignments(), await Notification.count(), await OutboxMessage.count())
    refused = await api(client, "POST", f"/api/plan/runs/{second}/publish")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith("求解期间排班发生了变化"), refused.json()
    shift = next(s for s in shifts if s.id == shift_id)
    when = f"{shift.day.isoformat()} {shift.starts_at:%H:%M}-{shift.ends_at:%H:%M}"
    assert refused.json()["errors"]["problems"] == f"{leaver.name} 在运行开始后退出了 {when} {shift.title}。"
    assert (await _assignments(), await Notification.count(), await OutboxMessage.count()) == before
    assert await PublishedVersion.count() == 1
    assert (await client.get(f"/api/plan/runs/{second}")).json()["published"] is False
    # on the page: back to the run, with the reason
    form = await post_form(client, f"/plan/runs/{second}/publish", {})
    assert form.status_code == 303 and form.headers["location"] == f"/plan/runs/{second}"
    assert f"{leaver.name} 在运行开始后退出了" in page_text((await client.get(f"/plan/runs/{second}")).text)
    assert await PublishedVersion.count() == 1


async def test_a_planned_shift_cannot_be_declined_after_the_cut_off(client):
    refs = await _manager(client)
    hours = get_settings().cancel_cutoff_hours
    soon = await make_shift(refs, key="soon", starts_in=dt.timedelta(hours=hours / 4))
    own_soon = await make_shift(refs, key="own", starts_in=dt.timedelta(hours=hours / 4, minutes=90))
    planned = await make_volunteer(refs["grid"].id, "13900000070")
    signed = await make_volunteer(refs["grid"].id, "13900000071", always_available=False)
    volunteer = await volunteer_client(client, signed.phone)
    assert (await api(volunteer, "POST", f"/api/shifts/{own_soon.id}/signup",
                      json={"confirm_outside_availability": True})).status_code == 201
    first = await _start(client, body={"start": local_today().isoformat(),
                                       "end": (local_today() + dt.timedelta(days=1)).isoformat()})
    await _publish(client, first)
    live = await _confirmed()
    assert live[(soon.id, planned.id)]["source"] == "solver"

    before = (await _assignments(), await PointsEntry.count())
    declining = await volunteer_client(client, planned.phone)
    refused = await api(declining, "DELETE", f"/api/shifts/{soon.id}/signup")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == (f"这是协会为您安排的班次，距开始已不足 {hours:g} 小时，无法在此婉拒。"
                                        "如果您不能前来，请告知您的协调员。")
    mine = (await declining.get("/my/shifts")).text
    assert "已过婉拒截止时间" in page_text(mine)
    assert f'action="/shifts/{soon.id}/leave"' not in mine  # no decline button that would only be refused
    detail = (await declining.get(f"/shifts/{soon.id}")).text
    assert "已过婉拒截止时间" in page_text(detail) and f'action="/shifts/{soon.id}/leave"' not in detail
    page = await post_form(declining, f"/shifts/{soon.id}/leave", {"next": "/my/shifts"})
    assert page.status_code == 409 and "无法在此婉拒" in page_text(page.text)
    assert (await _assignments(), await PointsEntry.count()) == before
    await declining.aclose()

    # A volunteer's own sign-up can still be left that late: recorded as a late cancellation.
    left = await api(volunteer, "DELETE", f"/api/shifts/{own_soon.id}/signup")
    assert left.status_code == 200 and left.json()["late"] is True
    await volunteer.aclose()
