"""The demo district loads once, stays the same when loaded again, and its accounts log in."""

from __future__ import annotations

import datetime as dt

from support import log_in, page_text

from volunteer_hub import demo
from volunteer_hub.accounts.tables import User
from volunteer_hub.activities.tables import Activity
from volunteer_hub.attendance.tables import Attendance
from volunteer_hub.incentives.tables import BadgeGrant
from volunteer_hub.points.services import balances_that_disagree_with_the_ledger
from volunteer_hub.points.tables import PointsEntry
from volunteer_hub.rewards.tables import Reward
from volunteer_hub.reference.tables import Grid
from volunteer_hub.schools.tables import EscortRequest, School
from volunteer_hub.shifts.tables import Assignment, Shift
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.tables import AvailabilityWindow, Volunteer


async def test_demo_district_is_idempotent_and_its_accounts_work(client):
    first = await demo.seed_demo()
    counts = [await table.count() for table in (User, Grid, School, Site, Volunteer, AvailabilityWindow)]
    assert counts[1:5] == [27, 10, 30, 300]
    assert "300 volunteers added" in first
    programmes = [await table.count() for table in (EscortRequest, Activity, Shift, Assignment)]
    assert programmes[:2] == [35, 6]
    # A month of escort and Friday shifts, and some of the coming week already signed up for.
    days = {row["day"] for row in await Shift.select(Shift.day)}
    assert max(days) - min(days) >= dt.timedelta(days=28)
    assert await Shift.count().where(Shift.kind == "escort") > 500
    assert await Shift.count().where(Shift.kind != "escort") >= 24
    assert programmes[3] > 50
    # Last week's service: attendance turned into points and badges; the shop has items.
    assert await Attendance.count() > 100
    assert await PointsEntry.count() > 100 and await balances_that_disagree_with_the_ledger() == {}
    assert await BadgeGrant.count().where(BadgeGrant.badge == "first_escort") > 10
    assert await Reward.count() == 5
    second = await demo.seed_demo()
    assert "0 volunteers added" in second and "0 shifts created" in second
    assert [await table.count() for table in (User, Grid, School, Site, Volunteer, AvailabilityWindow)] == counts
    assert [await table.count() for table in (EscortRequest, Activity, Shift, Assignment)] == programmes
    assert "0 past attendances recorded, 0 rewards added" in second
    assert "already has accounts" in await demo.seed_demo_if_empty()

    for login, (role, _name, password) in demo.DEMO_ACCOUNTS.items():
        await log_in(client, login, password)
        me = (await client.get("/api/auth/me")).json()
        assert me["role"] == role
    await log_in(client, "13800000001", demo.DEMO_VOLUNTEER_PASSWORD)
    profile = await client.get("/profile")
    assert profile.status_code == 200 and "13800000001" in page_text(profile.text)
