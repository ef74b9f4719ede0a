"""Reference data (admins), languages, the home page and the API schema."""

from __future__ import annotations

from support import api, log_in, make_reference_data, make_staff, page_text, post_form, registration_form

from volunteer_hub.reference.tables import Grid, StreetOffice


async def as_admin(client):
    await make_staff("admin1", "admin")
    await log_in(client, "admin1", "Staff2026pass")


async def test_home_page_is_chinese_by_default_and_english_on_request(client):
    response = await client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert "周五有约" in response.text and "志愿汇" in response.text
    switched = await post_form(client, "/language", {"locale": "en", "next": "/"})
    assert switched.status_code == 303 and client.cookies.get("lang") == "en"
    english = await client.get("/")
    assert "Friday Appointment" in english.text and "周五有约" not in english.text


async def test_language_choice_is_kept_per_user(client):
    refs = await make_reference_data()
    await post_form(client, "/register", registration_form(refs["grid"].id))
    await post_form(client, "/language", {"locale": "en"})
    client.cookies.delete("lang")
    assert "My profile" in (await client.get("/profile")).text
    await post_form(client, "/language", {"locale": "klingon"})
    assert "My profile" in (await client.get("/profile")).text


async def test_admin_adds_reference_data(client):
    await as_admin(client)
    assert (await post_form(client, "/admin/reference/street-offices", {"name": "礼仪街道"})).status_code == 303
    office = await StreetOffice.objects().first()
    assert (await post_form(client, "/admin/reference/communities",
                            {"name": "高坪社区", "street_office": str(office.id)})).status_code == 303
    page = await client.get("/admin/reference")
    assert "高坪社区" in page.text
    from volunteer_hub.reference.tables import Community

    community = await Community.objects().first()
    created = await post_form(client, "/admin/reference/grids", {"code": "LY-01", "name": "高坪第1网格",
                                                                 "community": str(community.id),
                                                                 "latitude": "27.7", "longitude": "106.9"})
    assert created.status_code == 303
    assert await Grid.count() == 1
    assert [row["code"] for row in (await client.get("/api/reference/grids")).json()] == ["LY-01"]


async def test_bad_reference_data_is_refused(client):
    await as_admin(client)
    refs = await make_reference_data()
    duplicate = await post_form(client, "/admin/reference/street-offices", {"name": "新蒲街道"})
    assert duplicate.status_code == 409 and "该名称已被使用" in page_text(duplicate.text)
    bad_grid = await api(client, "POST", "/api/reference/grids",
                         json={"code": "bad code!", "name": "x", "community_id": 999, "latitude": 95, "longitude": 0})
    assert bad_grid.status_code == 400
    assert set(bad_grid.json()["errors"]) == {"code", "community", "latitude"}
    in_use = await post_form(client, f"/admin/reference/grids/{refs['grid'].id}/delete", {})
    assert in_use.status_code == 409
    assert await Grid.count() == 2
    deleted = await api(client, "DELETE", f"/api/reference/grids/{refs['other_grid'].id}")
    assert deleted.status_code == 204 and await Grid.count() == 1
    missing = await api(client, "DELETE", "/api/reference/grids/123456")
    assert missing.status_code == 404


async def test_grid_api_update(client):
    await as_admin(client)
    refs = await make_reference_data()
    response = await api(client, "PUT", f"/api/reference/grids/{refs['grid'].id}",
                         json={"code": "XP-009", "name": "改名网格", "community_id": refs["community"].id,
                               "latitude": 27.7, "longitude": 106.9})
    assert response.status_code == 200 and response.json()["code"] == "XP-009"
    clash = await api(client, "PUT", f"/api/reference/grids/{refs['grid'].id}",
                      json={"code": "XP-002", "name": "x", "community_id": refs["community"].id,
                            "latitude": 27.7, "longitude": 106.9})
    assert clash.status_code == 409
    assert (await Grid.objects().where(Grid.id == refs["grid"].id).first()).code == "XP-009"


async def test_volunteer_cannot_change_reference_data(client):
    refs = await make_reference_data()
    await post_form(client, "/register", registration_form(refs["grid"].id))
    response = await api(client, "POST", "/api/reference/street-offices", json={"name": "黑客街道"})
    assert response.status_code == 403
    assert await StreetOffice.count() == 1


async def test_unknown_page_is_a_404_page(client):
    response = await client.get("/no/such/page")
    assert response.status_code == 404 and "页面不存在" in response.text
    api_missing = await client.get("/api/no/such")
    assert api_missing.status_code == 404 and api_missing.json()["detail"] == "页面不存在。"


async def test_openapi_schema_lists_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    for path in ("/api/auth/login", "/api/volunteers", "/api/me/profile", "/api/me/availability",
                 "/api/reference/grids", "/api/staff/accounts"):
        assert path in schema["paths"], path


async def test_rename_and_delete_offices_and_communities(client):
    await as_admin(client)
    refs = await make_reference_data()
    from volunteer_hub.reference.tables import Community

    renamed = await post_form(client, f"/admin/reference/street-offices/{refs['office'].id}/rename", {"name": "新蒲新街道"})
    assert renamed.status_code == 303
    assert (await StreetOffice.objects().first()).name == "新蒲新街道"
    blocked = await api(client, "DELETE", f"/api/reference/street-offices/{refs['office'].id}")
    assert blocked.status_code == 409 and "还有社区" in blocked.json()["detail"]
    empty = await api(client, "PUT", f"/api/reference/communities/{refs['community'].id}", json={"name": " "})
    assert empty.status_code == 400
    assert (await Community.objects().first()).name == "长征社区"
    spare = await api(client, "POST", "/api/reference/communities",
                      json={"name": "空社区", "street_office_id": refs["office"].id})
    gone = await post_form(client, f"/admin/reference/communities/{spare.json()['id']}/delete", {})
    assert gone.status_code == 303 and await Community.count() == 1
    unknown = await api(client, "PUT", "/api/reference/street-offices/99999", json={"name": "x"})
    assert unknown.status_code == 404
