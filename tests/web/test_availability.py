"""Weekly availability windows, unavailable dates and preferences."""

from __future__ import annotations

from support import api, make_reference_data, page_text, post_form, registration_form

from volunteer_hub.volunteers.services import Window, merge_windows
from volunteer_hub.volunteers.tables import AvailabilityWindow, PreferredSchool, UnavailableDate


def test_merge_windows_merges_overlaps_per_weekday_only():
    merged = merge_windows([Window(0, 420, 480), Window(0, 470, 540), Window(0, 540, 600), Window(1, 420, 480),
                            Window(0, 900, 960)])
    assert merged == [Window(0, 420, 600), Window(0, 900, 960), Window(1, 420, 480)]


async def registered(client):
    refs = await make_reference_data()
    await post_form(client, "/register", registration_form(refs["grid"].id))
    return refs


async def test_availability_form_merges_and_saves_preferences(client):
    refs = await registered(client)
    form = {
        "row_count": "4",
        "w0_day": "0", "w0_start": "07:00", "w0_end": "08:00",
        "w1_day": "0", "w1_start": "07:30", "w1_end": "09:00",
        "w2_day": "4", "w2_start": "14:00", "w2_end": "18:00",
        "unavailable_dates": "2026-12-24 2026-12-31",
        "preferred_kinds": ["escort", "cleanup"],
        "preferred_schools": str(refs["school"].id),
        "preferred_sites": str(refs["site"].id),
        "max_travel_km": "2.5",
    }
    response = await post_form(client, "/availability", form)
    assert response.status_code == 303, page_text(response.text)
    rows = await AvailabilityWindow.select().order_by(AvailabilityWindow.weekday)
    assert [(r["weekday"], r["start_minute"], r["end_minute"]) for r in rows] == [(0, 420, 540), (4, 840, 1080)]
    assert await UnavailableDate.count() == 2
    assert await PreferredSchool.count() == 1
    page = page_text((await client.get("/availability")).text)
    assert "可服务时间已保存" in page


async def test_window_ending_before_it_starts_is_refused_and_nothing_changes(client):
    await registered(client)
    good = {"row_count": "1", "w0_day": "1", "w0_start": "07:00", "w0_end": "08:00", "max_travel_km": "3"}
    assert (await post_form(client, "/availability", good)).status_code == 303
    bad = {"row_count": "1", "w0_day": "1", "w0_start": "09:00", "w0_end": "08:00", "max_travel_km": "3"}
    response = await post_form(client, "/availability", bad)
    assert response.status_code == 400
    assert "结束时间必须晚于开始时间" in page_text(response.text)
    rows = await AvailabilityWindow.select()
    assert [(r["start_minute"], r["end_minute"]) for r in rows] == [(420, 480)]


async def test_bad_dates_and_unknown_school_are_refused(client):
    await registered(client)
    for form, message in (
        ({"row_count": "0", "unavailable_dates": "2026-13-01", "max_travel_km": "3"}, "日期格式为"),
        ({"row_count": "0", "preferred_schools": "9999", "max_travel_km": "3"}, "请从列表中选择学校"),
        ({"row_count": "0", "max_travel_km": "0"}, "出行距离须大于 0"),
        ({"row_count": "1", "w0_day": "2", "w0_start": "7", "w0_end": "08:00", "max_travel_km": "3"}, "HH:MM"),
    ):
        response = await post_form(client, "/availability", form)
        assert response.status_code == 400
        assert message in page_text(response.text)
    assert await AvailabilityWindow.count() == 0


async def test_availability_api(client):
    refs = await registered(client)
    body = {"windows": [{"weekday": 2, "start": "16:00", "end": "17:00"},
                        {"weekday": 2, "start": "16:30", "end": "17:30"}],
            "unavailable_dates": ["2026-12-25"], "preferred_kinds": ["festival"],
            "preferred_site_ids": [refs["site"].id], "max_travel_km": 4}
    response = await api(client, "PUT", "/api/me/availability", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["windows"] == [{"weekday": 2, "start": "16:00", "end": "17:30"}]
    bad = await api(client, "PUT", "/api/me/availability",
                    json={"windows": [{"weekday": 2, "start": "18:00", "end": "17:00"}]})
    assert bad.status_code == 400 and "windows" in bad.json()["errors"]
    again = await client.get("/api/me/availability")
    assert again.json()["windows"] == [{"weekday": 2, "start": "16:00", "end": "17:30"}]
