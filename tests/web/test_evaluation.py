"""The quarter's unit evaluation, the award split, the honour roll and the downloads."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook
from shift_support import make_volunteer, volunteer_client
from support import log_in, make_reference_data, make_staff, post_form

from volunteer_hub.clock import local_today
from volunteer_hub.db import write_transaction
from volunteer_hub.incentives.evaluation import Score, award_split
from volunteer_hub.points import services as points
from volunteer_hub.volunteers.tables import Unit, Volunteer


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
