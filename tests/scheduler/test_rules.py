"""One small case per rule, each with an optimum that can be worked out by hand."""

from dataclasses import replace

from scheduler.model import Assignment, Preference, Weights
from scheduler.solve import solve
from scheduler.verify import verify
from scheduler_cases import exact, pairs, problem, shift, volunteer


def solved(p, **options):
    result = solve(p, exact(**options))
    assert result.status == "OPTIMAL"
    verdict = verify(p, result.assignments, result.objective)
    assert verdict.ok, verdict.violations
    return result


def shortfall(result, shift_id):
    return next(s for s in result.shortfalls if s.shift_id == shift_id)


def test_availability_must_cover_the_whole_shift():
    p = problem([volunteer("early", hours=(6, 8)), volunteer("late", hours=(8, 20))], [shift("s", start=(7, 30), minutes=60)])
    result = solved(p)
    assert result.assignments == []
    assert shortfall(result, "s").reasons["unavailable"] == 2
    assert shortfall(result, "s").no_eligible_person


def test_adjacent_availability_windows_join():
    from scheduler.model import Interval
    from scheduler_cases import at

    two_windows = (Interval(at(0, 7), at(0, 8)), Interval(at(0, 8), at(0, 9)))
    p = problem([volunteer("v", availability=two_windows)], [shift("s", start=(7, 30), minutes=60)])
    assert pairs(solved(p)) == {("v", "s")}


def test_underage_volunteers_do_not_escort():
    p = problem([volunteer("teen", age=15), volunteer("adult", age=30)], [shift("s", min_age=18, seats=(1, 2, 2))])
    result = solved(p)
    assert pairs(result) == {("adult", "s")}
    assert shortfall(result, "s").reasons["underage"] == 1


def test_skills_every_person_must_have():
    p = problem([volunteer("aid", skills=frozenset({"first_aid"})), volunteer("plain")], [shift("s", skills_for_all=frozenset({"first_aid"}), seats=(1, 2, 2))])
    result = solved(p)
    assert pairs(result) == {("aid", "s")}
    assert shortfall(result, "s").reasons["missing_skill"] == 1


def test_crossing_needs_a_trained_escort_among_its_people():
    untrained = [volunteer("a"), volunteer("b")]
    s = shift("s", required_skills={"trained_escort": 1}, seats=(2, 2, 2))
    result = solved(problem(untrained, [s]))
    assert result.assignments == []  # nobody may stand there without a trained escort
    assert shortfall(result, "s").lead_missing == ["trained_escort"]
    trained = volunteer("t", skills=frozenset({"trained_escort"}))
    result = solved(problem(untrained + [trained], [s]))
    assert ("t", "s") in pairs(result) and len(result.assignments) == 2


def test_no_overlap_including_travel_time():
    first = shift("first", start=(8, 0), minutes=60)
    far = shift("far", start=(9, 5), minutes=60, x=3000)  # 3 km at 12 km/h = 15 min > 5 min gap
    near = shift("near", start=(9, 5), minutes=60, x=1000)  # 1 km = 5 min: just fits
    result = solved(problem([volunteer("v")], [first, far]))
    assert len(result.assignments) == 1
    assert shortfall(result, "far" if ("v", "first") in pairs(result) else "first").reasons["on_overlapping_shift"] == 1
    result = solved(problem([volunteer("v")], [first, near]))
    assert len(result.assignments) == 2


def test_seats_maximum():
    p = problem([volunteer(f"v{k}") for k in range(5)], [shift("s", seats=(1, 2, 3))])
    result = solved(p)
    assert len(result.assignments) == 2  # ideal, not max: extra seats earn nothing


def test_weekly_shift_and_minute_limits():
    shifts = [shift(f"d{d}", day=d) for d in range(5)]
    result = solved(problem([volunteer("v", max_shifts_per_week=2)], shifts))
    assert len(result.assignments) == 2
    result = solved(problem([volunteer("v", max_minutes_per_week=120)], shifts))  # 40-minute shifts
    assert len(result.assignments) == 3
    assert any(s.reasons["at_weekly_limit"] == 1 for s in result.shortfalls)


def test_maximum_travel_distance():
    p = problem([volunteer("v", max_travel_m=1000)], [shift("s", x=1001)])
    result = solved(p)
    assert result.assignments == []
    assert shortfall(result, "s").reasons["too_far"] == 1


def test_fixed_assignment_is_kept_even_when_worse():
    near, far = shift("near", x=0), shift("far", x=2000)  # same time: only one of them
    p = problem([volunteer("v")], [near, far], fixed=(Assignment("v", "far"),))
    assert pairs(solved(p)) == {("v", "far")}


def test_safety_critical_shift_first():
    escort = shift("escort", priority=5)
    cleanup = shift("cleanup", priority=1, kind="cleanup")
    result = solved(problem([volunteer("v")], [cleanup, escort]))
    assert pairs(result) == {("v", "escort")}
    assert result.objective_terms["below_min"] == Weights().below_min * 1


def test_minimum_seats_everywhere_before_ideal_seats():
    a, b = shift("a", seats=(1, 2, 2)), shift("b", seats=(1, 2, 2))
    result = solved(problem([volunteer("v1"), volunteer("v2")], [a, b]))
    assert {s for _, s in pairs(result)} == {"a", "b"}


def test_fairness_spreads_the_load():
    # v1 lives next to both shifts, v2 1.5 km away: distance alone would give v1 both.
    shifts = [shift("mon", day=0), shift("tue", day=1)]
    p = problem([volunteer("v1", days=(0, 1)), volunteer("v2", x=1500, days=(0, 1))], shifts)
    result = solved(p)
    assert {v for v, _ in pairs(result)} == {"v1", "v2"}
    assert result.objective_terms["fairness"] == 0
    unfair = solved(replace(p, weights=Weights(fairness_over=0, fairness_max=0)))
    assert {v for v, _ in pairs(unfair)} == {"v1"}


def test_preferences_are_followed():
    wish = (Preference("place", "b", 3),)
    p = problem([volunteer("v", preferences=wish)], [shift("a"), shift("b", x=500)])
    assert pairs(solved(p)) == {("v", "b")}


def test_continuity_same_escort_at_the_same_crossing_all_week():
    days = (0, 1)
    shifts = [shift(f"{c}{d}", day=d, place=c, x=x) for d in days for c, x in (("north", 0), ("south", 50))]
    volunteers = [volunteer("v1", days=days, x=25), volunteer("v2", days=days, x=25)]
    result = solved(problem(volunteers, shifts))
    places = {}
    for v, s in pairs(result):
        places.setdefault(v, set()).add(s[:-1])
    assert all(len(p) == 1 for p in places.values()), places


def test_teams_go_together_to_friday_activities():
    friday = dict(day=4, start=(14, 0), minutes=120, kind="cleanup", slot="friday-pm", team_activity=True, seats=(0, 2, 2))
    shifts = [shift("park", **friday), shift("estate", **friday)]
    volunteers = [volunteer("t1", team="unit1"), volunteer("t2", team="unit1"), volunteer("n1"), volunteer("n2")]
    result = solved(problem(volunteers, shifts))
    where = {v: s for v, s in pairs(result)}
    assert where["t1"] == where["t2"]
    assert result.objective_terms["team_split"] == 0


def test_stability_keeps_the_published_schedule():
    shifts = [shift("s")]
    volunteers = [volunteer("v1"), volunteer("v2")]
    result = solved(problem(volunteers, shifts, published=(Assignment("v2", "s"),)))
    assert pairs(result) == {("v2", "s")}
    assert result.objective_terms["stability"] == 0
