"""The demo district: an invented, Xinpu-like district with street offices, communities, grids,
10 schools, 30 Friday sites, units and 300 volunteers, plus one account of each role.

Idempotent: every row is found by its natural key first, so running it again adds nothing.
Demo passwords are documented in the README; they are for a local demo only.
"""

from __future__ import annotations

import random

from volunteer_hub.accounts.passwords import hash_password
from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_VOLUNTEER, User
from volunteer_hub.db import engine
from volunteer_hub.reference.tables import Community, Grid, StreetOffice
from volunteer_hub.schools.tables import School
from volunteer_hub.sites.tables import SITE_CATEGORIES, Site
from volunteer_hub.volunteers.services import ACTIVITY_KINDS, merge_windows, Window
from volunteer_hub.volunteers.tables import (
    AvailabilityWindow,
    PreferredKind,
    Unit,
    Volunteer,
    VolunteerSkill,
)

DEMO_ACCOUNTS = {
    # login: (role, display name, password)
    "admin": (ROLE_ADMIN, "系统管理员", "Admin2026demo"),
    "manager": (ROLE_MANAGER, "协会管理员 王芳", "Manager2026demo"),
    "coordinator": (ROLE_COORDINATOR, "学校联络员 李强", "Coord2026demo"),
}
DEMO_VOLUNTEER_PASSWORD = "Volunteer2026"
DEMO_VOLUNTEER_COUNT = 300
FIRST_DEMO_PHONE = 13800000001

CENTRE = (27.7260, 106.9830)  # roughly the middle of an invented district near Zunyi

DISTRICT = {
    "新蒲街道": ["新蒲社区", "长征社区", "沙坪社区"],
    "新中街道": ["新中社区", "三岔社区", "永安社区"],
    "礼仪街道": ["礼仪社区", "高坪社区", "喇叭社区"],
}
GRIDS_PER_COMMUNITY = 3
SCHOOL_NAMES = [
    "新蒲第一小学", "新蒲第二小学", "长征小学", "新中小学", "三岔小学",
    "礼仪小学", "高坪小学", "永安小学", "沙坪小学", "新蒲实验小学",
]
SITE_PREFIXES = {
    "back_street": "背街小巷", "old_estate": "老旧小区", "urban_village": "城中村",
    "urban_rural_fringe": "城乡结合部", "park": "公园", "other": "公共区域",
}
UNITS = [
    ("新蒲第一小学家长志愿队", "school_parents"), ("长征小学家长志愿队", "school_parents"),
    ("新中小学家长志愿队", "school_parents"), ("区城市管理局", "department"), ("新蒲交警中队", "department"),
    ("遵义新蒲供电公司", "company"), ("新蒲商贸有限公司", "company"), ("长征社区志愿服务队", "community"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅海燕文辉建国志宏云飞晓婷雪琳浩然子涵欣怡宇轩"
SKILL_SHARE = {"trained_escort": 0.35, "first_aid": 0.15, "publicity": 0.25, "lead": 0.08}


def _offset(rng: random.Random, spread_km: float) -> tuple[float, float]:
    # about 111 km per degree of latitude, 98.5 km per degree of longitude at 27.7° N
    return (CENTRE[0] + rng.uniform(-spread_km, spread_km) / 111.0,
            CENTRE[1] + rng.uniform(-spread_km, spread_km) / 98.5)


async def _get_or_create(table, where, values: dict):
    row = await table.objects().where(where).first()
    if row is None:
        row = table(**values)
        await row.save()
    return row


async def seed_demo() -> str:
    rng = random.Random(20180508)  # the date of the source article: any fixed seed would do
    async with engine().transaction():
        for login, (role, name, password) in DEMO_ACCOUNTS.items():
            await _get_or_create(User, User.login == login,
                                 {"login": login, "password_hash": hash_password(password), "role": role,
                                  "display_name": name})

        grids = []
        for office_name, community_names in DISTRICT.items():
            office = await _get_or_create(StreetOffice, StreetOffice.name == office_name, {"name": office_name})
            for community_name in community_names:
                community = await _get_or_create(
                    Community, (Community.name == community_name) & (Community.street_office == office.id),
                    {"name": community_name, "street_office": office.id})
                for number in range(1, GRIDS_PER_COMMUNITY + 1):
                    code = f"XP-{len(grids) + 1:03d}"
                    latitude, longitude = _offset(rng, 5.0)
                    grids.append(await _get_or_create(Grid, Grid.code == code, {
                        "code": code, "name": f"{community_name}第{number}网格", "community": community.id,
                        "latitude": latitude, "longitude": longitude}))

        for index, school_name in enumerate(SCHOOL_NAMES):
            grid = grids[(index * 7) % len(grids)]
            await _get_or_create(School, School.name == school_name, {
                "name": school_name, "address": f"{school_name}校门, {grid.name}", "grid": grid.id,
                "latitude": grid.latitude + rng.uniform(-0.004, 0.004),
                "longitude": grid.longitude + rng.uniform(-0.004, 0.004)})

        for index in range(30):
            category = SITE_CATEGORIES[index % len(SITE_CATEGORIES)]
            grid = grids[(index * 5 + 2) % len(grids)]
            name = f"{grid.name}{SITE_PREFIXES[category]}{index // len(SITE_CATEGORIES) + 1}号点"
            await _get_or_create(Site, Site.name == name, {
                "name": name, "category": category, "grid": grid.id,
                "latitude": grid.latitude + rng.uniform(-0.004, 0.004),
                "longitude": grid.longitude + rng.uniform(-0.004, 0.004)})

        units = [await _get_or_create(Unit, Unit.name == name, {"name": name, "kind": kind}) for name, kind in UNITS]
        added = await _seed_volunteers(rng, grids, units)
    return f"demo district ready: {len(grids)} grids, {len(SCHOOL_NAMES)} schools, 30 sites, {added} volunteers added"


async def _seed_volunteers(rng: random.Random, grids: list[Grid], units: list[Unit]) -> int:
    phones = [str(FIRST_DEMO_PHONE + number) for number in range(DEMO_VOLUNTEER_COUNT)]
    existing = {row["login"] for row in await User.select(User.login).where(User.login.is_in(phones))}
    # One hash for every demo volunteer: argon2 is slow on purpose, and 300 hashes would take long.
    password_hash = hash_password(DEMO_VOLUNTEER_PASSWORD)
    added = 0
    for phone in phones:
        # Draw every volunteer's attributes even when they exist, so the rest stay the same on a re-run.
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        birth_year = rng.choice([rng.randint(1955, 1975), rng.randint(1976, 1995), rng.randint(1996, 2008)])
        grid = rng.choice(grids)
        unit = rng.choice(units) if rng.random() < 0.6 else None
        skills = [skill for skill, share in SKILL_SHARE.items() if rng.random() < share]
        windows = _demo_windows(rng)
        kinds = rng.sample(ACTIVITY_KINDS, rng.randint(0, 3))
        max_shifts = rng.choice((2, 3, 3, 4, 5))
        if phone in existing:
            continue
        user = User(login=phone, password_hash=password_hash, role=ROLE_VOLUNTEER, display_name=name)
        await user.save()
        volunteer = Volunteer(user=user.id, name=name, phone=phone, birth_year=birth_year, home_grid=grid.id,
                              unit=unit.id if unit else None, max_shifts_per_week=max_shifts,
                              max_minutes_per_week=max_shifts * 90, max_travel_km=rng.choice((2.0, 3.0, 5.0)))
        await volunteer.save()
        if skills:
            await VolunteerSkill.insert(*[VolunteerSkill(volunteer=volunteer.id, skill=s) for s in skills])
        await AvailabilityWindow.insert(*[
            AvailabilityWindow(volunteer=volunteer.id, weekday=w.weekday, start_minute=w.start_minute,
                               end_minute=w.end_minute) for w in windows])
        if kinds:
            await PreferredKind.insert(*[PreferredKind(volunteer=volunteer.id, kind=k) for k in kinds])
        added += 1
    return added


def _demo_windows(rng: random.Random) -> list[Window]:
    """Typical patterns: school-run parents (mornings/afternoons on weekdays), Friday helpers,
    retirees with long windows."""
    pattern = rng.choice(("parent", "parent", "friday", "retiree"))
    windows = []
    if pattern == "parent":
        for day in rng.sample(range(5), rng.randint(2, 5)):
            windows.append(Window(day, 7 * 60, 8 * 60 + 30))
            if rng.random() < 0.5:
                windows.append(Window(day, 16 * 60, 17 * 60 + 30))
    elif pattern == "friday":
        windows.append(Window(4, 8 * 60, 12 * 60))
        windows.append(Window(4, 14 * 60, 18 * 60))
    else:
        for day in rng.sample(range(5), rng.randint(3, 5)):
            windows.append(Window(day, 7 * 60, 18 * 60))
    return merge_windows(windows)


async def seed_demo_if_empty() -> str:
    if await User.count() > 0:
        return "database already has accounts: demo data not loaded"
    return await seed_demo()
