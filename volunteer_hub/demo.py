"""The demo district: an invented, Xinpu-like district with street offices, communities, grids,
10 schools, 30 Friday sites, units and 300 volunteers, plus one account of each role.

Idempotent: every row is found by its natural key first, so running it again adds nothing.
Demo passwords are documented in the README; they are for a local demo only.
"""

from __future__ import annotations

import datetime as dt
import random

from volunteer_hub.accounts.passwords import hash_password
from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_VOLUNTEER, User
from volunteer_hub.db import engine
from volunteer_hub.reference.tables import Community, Grid, StreetOffice
from volunteer_hub.activities.tables import Activity
from volunteer_hub.attendance.services import Mark, mark_attendance
from volunteer_hub.attendance.tables import Attendance
from volunteer_hub.clock import at_minute, local_now, local_today
from volunteer_hub.errors import DomainError
from volunteer_hub.rewards.tables import Reward
from volunteer_hub.schools.tables import BellSchedule, Crossing, EscortRequest, School, SchoolClosure, SchoolCoordinator
from volunteer_hub.shifts.services import expand_all, sign_up
from volunteer_hub.shifts.tables import SHIFT_OPEN, Assignment, Shift
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
        requests, activities = await _seed_programmes(rng)
    # Outside the seeding transaction: expansion and sign-ups run their own (IMMEDIATE) transactions.
    expansion = await expand_all()
    signed_up = await _seed_sign_ups(rng)
    attended = await _seed_past_service(rng)
    rewards = await _seed_rewards()
    return (f"demo district ready: {len(grids)} grids, {len(SCHOOL_NAMES)} schools, 30 sites, {added} volunteers added, "
            f"{requests} escort requests, {activities} Friday activities, {expansion.created} shifts created, "
            f"{signed_up} sign-ups added, {attended} past attendances recorded, {rewards} rewards added")


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


CROSSINGS = [("正门路口", "crossing", 5), ("侧门", "gate", 3)]
FRIDAY_ACTIVITIES = [
    # title, kind, site index, start, end, seats (min, max), required skills
    ("背街小巷清扫", "cleanup", 0, "15:00", "17:00", (6, 15), ""),
    ("老旧小区环境整治", "rectification", 1, "14:30", "17:00", (5, 12), ""),
    ("城中村卫生大扫除", "cleanup", 2, "15:00", "17:30", (8, 20), ""),
    ("文明礼仪宣传", "civility_publicity", 4, "09:30", "11:30", (3, 6), "publicity"),
    ("文明促进条例宣传", "regulation_publicity", 9, "15:00", "17:00", (3, 6), "publicity"),
    ("公园环境清洁", "cleanup", 10, "09:00", "11:00", (4, 10), ""),
]
DEMO_WEEKS = 5  # a month of shifts, a little more


def _minute(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


async def _seed_programmes(rng: random.Random) -> tuple[int, int]:
    """Bell times, crossings, approved escort requests and weekly Friday activities, keyed by natural
    keys so a second run adds nothing. Dates start from today, so the demo always shows a live month."""
    today = local_today()
    coordinator = await User.objects().where(User.login == "coordinator").first()
    manager = await User.objects().where(User.login == "manager").first()
    schools = await School.objects().order_by(School.id)
    requests = 0
    for index, school in enumerate(schools):
        if index == 0:
            await _get_or_create(SchoolCoordinator, SchoolCoordinator.user == coordinator.id,
                                 {"school": school.id, "user": coordinator.id})
        shift = 5 * (index % 3)  # schools ring their bells a little apart
        for weekday in range(5):
            await _get_or_create(
                BellSchedule, (BellSchedule.school == school.id) & (BellSchedule.weekday == weekday),
                {"school": school.id, "weekday": weekday, "arrival_start": 7 * 60 + 30 + shift,
                 "arrival_end": 8 * 60 + 10 + shift,
                 "dismissal_start": (16 * 60 if weekday == 4 else 16 * 60 + 30) + shift,
                 "dismissal_end": (16 * 60 + 45 if weekday == 4 else 17 * 60 + 15) + shift})
        crossings = []
        for number, (name, kind, priority) in enumerate(CROSSINGS):
            crossings.append(await _get_or_create(
                Crossing, (Crossing.school == school.id) & (Crossing.name == name),
                {"school": school.id, "name": name, "kind": kind, "priority": priority,
                 "latitude": school.latitude + 0.0006 * (number + 1), "longitude": school.longitude - 0.0005 * number}))
        if index == 3:  # a sports day: a closed day inside the demo month
            closed = today + dt.timedelta(days=(2 - today.weekday()) % 7 + 7)
            await _get_or_create(SchoolClosure, (SchoolClosure.school == school.id) & (SchoolClosure.day == closed),
                                 {"school": school.id, "day": closed, "reason": "校运动会"})
        for crossing in crossings:
            for slot in ("arrival", "dismissal"):
                if crossing.kind == "gate" and slot == "arrival" and index % 2:
                    continue  # not every gate is staffed in the morning
                status = "submitted" if (index == 0 and crossing.kind == "gate") else "active"
                existing = await EscortRequest.exists().where(
                    (EscortRequest.crossing == crossing.id) & (EscortRequest.slot == slot))
                if existing:
                    continue
                await EscortRequest(
                    school=school.id, crossing=crossing.id, slot=slot, weekdays="0,1,2,3,4", start_date=today,
                    end_date=today + dt.timedelta(days=180), seats_min=2 if crossing.priority >= 4 else 1,
                    seats_ideal=3 if crossing.priority >= 4 else 2, adults_only=True,
                    needs_trained=crossing.priority >= 5, status=status,
                    created_by=coordinator.id if index == 0 else manager.id,
                    decided_by=None if status == "submitted" else manager.id).save()
                requests += 1
    sites = await Site.objects().order_by(Site.id)
    friday = today + dt.timedelta(days=(4 - today.weekday()) % 7)
    activities = 0
    for title, kind, site_index, start, end, (seats_min, seats_max), skills in FRIDAY_ACTIVITIES:
        if await Activity.exists().where(Activity.title == title):
            continue
        await Activity(site=sites[site_index].id, title=title, kind=kind, description="", first_date=friday,
                       repeat_weekly=True, until_date=friday + dt.timedelta(weeks=DEMO_WEEKS - 1),
                       start_minute=_minute(start), end_minute=_minute(end), seats_min=seats_min,
                       seats_max=seats_max, required_skills=skills, team_slots=0, created_by=manager.id).save()
        activities += 1
    return requests, activities


async def _seed_sign_ups(rng: random.Random) -> int:
    """Some volunteers have already signed up for the coming seven days, so the rosters and
    the week overview have something to show (some shifts full, some short). Only when nobody has yet."""
    if await Assignment.count() > 0:
        return 0
    soon = await Shift.select(Shift.id, Shift.seats_min, Shift.seats_max, Shift.starts_at, Shift.ends_at).where(
        (Shift.status == SHIFT_OPEN) & (Shift.starts_at > local_now())
        & (Shift.day < local_today() + dt.timedelta(days=7))).order_by(Shift.starts_at)
    users = {user.id: user for user in await User.objects().where(User.role == ROLE_VOLUNTEER)}
    # Ask only people whose stated availability covers the shift: the sign-up rules still decide.
    windows: dict[int, list[tuple[int, int, int]]] = {}
    for row in await AvailabilityWindow.select(AvailabilityWindow.volunteer.user.as_alias("user_id"),
                                               AvailabilityWindow.weekday, AvailabilityWindow.start_minute,
                                               AvailabilityWindow.end_minute):
        windows.setdefault(row["user_id"], []).append((row["weekday"], row["start_minute"], row["end_minute"]))
    added = 0
    for shift in soon:
        start = shift["starts_at"].hour * 60 + shift["starts_at"].minute
        end = shift["ends_at"].hour * 60 + shift["ends_at"].minute
        weekday = shift["starts_at"].weekday()
        available = sorted(user_id for user_id, spans in windows.items()
                           if any(day == weekday and lo <= start and end <= hi for day, lo, hi in spans))
        wanted = rng.choice((0, 1, shift["seats_min"], shift["seats_max"]))
        for user in [users[user_id] for user_id in rng.sample(available, min(len(available), wanted * 2))]:
            if wanted <= 0:
                break
            try:
                await sign_up(user, shift["id"], confirm_outside_availability=False)
            except DomainError:
                continue  # not eligible, busy, or outside their availability: try someone else
            wanted -= 1
            added += 1
    return added


PAST_SCHOOL_DAYS = 5
REWARDS = [("志愿者徽章贴纸", 20, 200), ("环保购物袋", 100, 100), ("晴雨伞", 300, 50), ("保温杯", 800, 30),
           ("电影票两张", 1200, 20)]


async def _seed_past_service(rng: random.Random) -> int:
    """The last school week's morning escorts at each main crossing and the last two Fridays'
    activities, with their volunteers' attendance marked by the manager, so hours, points, badges and
    the boards have something to show. Only when no attendance exists yet."""
    if await Attendance.count() > 0:
        return 0
    manager = await User.objects().where(User.login == "manager").first()
    today = local_today()
    school_days = [today - dt.timedelta(days=n) for n in range(1, 10) if (today - dt.timedelta(days=n)).weekday() < 5]
    fridays = [today - dt.timedelta(days=(today.weekday() - 4) % 7 or 7) - dt.timedelta(weeks=n) for n in range(2)]
    places: list[tuple[str, dict]] = []
    for request in await EscortRequest.objects().where((EscortRequest.slot == "arrival") & (EscortRequest.status == "active")):
        crossing = await Crossing.objects().where(Crossing.id == request.crossing).first()
        if crossing.kind != "crossing":
            continue
        school = await School.objects().where(School.id == request.school).first()
        bell = await BellSchedule.objects().where(BellSchedule.school == school.id).first()
        for day in school_days[:PAST_SCHOOL_DAYS]:
            places.append((f"demo-past:escort:{request.id}:{day.isoformat()}", {
                "escort_request": request.id, "school": school.id, "crossing": crossing.id, "grid": school.grid,
                "kind": "escort", "slot": "arrival", "title": f"{school.name} · {crossing.name}", "day": day,
                "starts_at": at_minute(day, bell.arrival_start), "ends_at": at_minute(day, bell.arrival_end),
                "latitude": crossing.latitude, "longitude": crossing.longitude, "seats_min": request.seats_min,
                "seats_ideal": request.seats_ideal, "seats_max": request.seats_ideal, "priority": 5 + crossing.priority}))
    for activity in await Activity.objects():
        site = await Site.objects().where(Site.id == activity.site).first()
        for day in fridays:
            places.append((f"demo-past:activity:{activity.id}:{day.isoformat()}", {
                "activity": activity.id, "site": site.id, "grid": site.grid, "kind": activity.kind,
                "title": f"{activity.title} · {site.name}", "day": day,
                "starts_at": at_minute(day, activity.start_minute), "ends_at": at_minute(day, activity.end_minute),
                "latitude": site.latitude, "longitude": site.longitude, "seats_min": activity.seats_min,
                "seats_ideal": activity.seats_max, "seats_max": activity.seats_max, "adults_only": False,
                "required_skills": "", "priority": 2}))
    volunteers = await Volunteer.select(Volunteer.id).where(Volunteer.birth_year <= today.year - 18).order_by(Volunteer.id)
    regulars = [row["id"] for row in volunteers][:120]  # a keen core, so some people reach several escorts
    recorded = 0
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}  # nobody served two places at once
    for key, values in places:
        shift = await Shift.objects().where(Shift.source_key == key).first()
        if shift is None:
            shift = Shift(source_key=key, status=SHIFT_OPEN, **values)
            await shift.save()
        free = [v for v in regulars if all(values["ends_at"] <= start or end <= values["starts_at"] for start, end in busy.get(v, []))]
        people = rng.sample(free, min(len(free), rng.randint(1, max(1, min(values["seats_max"], 4)))))
        for volunteer_id in people:
            busy.setdefault(volunteer_id, []).append((values["starts_at"], values["ends_at"]))
        marks = []
        for volunteer_id in people:
            await Assignment(shift=shift.id, volunteer=volunteer_id, status="confirmed", source="self").save()
            roll = rng.random()
            length = int((values["ends_at"] - values["starts_at"]).total_seconds() // 60)
            if roll < 0.8:
                marks.append(Mark(volunteer_id, "present"))
            elif roll < 0.9:
                marks.append(Mark(volunteer_id, "late", minutes=max(1, length - 15)))
            else:
                marks.append(Mark(volunteer_id, "no_show"))
        recorded += await mark_attendance(manager, shift.id, marks)
    return recorded


async def _seed_rewards() -> int:
    added = 0
    for name, cost, stock in REWARDS:
        if not await Reward.exists().where(Reward.name == name):
            await Reward(name=name, points_cost=cost, stock=stock, active_from=local_today() - dt.timedelta(days=30)).save()
            added += 1
    return added
