"""The quarter's unit evaluation, the award split, the honour roll and the downloads."""

from __future__ import annotations

import csv
import re
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from shift_support import make_volunteer, volunteer_client
from support import log_in, make_reference_data, make_staff, page_text, post_form

from volunteer_hub.clock import local_today
from volunteer_hub.db import write_transaction
from volunteer_hub.incentives.evaluation import Score, award_split
from volunteer_hub.attendance.tables import Attendance
from volunteer_hub.incentives import evaluation
from volunteer_hub.points import services as points
from volunteer_hub.points.tables import PointsBalance, PointsEntry
from volunteer_hub.settings import get_settings
from volunteer_hub.shifts.tables import Shift
from volunteer_hub.volunteers.tables import Unit, Volunteer

ZONE = ZoneInfo(get_settings().timezone)


async def _backdated(volunteer_id: int, amount: int, at: dt.datetime, key: str) -> None:
    """A ledger entry written at a past moment (``add_entry`` always writes now), with the kept balance
    moved alike; call ``points.rebuild_period_totals()`` once all are in."""
    await PointsEntry(volunteer=volunteer_id, amount=amount, rule="test", source="correction", idempotency_key=key,
                      created_at=at).save()
    kept = await PointsBalance.objects().where(PointsBalance.volunteer == volunteer_id).first()
    if kept is None:
        await PointsBalance(volunteer=volunteer_id, balance=amount).save()
    else:
        await PointsBalance.update({PointsBalance.balance: kept.balance + amount}).where(PointsBalance.id == kept.id)


async def _attended(refs: dict, volunteer_id: int, day: dt.date, minutes: int, key: str) -> None:
    """A verified attendance of ``minutes`` on a past day, written straight to the tables."""
    starts = dt.datetime.combine(day, dt.time(9, 0))
    site = refs["site"]
    shift = Shift(source_key=key, site=site.id, grid=site.grid, kind="cleanup", title="清扫", day=day, starts_at=starts,
                  ends_at=starts + dt.timedelta(minutes=minutes), latitude=site.latitude, longitude=site.longitude,
                  seats_min=1, seats_ideal=1, seats_max=1, priority=2)
    await shift.save()
    await Attendance(shift=shift.id, volunteer=volunteer_id, status="present", verified_minutes=minutes, source="roster",
                     revision=1).save()


async def _people(refs: dict) -> tuple[list[Unit], list[Volunteer]]:
    """Two units; volunteer 0 and 1 in the first (home grids 1 and 2), volunteer 2 in the second."""
    second_unit = Unit(name="新蒲交警中队", kind="department")
    await second_unit.save()
    units = [refs["unit"], second_unit]
    people = []
    for n, (unit, grid) in enumerate([(0, "grid"), (0, "other_grid"), (1, "grid")]):
        volunteer = await make_volunteer(refs[grid].id, f"1390000000{n}")
        await Volunteer.update({Volunteer.unit: units[unit].id, Volunteer.name: f"志愿者{n}"}).where(Volunteer.id == volunteer.id)
        people.append(volunteer)
    return units, people


def test_award_split_is_proportional_above_the_threshold_and_adds_up():
    scores = [Score(1, "甲", 5, 300, 0), Score(2, "乙", 5, 200, 0), Score(3, "丙", 5, 100, 0), Score(4, "丁", 5, 0, 0)]
    split = award_split(scores, Decimal("1000"), threshold=150)
    assert [a.eligible for a in split.awards] == [True, True, False, False]
    assert split.eligible_points == 500
    assert [a.amount for a in split.awards] == [Decimal("600.00"), Decimal("400.00"), 0, 0]
    uneven = award_split(scores[:3], Decimal("100"), threshold=0)
    assert sum(a.amount for a in uneven.awards) == Decimal("100")  # 50.00 + 33.33 + 16.66 + 0.01 to the first
    assert [a.amount for a in uneven.awards] == [Decimal("50.01"), Decimal("33.33"), Decimal("16.66")]
    nobody = award_split(scores, Decimal("1000"), threshold=10_000)
    assert all(a.amount == 0 for a in nobody.awards)


async def test_quarter_page_and_downloads(client):
    refs = await make_reference_data()
    second_unit = Unit(name="新蒲交警中队", kind="department")
    await second_unit.save()
    units = [refs["unit"], second_unit]
    for n, (unit, earned) in enumerate([(0, 30), (0, 20), (1, 70)]):
        volunteer = await make_volunteer(refs["grid"].id, f"1390000000{n}")
        await Volunteer.update({Volunteer.unit: units[unit].id, Volunteer.name: f"志愿者{n}"}).where(Volunteer.id == volunteer.id)
        async with write_transaction():
            await points.add_entry(volunteer.id, earned, rule="test", source="correction", key=f"k{n}")
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")
    assert (await post_form(client, "/language", {"locale": "en", "next": "/"})).status_code == 303
    today = local_today()
    quarter = (today.month - 1) // 3 + 1
    query = {"year": today.year, "quarter": quarter, "pool": "1200", "threshold": "40"}

    page = await client.get("/evaluation", params=query)
    assert page.status_code == 200
    assert "新蒲交警中队" in page.text and "700.00" in page.text and "500.00" in page.text

    workbook = load_workbook(io.BytesIO((await client.get("/evaluation/quarter.xlsx", params=query)).content))
    assert workbook.sheetnames == ["Units", "Grids", "Honour roll"]
    rows = list(workbook["Units"].iter_rows(values_only=True))
    assert rows[0][0] == "Unit" and rows[1][:3] == ("新蒲交警中队", 1, 70) and rows[1][5] == 700.0
    assert rows[2][:3] == (refs["unit"].name, 2, 50) and rows[2][5] == 500.0
    roll = list(workbook["Honour roll"].iter_rows(values_only=True))
    assert [r[1] for r in roll[1:]] == ["志愿者2", "志愿者0", "志愿者1"]

    table = (await client.get("/evaluation/quarter.csv", params={**query, "sheet": 0})).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(table)))[1][:3] == ["新蒲交警中队", "1", "70"]
    year = load_workbook(io.BytesIO((await client.get("/evaluation/year.xlsx", params={"year": today.year})).content))
    assert list(year.active.iter_rows(values_only=True))[1][0] == "新蒲交警中队"

    for bad in ({"quarter": "5"}, {"pool": "lots"}, {"pool": "-5"}, {"year": "1900"}):
        assert (await client.get("/evaluation", params={**query, **bad})).status_code == 400, bad
    assert (await client.get("/evaluation/quarter.csv", params={**query, "sheet": 9})).status_code == 400
    volunteer = await volunteer_client(client, "13900000000")
    assert (await volunteer.get("/evaluation")).status_code == 403


async def test_year_summary_page_and_downloads_hold_points_and_hours_of_units_and_grids(client):
    refs = await make_reference_data()
    units, people = await _people(refs)
    year = local_today().year - 1  # a whole year in the past
    earned = [(0, 30, dt.date(year, 2, 10)), (1, 20, dt.date(year, 8, 20)), (2, 70, dt.date(year, 8, 21)),
              (0, 5, dt.date(year + 1, 1, 5))]  # the last one belongs to the next year
    for n, (who, amount, day) in enumerate(earned):
        await _backdated(people[who].id, amount, dt.datetime.combine(day, dt.time(12, 0), tzinfo=ZONE), f"y{n}")
    worked = [(0, dt.date(year, 2, 10), 90), (2, dt.date(year, 8, 21), 120), (1, dt.date(year, 11, 3), 30)]
    for n, (who, day, minutes) in enumerate(worked):
        await _attended(refs, people[who].id, day, minutes, f"shift{n}")
    await points.rebuild_period_totals()
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")
    assert (await post_form(client, "/language", {"locale": "en", "next": "/"})).status_code == 303

    def expected(group_of) -> dict[str, list]:
        """Per group name: four quarters' points, their total, four quarters' hours, their total."""
        table: dict[str, list] = {}
        for who, amount, day in earned:
            if day.year == year:
                row = table.setdefault(group_of(who), [0] * 5 + [0.0] * 5)
                row[(day.month - 1) // 3] += amount
                row[4] += amount
        for who, day, minutes in worked:
            row = table.setdefault(group_of(who), [0] * 5 + [0.0] * 5)
            row[5 + (day.month - 1) // 3] += minutes / 60
            row[9] += minutes / 60
        return {name: [round(v, 1) if i >= 5 else v for i, v in enumerate(row)] for name, row in table.items()}

    unit_names = [units[0].name, units[0].name, units[1].name]
    grid_names = [refs["grid"].name, refs["other_grid"].name, refs["grid"].name]
    want = {"Units": expected(lambda who: unit_names[who]), "Grids": expected(lambda who: grid_names[who])}

    workbook = load_workbook(io.BytesIO((await client.get("/evaluation/year.xlsx", params={"year": year})).content))
    assert workbook.sheetnames == ["Units", "Grids"]
    for title, groups in want.items():
        rows = list(workbook[title].iter_rows(values_only=True))
        assert rows[0][0] == ("Unit" if title == "Units" else "Grid") and "Verified hours" in rows[0]
        got = {row[0]: [float(v) for v in row[1:]] for row in rows[1:] if any(row[1:])}
        assert got == {name: [float(v) for v in values] for name, values in groups.items()}, title
        totals = [row[5] for row in rows[1:]]
        assert totals == sorted(totals, reverse=True)  # highest first

    for sheet, title in enumerate(want):
        download = await client.get("/evaluation/year.csv", params={"year": year, "sheet": sheet})
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        assert "attachment" in download.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert [row[0] for row in table] == [row[0] for row in workbook[title].iter_rows(values_only=True)]
        assert {row[0]: [float(v) for v in row[1:]] for row in table[1:] if row[0] in want[title]} == {
            name: [float(v) for v in values] for name, values in want[title].items()}

    page = await client.get("/evaluation/year", params={"year": year})
    assert page.status_code == 200
    rows = [[page_text(cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page.text, re.S)]
    for name, values in {**want["Units"], **want["Grids"]}.items():
        row = next(cells for cells in rows if cells and cells[0] == name)  # the row of that unit or grid
        assert f"{values[4]}" in row and f"{values[9]}" in row, (name, row, values)
    assert f"/evaluation/year.csv?year={year}&amp;sheet=1" in page.text and f"/evaluation/year.xlsx?year={year}" in page.text

    for url, params in (("/evaluation/year.csv", {"year": year, "sheet": 7}), ("/evaluation/year.csv", {"year": "soon"}),
                        ("/evaluation/year", {"year": "1900"}), ("/evaluation/year.xlsx", {"year": "x"})):
        answer = await client.get(url, params=params)
        assert answer.status_code == 400, (url, params)
    volunteer = await volunteer_client(client, "13900000000")
    for url in ("/evaluation/year", "/evaluation/year.xlsx", "/evaluation/year.csv"):
        assert (await volunteer.get(url, params={"year": year})).status_code == 403, url


async def test_quarters_follow_the_district_clock_not_utc(client):
    """Points earned at 03:00 local on 1 April (19:00 UTC on 31 March) belong to the second quarter;
    23:30 local on 31 March (15:30 UTC) to the first."""
    refs = await make_reference_data()
    units, people = await _people(refs)
    year = local_today().year - 1
    early = dt.datetime(year, 4, 1, 3, 0, tzinfo=ZONE)
    late = dt.datetime(year, 3, 31, 23, 30, tzinfo=ZONE)
    assert early.astimezone(dt.timezone.utc).date() == dt.date(year, 3, 31)  # the case UTC midnight got wrong
    await _backdated(people[2].id, 40, early, "early")
    await _backdated(people[0].id, 15, late, "late")
    await points.rebuild_period_totals()
    q1 = {s.name: s.points for s in await evaluation.unit_scores(year, 1)}
    q2 = {s.name: s.points for s in await evaluation.unit_scores(year, 2)}
    assert (q1[units[0].name], q1[units[1].name]) == (15, 0)
    assert (q2[units[0].name], q2[units[1].name]) == (0, 40)
    assert [(c.name, c.points) for c in await evaluation.honour_roll(year, 2)] == [("志愿者2", 40)]
    assert [(c.name, c.points) for c in await evaluation.honour_roll(year, 1)] == [("志愿者0", 15)]
    await make_staff("wangfang", "manager")
    await log_in(client, "wangfang", "Staff2026pass")
    workbook = load_workbook(io.BytesIO((await client.get("/evaluation/quarter.xlsx",
                                                         params={"year": year, "quarter": 2})).content))
    assert {row[0]: row[2] for row in list(workbook.worksheets[0].iter_rows(values_only=True))[1:]} == {
        units[1].name: 40, units[0].name: 0}


async def test_unit_scores_count_the_unit_at_the_time_like_the_unit_board(client):
    refs = await make_reference_data()
    units, people = await _people(refs)
    mover = people[0]
    async with write_transaction():
        await points.add_entry(mover.id, 30, rule="test", source="correction", key="before")
    await Volunteer.update({Volunteer.unit: units[1].id}).where(Volunteer.id == mover.id)  # moves to the other unit
    async with write_transaction():
        await points.add_entry(mover.id, 20, rule="test", source="correction", key="after")
    viewer = await volunteer_client(client, "13900000001")
    board = {row["name"]: row["points"] for row in (await viewer.get(
        "/api/leaderboard", params={"board": "units", "period": "quarter"})).json()}
    assert board == {units[0].name: 30, units[1].name: 20}
    today = local_today()
    scores = {s.name: s.points for s in await evaluation.unit_scores(today.year, (today.month - 1) // 3 + 1)}
    assert scores == board
    year = {row.name: row.total for row in await evaluation.year_summary(today.year)}
    assert year == board
