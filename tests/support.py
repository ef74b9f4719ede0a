"""Helpers the tests share: a clean database, reference data, logging in with CSRF tokens."""

from __future__ import annotations

import re

from volunteer_hub.db import engine, is_sqlite
from volunteer_hub.piccolo_app import APP_CONFIG

CSRF_FIELD = "_csrf_token"
VOLUNTEER_PASSWORD = "Secret2026pw"


async def empty_database() -> None:
    db = engine()
    # Children first, so foreign keys never block the delete.
    tables = list(reversed(APP_CONFIG.table_classes))
    if is_sqlite():
        # The ledger's append-only triggers refuse DELETE (and SQLite has no TRUNCATE): in one
        # transaction, drop them, empty the tables and create them again from their stored SQL.
        async with db.transaction():
            triggers = await db.run_ddl("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            for trigger in triggers:
                await db.run_ddl(f'DROP TRIGGER "{trigger["name"]}"')
            for table in tables:
                await db.run_ddl(f'DELETE FROM "{table._meta.tablename}"')
            for trigger in triggers:
                await db.run_ddl(trigger["sql"])
    else:
        # TRUNCATE fires no row triggers, so the ledger's append-only triggers let it through.
        names = ", ".join(f'"{table._meta.tablename}"' for table in tables)
        await db.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


async def csrf_token(client) -> str:
    """The CSRF cookie value, fetching a page first if the client has none yet."""
    token = client.cookies.get("csrftoken")
    if not token:
        await client.get("/login")
        token = client.cookies.get("csrftoken")
    assert token, "the app set no CSRF cookie"
    return token


async def post_form(client, url: str, data: dict, **kwargs):
    form = {**data, CSRF_FIELD: await csrf_token(client)}
    return await client.post(url, data=form, **kwargs)


async def api(client, method: str, url: str, **kwargs):
    headers = {"x-csrftoken": await csrf_token(client), **kwargs.pop("headers", {})}
    return await client.request(method, url, headers=headers, **kwargs)


async def make_reference_data() -> dict:
    """One street office, community, two grids, a unit, a school and a site."""
    from volunteer_hub.reference.tables import Community, Grid, StreetOffice
    from volunteer_hub.schools.tables import School
    from volunteer_hub.sites.tables import Site
    from volunteer_hub.volunteers.tables import Unit

    office = StreetOffice(name="新蒲街道")
    await office.save()
    community = Community(name="长征社区", street_office=office.id)
    await community.save()
    grid = Grid(code="XP-001", name="长征社区第1网格", community=community.id, latitude=27.72, longitude=106.98)
    await grid.save()
    other_grid = Grid(code="XP-002", name="长征社区第2网格", community=community.id, latitude=27.73, longitude=106.99)
    await other_grid.save()
    unit = Unit(name="长征小学家长志愿队", kind="school_parents")
    await unit.save()
    school = School(name="长征小学", address="长征路1号", grid=grid.id, latitude=27.721, longitude=106.981)
    await school.save()
    site = Site(name="长征社区背街小巷1号点", category="back_street", grid=grid.id, latitude=27.722, longitude=106.982)
    await site.save()
    return {"office": office, "community": community, "grid": grid, "other_grid": other_grid, "unit": unit,
            "school": school, "site": site}


def registration_form(grid_id: int, **overrides) -> dict:
    form = {
        "name": "张小明",
        "phone": "13912345678",
        "password": VOLUNTEER_PASSWORD,
        "birth_year": "1985",
        "home_grid": str(grid_id),
        "max_shifts_per_week": "3",
        "max_hours_per_week": "4",
        "privacy_consent": "1",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


async def make_staff(login: str, role: str, password: str = "Staff2026pass", name: str = "员工") -> None:
    from volunteer_hub.accounts.services import create_user

    await create_user(login=login, password=password, role=role, display_name=name)


async def log_in(client, login: str, password: str) -> None:
    response = await post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 303, (response.status_code, page_text(response.text)[-600:])


def page_text(html: str) -> str:
    """The visible words of a page, roughly: tags removed, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
