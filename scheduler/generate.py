"""A realistic synthetic district: schools with crossings and bell times, Friday activities at
trouble spots, and volunteers with the availability patterns of the people who really come
(parents near their child's school, retirees, company volunteers on Fridays, students).

Same seed, same district. 60 schools with 1-3 crossings (2.5 on average) and two slots a school
day, and about 55 Friday activities at 40 sites, give about 1,550 shifts and 4,900 ideal seats a
week: the district week of issue 4.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from scheduler.model import Assignment, Interval, Location, Preference, Problem, Shift, Volunteer

SKILLS = ("trained_escort", "team_lead", "first_aid")
ACTIVITIES = {
    # kind: (min, ideal, max seats), required skills, minimum age, priority
    "cleanup": ((4, 8, 12), {"team_lead": 1}, 14, 2),
    "rectification": ((3, 6, 10), {"team_lead": 1}, 16, 3),
    "civility_publicity": ((2, 5, 8), {}, 12, 1),
    "regulation_publicity": ((2, 4, 6), {}, 12, 1),
}
CROSSING_SIZES = {  # name: (seats, probability, needs a trained escort)
    "small": ((1, 2, 3), 0.3, False),
    "medium": ((2, 3, 4), 0.4, True),
    "large": ((2, 4, 5), 0.3, True),
}
DEFAULT_START = date(2026, 11, 30)  # a Monday


@dataclass(frozen=True)
class DistrictSpec:
    volunteers: int = 10_000
    schools: int = 60
    sites: int = 40
    days: int = 5
    seed: int = 0
    supply_ratio: float | None = None  # volunteer capacity / ideal seats; None keeps the natural supply
    fixed_share: float = 0.01  # share of volunteers with one locked (self-signed-up) shift
    start: date = DEFAULT_START


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm))


class _Builder:
    def __init__(self, spec: DistrictSpec):
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.side_m = int(1500 * math.sqrt(spec.schools + 1))
        self.days = [spec.start + timedelta(days=k) for k in range(spec.days)]
        self.school_days = [d for d in self.days if d.weekday() < 5]
        self.fridays = [d for d in self.days if d.weekday() == 4]
        self.weeks = max(1, len({d.isocalendar()[:2] for d in self.days}))
        centres = max(1, spec.schools // 8)
        self.centres = [self._uniform() for _ in range(centres)]

    def _uniform(self) -> Location:
        return Location(self.rng.randrange(self.side_m), self.rng.randrange(self.side_m))

    def _near(self, where: Location, spread_m: float) -> Location:
        x = min(max(int(self.rng.gauss(where.x_m, spread_m)), 0), self.side_m)
        y = min(max(int(self.rng.gauss(where.y_m, spread_m)), 0), self.side_m)
        return Location(x, y)

    def _clustered(self) -> Location:
        if self.rng.random() < 0.8:
            return self._near(self.rng.choice(self.centres), self.side_m / 8)
        return self._uniform()

    # ----------------------------------------------------------------- shifts
    def schools(self) -> tuple[list[Shift], list[dict]]:
        shifts, schools = [], []
        sizes = list(CROSSING_SIZES)
        for s in range(self.spec.schools):
            school_id = f"sch{s:02d}"
            where = self._clustered()
            morning = 7 * 60 + 20 + 5 * self.rng.randrange(7)  # arrival window starts 07:20-07:50
            afternoon = 16 * 60 + 20 + 5 * self.rng.randrange(9)  # dismissal starts 16:20-17:00
            crossings = []
            for c in range(self.rng.choices([1, 2, 3], [0.1, 0.3, 0.6])[0]):
                size = self.rng.choices(sizes, [CROSSING_SIZES[z][1] for z in sizes])[0]
                seats, _, needs_trained = CROSSING_SIZES[size]
                crossing = f"{school_id}-c{c + 1}"
                crossings.append(crossing)
                at = self._near(where, 120)
                for day in self.school_days:
                    for slot, begin, length in (("morning", morning, 40), ("afternoon", afternoon, 45)):
                        start = _at(day, begin // 60, begin % 60)
                        shifts.append(
                            Shift(
                                id=f"{crossing}-{day.isoformat()}-{slot[:2]}",
                                start=start,
                                end=start + timedelta(minutes=length),
                                location=at,
                                place=crossing,
                                kind="escort",
                                slot=slot,
                                min_seats=seats[0],
                                ideal_seats=seats[1],
                                max_seats=seats[2],
                                required_skills={"trained_escort": 1} if needs_trained else {},
                                min_age=18,
                                priority=5,  # children crossing roads: safety-critical
                            )
                        )
            schools.append({"id": school_id, "where": where, "crossings": crossings})
        return shifts, schools

    def activities(self) -> list[Shift]:
        shifts = []
        kinds = list(ACTIVITIES)
        for k in range(self.spec.sites):
            site = f"site{k:02d}"
            where = self._clustered()
            for n in range(self.rng.choice([1, 1, 2])):
                kind = self.rng.choice(kinds)
                seats, required, min_age, priority = ACTIVITIES[kind]
                morning = self.rng.random() < 0.4
                begin, length, slot = (9 * 60, 120, "friday-am") if morning else (14 * 60 + 30 * self.rng.randrange(3), 150, "friday-pm")
                for day in self.fridays:
                    start = _at(day, begin // 60, begin % 60)
                    shifts.append(
                        Shift(
                            id=f"{site}-a{n + 1}-{day.isoformat()}",
                            start=start,
                            end=start + timedelta(minutes=length),
                            location=where,
                            place=site,
                            kind=kind,
                            slot=slot,
                            min_seats=seats[0],
                            ideal_seats=seats[1],
                            max_seats=seats[2],
                            required_skills=dict(required),
                            min_age=min_age,
                            priority=priority,
                            team_activity=True,
                        )
                    )
        return shifts

    # ------------------------------------------------------------- volunteers
    def _window(self, days: list[date], start: tuple[int, int], end: tuple[int, int]) -> list[Interval]:
        return [Interval(_at(d, *start), _at(d, *end)) for d in days]

    def _weekdays(self, count: int, include_friday: bool = True) -> list[int]:
        choices = [0, 1, 2, 3, 4] if include_friday else [0, 1, 2, 3]
        return sorted(self.rng.sample(choices, min(count, len(choices))))

    def _days_on(self, weekdays: list[int]) -> list[date]:
        return [d for d in self.days if d.weekday() in weekdays]

    def _skills(self, trained: float, lead: float, aid: float) -> frozenset[str]:
        chosen = [s for s, p in zip(SKILLS, (trained, lead, aid)) if self.rng.random() < p]
        return frozenset(chosen)

    def volunteer(self, number: int, schools: list[dict]) -> Volunteer:
        rng = self.rng
        persona = rng.choices(["parent", "retiree", "worker", "student"], [0.45, 0.30, 0.15, 0.10])[0]
        vid = f"v{number:05d}"
        if persona == "parent":
            school = rng.choice(schools)
            days = self._days_on(self._weekdays(rng.choice([1, 2, 2, 3])))
            slots = rng.choices([("morning",), ("afternoon",), ("morning", "afternoon")], [0.5, 0.3, 0.2])[0]
            availability = []
            if "morning" in slots:
                availability += self._window(days, (7, 0), (8, 50))
            if "afternoon" in slots:
                availability += self._window(days, (16, 0), (17, 50))
            if rng.random() < 0.2:
                availability += self._window(self.fridays, (14, 0), (17, 0))
            limit = rng.choice([1, 2, 2, 3])
            return Volunteer(
                id=vid,
                age=rng.randint(28, 50),
                home=self._near(school["where"], 500),
                availability=tuple(availability),
                skills=self._skills(0.25, 0.05, 0.15),
                max_shifts_per_week=limit,
                max_minutes_per_week=limit * 60 + 60,
                max_travel_m=rng.randrange(1000, 2001, 100),
                preferences=(Preference("place", rng.choice(school["crossings"]), 3),),
                team=f"{school['id']}-parents" if rng.random() < 0.5 else None,
            )
        if persona == "retiree":
            days = self._days_on(self._weekdays(rng.choice([1, 2, 3])))
            availability = []
            if rng.random() < 0.8:
                availability += self._window(days, (7, 0), (12, 0))
            if not availability or rng.random() < 0.5:
                availability += self._window(days, (14, 0), (18, 0))
            preferences = []
            if rng.random() < 0.3:
                preferences.append(Preference("slot", "morning", 2))
            if rng.random() < 0.2:
                preferences.append(Preference("kind", "cleanup", -2))
            limit = rng.choice([2, 3, 3, 4])
            return Volunteer(
                id=vid,
                age=rng.randint(60, 75),
                home=self._clustered(),
                availability=tuple(availability),
                skills=self._skills(0.40, 0.15, 0.20),
                max_shifts_per_week=limit,
                max_minutes_per_week=limit * 90,
                max_travel_m=rng.randrange(800, 2001, 100),
                preferences=tuple(preferences),
                team=f"community{rng.randrange(max(1, self.spec.schools // 4)):02d}" if rng.random() < 0.4 else None,
            )
        if persona == "worker":
            availability = self._window(self.fridays, (13, 30), (18, 0))
            if rng.random() < 0.2:
                availability += self._window(self._days_on(self._weekdays(1, include_friday=False)), (7, 0), (8, 30))
            return Volunteer(
                id=vid,
                age=rng.randint(23, 55),
                home=self._uniform(),
                availability=tuple(availability),
                skills=self._skills(0.10, 0.15, 0.20),
                max_shifts_per_week=rng.choice([1, 2]),
                max_minutes_per_week=240,
                max_travel_m=rng.randrange(1500, 4001, 100),
                preferences=(Preference("kind", rng.choice(list(ACTIVITIES)), 1),),
                team=f"unit{rng.randrange(max(1, self.spec.volunteers // 40)):03d}" if rng.random() < 0.8 else None,
            )
        return Volunteer(  # student
            id=vid,
            age=rng.randint(14, 17),
            home=self._clustered(),
            availability=tuple(self._window(self.fridays, (13, 30), (18, 0))),
            skills=frozenset(),
            max_shifts_per_week=1,
            max_minutes_per_week=180,
            max_travel_m=rng.randrange(1500, 3001, 100),
            preferences=(Preference("kind", "civility_publicity", 2),),
            team=f"class{rng.randrange(max(1, self.spec.volunteers // 100)):03d}",
        )

    def adjust_supply(self, volunteers: list[Volunteer], ideal_seats: int) -> list[Volunteer]:
        """Thin out or extend what people offer until capacity / ideal seats is the wanted ratio.

        capacity of a person = min(weekly limit x weeks, availability windows)."""

        def capacity(v: Volunteer) -> int:
            return min(v.max_shifts_per_week * self.weeks, len(v.availability))

        target = self.spec.supply_ratio * ideal_seats
        total = sum(capacity(v) for v in volunteers)
        order = list(range(len(volunteers)))
        self.rng.shuffle(order)
        for i in order:
            if total <= target:
                break
            total -= capacity(volunteers[i])  # away this period
            volunteers[i] = replace(volunteers[i], availability=())
        for _ in range(3):  # raise limits of those who have room, a few rounds at most
            for i in order:
                if total >= target:
                    return volunteers
                v = volunteers[i]
                before = capacity(v)
                volunteers[i] = replace(v, max_shifts_per_week=v.max_shifts_per_week + 1, max_minutes_per_week=v.max_minutes_per_week + 90)
                total += capacity(volunteers[i]) - before
        return volunteers


def generate(spec: DistrictSpec) -> Problem:
    builder = _Builder(spec)
    escort_shifts, schools = builder.schools()
    shifts = escort_shifts + builder.activities()
    volunteers = [builder.volunteer(n, schools) for n in range(spec.volunteers)] if schools else []
    if not schools:  # no schools to live near: everyone is a Friday volunteer
        volunteers = [replace(builder.volunteer(n, [{"id": "none", "where": builder._uniform(), "crossings": ["none"]}]), preferences=()) for n in range(spec.volunteers)]
    if spec.supply_ratio is not None:
        volunteers = builder.adjust_supply(volunteers, sum(s.ideal_seats for s in shifts))
    problem = Problem(volunteers=tuple(volunteers), shifts=tuple(shifts), skills=SKILLS)
    return replace(problem, fixed=tuple(_self_sign_ups(problem, spec, builder.rng)))


def _self_sign_ups(problem: Problem, spec: DistrictSpec, rng: random.Random) -> list[Assignment]:
    """A few shifts people already took by self sign-up; they are locked for the solver."""
    from scheduler.eligibility import ProblemIndex
    from scheduler.greedy import Schedule

    wanted = int(spec.fixed_share * len(problem.volunteers))
    if wanted == 0 or not problem.shifts:
        return []
    index = ProblemIndex(problem)
    schedule = Schedule(index)
    fixed = []
    for v in rng.sample(range(len(problem.volunteers)), len(problem.volunteers)):
        if len(fixed) >= wanted:
            break
        options = index.volunteer_pairs[v]
        if not options:
            continue
        p = rng.choice(options)
        j = int(index.pair_shift[p])
        # Only people who bring every required skill lock a shift alone: a locked helper on a
        # crossing nobody trained can reach would make the schedule impossible.
        if set(index.shifts[j].required_skills) <= problem.volunteers[v].skills and schedule.fits(p):
            schedule.add(p)
            fixed.append(Assignment(problem.volunteers[v].id, index.shifts[j].id))
    return fixed
