"""Volunteer registration and profile, through the pages and the API."""

from __future__ import annotations

import pytest
from support import api, csrf_token, make_reference_data, page_text, post_form, registration_form

from volunteer_hub.accounts.tables import User
from volunteer_hub.volunteers.tables import Volunteer, VolunteerSkill


async def count_volunteers() -> int:
    return await Volunteer.count()


async def test_register_page_is_chinese_and_lists_grids(client):
    refs = await make_reference_data()
    response = await client.get("/register")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "注册成为志愿者" in text
    assert refs["grid"].name in text
    assert 'lang="zh-CN"' in response.text


async def test_register_logs_in_and_shows_profile(client):
    refs = await make_reference_data()
    form = registration_form(refs["grid"].id, skills=["trained_escort", "first_aid"], unit=str(refs["unit"].id))
    response = await post_form(client, "/register", form)
    assert response.status_code == 303
    assert response.headers["location"] == "/availability"
    profile = await client.get("/profile")
    assert profile.status_code == 200
    text = page_text(profile.text)
    assert "张小明" in text and "13912345678" in text and "急救" in text
    volunteer = await Volunteer.objects().first()
    assert volunteer.max_minutes_per_week == 240
    skills = {row["skill"] for row in await VolunteerSkill.select(VolunteerSkill.skill)}
    assert skills == {"trained_escort", "first_aid"}
    user = await User.objects().where(User.id == volunteer.user).first()
    assert user.role == "volunteer" and user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "请填写大陆手机号"),
        ({"phone": "23912345678"}, "phone", "请填写大陆手机号"),
        ({"password": "short1"}, "password", "密码至少需要 8 位"),
        ({"password": "onlyletters"}, "password", "密码需要同时包含字母和数字"),
        ({"password": "a13912345678"}, "password", "密码不能包含您的手机号"),
        ({"name": ""}, "name", "请填写姓名"),
        ({"birth_year": "2020"}, "birth_year", "志愿者须年满 14 周岁"),
        ({"birth_year": "abc"}, "birth_year", "请填写整数"),
        ({"home_grid": "99999"}, "home_grid", "请从列表中选择居住网格"),
        ({"home_grid": None}, "home_grid", "请从列表中选择居住网格"),
        ({"privacy_consent": None}, "privacy_consent", "请阅读并同意隐私声明"),
        ({"email": "not-an-email"}, "email", "电子邮箱格式不正确"),
        ({"max_shifts_per_week": "99"}, "max_shifts_per_week", "每周班次须为 0 到 14 的整数"),
        ({"skills": "juggling"}, "skills", "未知的技能"),
    ],
)
async def test_bad_registration_is_refused_with_a_message_and_stores_nothing(client, overrides, field, message):
    refs = await make_reference_data()
    response = await post_form(client, "/register", registration_form(refs["grid"].id, **overrides))
    assert response.status_code == 400
    assert message in page_text(response.text)
    assert await count_volunteers() == 0
    assert await User.count() == 0


async def test_duplicate_phone_is_refused(client):
    refs = await make_reference_data()
    assert (await post_form(client, "/register", registration_form(refs["grid"].id))).status_code == 303
    await post_form(client, "/logout", {})
    response = await post_form(client, "/register", registration_form(refs["grid"].id, name="李四"))
    assert response.status_code == 409
    assert "该手机号已注册" in page_text(response.text)
    assert await count_volunteers() == 1


async def test_form_without_csrf_token_is_refused(client):
    refs = await make_reference_data()
    await csrf_token(client)
    response = await client.post("/register", data=registration_form(refs["grid"].id))
    assert response.status_code == 403
    assert "表单已过期" in page_text(response.text)
    assert await count_volunteers() == 0


async def test_profile_edit(client):
    refs = await make_reference_data()
    await post_form(client, "/register", registration_form(refs["grid"].id))
    form = registration_form(refs["other_grid"].id, name="张明", skills="publicity", max_hours_per_week="6.5")
    response = await post_form(client, "/profile", form)
    assert response.status_code == 303
    volunteer = await Volunteer.objects().first()
    assert volunteer.name == "张明" and volunteer.home_grid == refs["other_grid"].id
    assert volunteer.max_minutes_per_week == 390
    bad = await post_form(client, "/profile", registration_form(refs["grid"].id, birth_year="1800"))
    assert bad.status_code == 400
    assert (await Volunteer.objects().first()).home_grid == refs["other_grid"].id


async def test_api_register_profile_roundtrip(client):
    refs = await make_reference_data()
    body = {
        "name": "王五", "phone": "13700001111", "password": "Secret2026pw", "birth_year": 1990,
        "home_grid_id": refs["grid"].id, "skills": ["lead"], "privacy_consent": True,
    }
    response = await api(client, "POST", "/api/volunteers", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["skills"] == ["lead"]
    me = await client.get("/api/me/profile")
    assert me.status_code == 200 and me.json()["phone"] == "13700001111"
    update = {"name": "王五", "birth_year": 1991, "home_grid_id": refs["other_grid"].id, "skills": []}
    changed = await api(client, "PUT", "/api/me/profile", json=update)
    assert changed.status_code == 200 and changed.json()["home_grid_id"] == refs["other_grid"].id


async def test_api_errors_are_4xx_json_in_the_users_language(client):
    refs = await make_reference_data()
    body = {"name": "王五", "phone": "1370000", "password": "x", "birth_year": 1990,
            "home_grid_id": refs["grid"].id, "privacy_consent": True}
    response = await api(client, "POST", "/api/volunteers", json=body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"phone", "password"}
    client.cookies.set("lang", "en")
    english = await api(client, "POST", "/api/volunteers", json=body)
    assert english.json()["errors"]["phone"].startswith("Please give a mainland mobile number")
    missing = await api(client, "POST", "/api/volunteers", json={"name": "x"})
    assert missing.status_code == 400
    assert await count_volunteers() == 0


async def test_unknown_grid_via_api_is_refused(client):
    await make_reference_data()
    body = {"name": "王五", "phone": "13700001111", "password": "Secret2026pw", "birth_year": 1990,
            "home_grid_id": 424242, "privacy_consent": True}
    response = await api(client, "POST", "/api/volunteers", json=body)
    assert response.status_code == 400 and "home_grid" in response.json()["errors"]
    assert await count_volunteers() == 0


async def test_phone_never_shown_in_public_data(client):
    refs = await make_reference_data()
    await post_form(client, "/register", registration_form(refs["grid"].id))
    await post_form(client, "/logout", {})
    for url in ("/", "/api/reference/grids", "/api/reference/units", "/register"):
        assert "13912345678" not in (await client.get(url)).text
