"""Load a district written by ``python -m scheduler generate`` into the app's tables.

Usage (an empty, migrated database; the planning benchmark calls ``load_district`` itself):
    DATABASE_URL=... .venv/bin/python bench/load_district.py district.json [--monday 2026-12-07]

What becomes what:

* the generator's plane (whole metres) becomes latitude and longitude around a point in the
  district (equirectangular, the inverse of ``planning.problem.Plane``);
* homes become home grids: the plane is tiled into square cells (``--cell-m``, 300 m by default) and
  each volunteer gets the cell their home lies in; only cells somebody or something uses are created
  (one street office, communities of 10 x 10 cells). A home then sits at most ``cell_m / sqrt(2)``
  from where the generator put it, so travel distances move by up to that much;
* crossings ("sch07-c2") become schools and crossings at their own coordinates, sites ("site13")
  become sites, and each Friday activity of a site ("site13-a1") an Activity row (so its shifts count
  as team activities, as in the generator);
* teams become units (school_parents / community / company / other by their name);
* each availability interval becomes a weekly window (weekday, minutes): the generated period is one
  week, so this is exact; the generator has no days away, so there are no UnavailableDate rows;
* skills: team_lead becomes the app's ``lead``; trained_escort and first_aid keep their names;
* shift rules: min_age >= 18 becomes adults_only (the app knows no other age limit, so the 12/14/16
  of some activities become no limit); ``team_lead: 1`` becomes needs_lead; skills every person
  needs become required_skills. The generator's "one trained escort among the escorts"
  (``trained_escort: 1``) has no equivalent in the app, whose rule is every escort trained or none:
  ``--trained-escort dropped`` (default) leaves it out, which keeps the solver's possible pairs equal
  to the generated problem's; ``all`` asks every escort on those crossings to be trained (the app's
  own meaning of needs_trained), a much tighter problem;
* preferences: a liked crossing becomes the school (the app prefers schools, i.e. all their
  crossings), a liked site or kind stays; dislikes and slot wishes have no app equivalent and are
  left out (counted);
* the generator's fixed assignments become confirmed self sign-ups;
* dates move by whole weeks so that the generated week starts on ``monday`` (next ISO week by
  default; the app plans no past period), which keeps every weekday.

Rows are bulk-inserted in chunks of 1,000 through Piccolo (both engines).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import sys
import time
from collections import defaultdict

CHUNK = 1000
CENTRE_LATITUDE, CENTRE_LONGITUDE = 27.70, 106.93  # somewhere in Xinpu
METRES_PER_DEGREE_LATITUDE = 110_574  # as planning.problem
METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111_320
SKILL_NAMES = {"team_lead": "lead", "trained_escort": "trained_escort", "first_aid": "first_aid"}
SLOT_NAMES = {"morning": "arrival", "afternoon": "dismissal"}
PASSWORD_HASH = "!"  # no password matches: these accounts cannot log in


def next_monday(today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)


def unit_kind(team: str) -> str:
    if team.endswith("-parents"):
        return "school_parents"
    if team.startswith("community"):
        return "community"
    if team.startswith("unit"):
        return "company"
    return "other"


async def _insert(table, rows: list) -> None:
    for start in range(0, len(rows), CHUNK):
        await table.insert(*rows[start:start + CHUNK])


async def load_district(path: str, monday: dt.date | None = None, cell_m: int = 300,
                        trained_escort: str = "dropped", verbose: bool = True) -> dict:
    """Fill an empty, migrated database with the generated district; returns row counts and seconds."""
    from scheduler.io import read_problem

    from volunteer_hub.accounts.tables import User
    from volunteer_hub.activities.tables import Activity
    from volunteer_hub.reference.tables import Community, Grid, StreetOffice
    from volunteer_hub.schools.tables import Crossing, School
    from volunteer_hub.shifts.tables import CONFIRMED, Assignment, Shift
    from volunteer_hub.sites.tables import Site
    from volunteer_hub.volunteers.tables import (
        AvailabilityWindow,
        PreferredKind,
        PreferredSchool,
        PreferredSite,
        Unit,
        Volunteer,
        VolunteerSkill,
    )

    assert trained_escort in ("dropped", "all")
    started = time.perf_counter()
    problem = read_problem(path)
    read_s = time.perf_counter() - started
    monday = monday or next_monday()
    first_day = min(s.start.date() for s in problem.shifts)
    shift_by = dt.timedelta(days=7 * round(((monday - (first_day - dt.timedelta(days=first_day.weekday()))).days) / 7))
    plan_year = (first_day + shift_by).year

    xs = [v.home.x_m for v in problem.volunteers] + [s.location.x_m for s in problem.shifts]
    ys = [v.home.y_m for v in problem.volunteers] + [s.location.y_m for s in problem.shifts]
    mid_x, mid_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    per_degree_longitude = METRES_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(math.radians(CENTRE_LATITUDE))

    def lat_lon(x: float, y: float) -> tuple[float, float]:
        return (CENTRE_LATITUDE + (y - mid_y) / METRES_PER_DEGREE_LATITUDE,
                CENTRE_LONGITUDE + (x - mid_x) / per_degree_longitude)

    def cell(x: int, y: int) -> tuple[int, int]:
        return (x - min(xs)) // cell_m, (y - min(ys)) // cell_m

    # --- places: schools, crossings, sites, activities (grouped from the shifts)
    crossings: dict[str, tuple[int, int]] = {}
    sites: dict[str, tuple[int, int]] = {}
    activities: dict[str, object] = {}
    for s in problem.shifts:
        if s.kind == "escort":
            crossings.setdefault(s.place, (s.location.x_m, s.location.y_m))
        else:
            sites.setdefault(s.place, (s.location.x_m, s.location.y_m))
            activities.setdefault(s.id.rsplit("-", 3)[0], s)  # "site13-a1-2026-12-04" -> "site13-a1"
    schools: dict[str, list[str]] = defaultdict(list)
    for crossing in crossings:
        schools[crossing.split("-")[0]].append(crossing)
    school_at = {name: (sum(crossings[c][0] for c in cs) // len(cs), sum(crossings[c][1] for c in cs) // len(cs))
                 for name, cs in schools.items()}

    used_cells = {cell(v.home.x_m, v.home.y_m) for v in problem.volunteers}
    used_cells |= {cell(*where) for where in list(school_at.values()) + list(sites.values())}

    counts: dict[str, int] = {}
    await StreetOffice.insert(StreetOffice(name="基准街道"))
    office = (await StreetOffice.select(StreetOffice.id).where(StreetOffice.name == "基准街道").first())["id"]
    blocks = sorted({(cx // 10, cy // 10) for cx, cy in used_cells})
    await _insert(Community, [Community(name=f"基准社区{bx:02d}-{by:02d}", street_office=office) for bx, by in blocks])
    community_id = {r["name"]: r["id"] for r in await Community.select(Community.id, Community.name)}
    grid_rows = []
    for cx, cy in sorted(used_cells):
        latitude, longitude = lat_lon(min(xs) + (cx + 0.5) * cell_m, min(ys) + (cy + 0.5) * cell_m)
        grid_rows.append(Grid(code=f"B{cx:03d}-{cy:03d}", name=f"基准网格{cx:03d}-{cy:03d}",
                              community=community_id[f"基准社区{cx // 10:02d}-{cy // 10:02d}"],
                              latitude=latitude, longitude=longitude))
    await _insert(Grid, grid_rows)
    grid_of_code = {r["code"]: r["id"] for r in await Grid.select(Grid.id, Grid.code)}

    def grid_id(x: int, y: int) -> int:
        cx, cy = cell(x, y)
        return grid_of_code[f"B{cx:03d}-{cy:03d}"]

    counts.update(communities=len(blocks), grids=len(grid_rows))

    await _insert(School, [School(name=f"基准学校 {name}", address="", grid=grid_id(*school_at[name]),
                                  latitude=lat_lon(*school_at[name])[0], longitude=lat_lon(*school_at[name])[1])
                           for name in sorted(schools)])
    school_id = {r["name"].split(" ", 1)[1]: r["id"] for r in await School.select(School.id, School.name)}
    crossing_rows = []
    for crossing, (x, y) in sorted(crossings.items()):
        latitude, longitude = lat_lon(x, y)
        crossing_rows.append(Crossing(school=school_id[crossing.split("-")[0]], name=crossing, kind="crossing",
                                      latitude=latitude, longitude=longitude, priority=3))
    await _insert(Crossing, crossing_rows)
    crossing_id = {r["name"]: r["id"] for r in await Crossing.select(Crossing.id, Crossing.name)}
    site_rows = []
    for site, (x, y) in sorted(sites.items()):
        latitude, longitude = lat_lon(x, y)
        site_rows.append(Site(name=f"基准服务点 {site}", category="other", grid=grid_id(x, y), latitude=latitude,
                              longitude=longitude))
    await _insert(Site, site_rows)
    site_id = {r["name"].split(" ", 1)[1]: r["id"] for r in await Site.select(Site.id, Site.name)}
    activity_rows = []
    for key, s in sorted(activities.items()):
        start_minute = s.start.hour * 60 + s.start.minute
        activity_rows.append(Activity(
            site=site_id[s.place], title=f"基准活动 {key}", kind=s.kind, first_date=s.start.date() + shift_by,
            repeat_weekly=False, start_minute=start_minute,
            end_minute=start_minute + int((s.end - s.start).total_seconds() // 60),
            seats_min=s.min_seats, seats_max=s.max_seats, required_skills=""))
    await _insert(Activity, activity_rows)
    activity_id = {r["title"].split(" ", 1)[1]: r["id"] for r in await Activity.select(Activity.id, Activity.title)}
    counts.update(schools=len(schools), crossings=len(crossing_rows), sites=len(site_rows), activities=len(activity_rows))

    # --- people
    teams = sorted({v.team for v in problem.volunteers if v.team})
    await _insert(Unit, [Unit(name=f"基准 {team}", kind=unit_kind(team)) for team in teams])
    unit_id = {r["name"].split(" ", 1)[1]: r["id"] for r in await Unit.select(Unit.id, Unit.name)}
    phone = {v.id: f"139{n:08d}" for n, v in enumerate(problem.volunteers)}
    await _insert(User, [User(login=phone[v.id], password_hash=PASSWORD_HASH, role="volunteer",
                              display_name=f"志愿者{v.id}", locale="zh_CN") for v in problem.volunteers])
    user_id = {r["login"]: r["id"] for r in await User.select(User.id, User.login).where(User.role == "volunteer")}
    await _insert(Volunteer, [Volunteer(
        user=user_id[phone[v.id]], name=f"志愿者{v.id}", phone=phone[v.id], birth_year=plan_year - v.age,
        home_grid=grid_id(v.home.x_m, v.home.y_m), unit=unit_id[v.team] if v.team else None,
        max_shifts_per_week=v.max_shifts_per_week, max_minutes_per_week=v.max_minutes_per_week,
        max_travel_km=v.max_travel_m / 1000) for v in problem.volunteers])
    volunteer_id = {r["phone"]: r["id"] for r in await Volunteer.select(Volunteer.id, Volunteer.phone)}
    vid = {v.id: volunteer_id[phone[v.id]] for v in problem.volunteers}

    skill_rows, window_rows, kind_rows, school_pref_rows, site_pref_rows = [], [], [], [], []
    skipped_preferences = 0
    for v in problem.volunteers:
        skill_rows += [VolunteerSkill(volunteer=vid[v.id], skill=SKILL_NAMES.get(skill, skill)) for skill in sorted(v.skills)]
        windows = sorted({(a.start.weekday(), a.start.hour * 60 + a.start.minute,
                           a.start.hour * 60 + a.start.minute + int((a.end - a.start).total_seconds() // 60))
                          for a in v.availability})
        window_rows += [AvailabilityWindow(volunteer=vid[v.id], weekday=w, start_minute=start, end_minute=min(end, 24 * 60))
                        for w, start, end in windows]
        liked_schools = set()
        for p in v.preferences:
            if p.weight <= 0 or p.field == "slot":
                skipped_preferences += 1
            elif p.field == "kind":
                kind_rows.append(PreferredKind(volunteer=vid[v.id], kind=p.value))
            elif p.value in crossings:
                liked_schools.add(school_id[p.value.split("-")[0]])
            elif p.value in site_id:
                site_pref_rows.append(PreferredSite(volunteer=vid[v.id], site=site_id[p.value]))
            else:
                skipped_preferences += 1
        school_pref_rows += [PreferredSchool(volunteer=vid[v.id], school=s) for s in sorted(liked_schools)]
    await _insert(VolunteerSkill, skill_rows)
    await _insert(AvailabilityWindow, window_rows)
    await _insert(PreferredKind, kind_rows)
    await _insert(PreferredSchool, school_pref_rows)
    await _insert(PreferredSite, site_pref_rows)
    counts.update(units=len(teams), users=len(user_id), volunteers=len(vid), skills=len(skill_rows),
                  availability_windows=len(window_rows), unavailable_dates=0,
                  preferences=len(kind_rows) + len(school_pref_rows) + len(site_pref_rows),
                  preferences_left_out=skipped_preferences)

    # --- shifts and the self sign-ups
    shift_rows = []
    for s in problem.shifts:
        required = {SKILL_NAMES.get(k, k) for k in s.skills_for_all}
        if trained_escort == "all" and "trained_escort" in s.required_skills:
            required.add("trained_escort")
        common = dict(source_key=f"bench:{s.id}", kind=s.kind, day=s.start.date() + shift_by,
                      starts_at=s.start + shift_by, ends_at=s.end + shift_by,
                      latitude=lat_lon(s.location.x_m, s.location.y_m)[0],
                      longitude=lat_lon(s.location.x_m, s.location.y_m)[1],
                      seats_min=s.min_seats, seats_ideal=s.ideal_seats, seats_max=s.max_seats,
                      adults_only=s.min_age >= 18, required_skills=",".join(sorted(required)),
                      needs_lead="team_lead" in s.required_skills, priority=s.priority, status="open", team_slots=0)
        if s.kind == "escort":
            school = s.place.split("-")[0]
            shift_rows.append(Shift(school=school_id[school], crossing=crossing_id[s.place],
                                    grid=grid_id(*school_at[school]), slot=SLOT_NAMES.get(s.slot, s.slot),
                                    title=f"基准学校 {school} · {s.place}", **common))
        else:
            key = s.id.rsplit("-", 3)[0]
            shift_rows.append(Shift(activity=activity_id[key], site=site_id[s.place], grid=grid_id(*sites[s.place]),
                                    slot=None, title=f"基准活动 {key}", **common))
    await _insert(Shift, shift_rows)
    shift_id = {r["source_key"]: r["id"] for r in await Shift.select(Shift.id, Shift.source_key)}
    await _insert(Assignment, [Assignment(shift=shift_id[f"bench:{a.shift_id}"], volunteer=vid[a.volunteer_id],
                                          status=CONFIRMED, source="self", locked=False) for a in problem.fixed])
    counts.update(shifts=len(shift_rows), self_sign_ups=len(problem.fixed))
    load_s = time.perf_counter() - started
    result = {"counts": counts, "read_s": read_s, "load_s": load_s, "monday": monday.isoformat(),
              "days_moved": shift_by.days, "cell_m": cell_m, "trained_escort": trained_escort,
              "json": {"volunteers": len(problem.volunteers), "shifts": len(problem.shifts),
                       "ideal_seats": sum(s.ideal_seats for s in problem.shifts), "fixed": len(problem.fixed)}}
    if verbose:
        print(f"loaded {path} in {load_s:.1f} s (reading the JSON {read_s:.1f} s); dates moved by {shift_by.days} days "
              f"to the week of {monday}; rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    return result


async def compare_with_json(path: str, scope, pairs: bool = True) -> dict:
    """Build the problem the worker builds (``load_problem``) and set its size beside the JSON's."""
    from scheduler.io import read_problem

    from volunteer_hub.planning.problem import load_problem

    started = time.perf_counter()
    loaded = await load_problem(scope)
    load_problem_s = time.perf_counter() - started
    generated = read_problem(path)
    sizes = {}
    for name, problem in (("json", generated), ("app", loaded.problem)):
        sizes[name] = {"volunteers": len(problem.volunteers), "shifts": len(problem.shifts),
                       "ideal_seats": sum(s.ideal_seats for s in problem.shifts), "fixed": len(problem.fixed),
                       "availability_intervals": sum(len(v.availability) for v in problem.volunteers)}
        if pairs:
            from scheduler.eligibility import ProblemIndex

            sizes[name]["possible_pairs"] = len(ProblemIndex(problem).pair_shift)
    sizes["load_problem_s"] = load_problem_s
    sizes["notes"] = loaded.notes
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    parser.add_argument("--monday", type=dt.date.fromisoformat, default=None, help="first day of the loaded week")
    parser.add_argument("--cell-m", type=int, default=300, help="side of a home grid cell in metres")
    parser.add_argument("--trained-escort", choices=("dropped", "all"), default="dropped")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("set DATABASE_URL to an empty database")
    os.environ.setdefault("PICCOLO_CONF", "volunteer_hub.piccolo_conf")
    from volunteer_hub.__main__ import main as cli

    if cli(["migrate"]) != 0:
        sys.exit("migration failed")

    async def run() -> None:
        from volunteer_hub import db
        from volunteer_hub.planning.problem import Scope

        await db.start()
        try:
            loaded = await load_district(args.json, args.monday, args.cell_m, args.trained_escort)
            monday = dt.date.fromisoformat(loaded["monday"])
            print(await compare_with_json(args.json, Scope(monday, monday + dt.timedelta(days=6))))
        finally:
            await db.stop()

    asyncio.run(run())


if __name__ == "__main__":
    main()
