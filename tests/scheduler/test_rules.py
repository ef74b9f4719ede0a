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


def overfull_published():
    """Three people published on a two-seat shift, re-solved with the app's stability weight
    (1,000 per change): every term but the seats maximum says keep all three."""
    people = [volunteer(f"v{k}") for k in range(3)]
    published = tuple(Assignment(f"v{k}", "s") for k in range(3))
    return problem(people, [shift("s", seats=(1, 2, 2))], published=published, weights=Weights(stability=1_000))


def test_seats_maximum_holds_against_an_objective_that_wants_more_people():
    p = overfull_published()
    result = solved(p)
    assert len(result.assignments) == 2 and {s for _, s in pairs(result)} == {"s"}
    assert result.objective_terms["stability"] == 1_000  # one published pair had to go
    for method in ("greedy", "mip"):
        other = solve(p, exact(method=method))
        assert len(other.assignments) <= 2, method
        assert verify(p, other.assignments, other.objective).ok


def test_verify_rejects_more_people_than_seats(tmp_path, capsys):
    from scheduler.__main__ import main
    from scheduler.io import write_problem, write_result

    p = overfull_published()
    everyone = list(p.published)
    verdict = verify(p, everyone)
    assert verdict.violations == ["shift s: 3 people on 2 seats"]
    assert verdict.terms["stability"] == 0  # the schedule the objective alone would pick
    # the command line: exit 1 and the violation listed
    result = solved(p)
    result.assignments = everyone
    result.objective = verdict.objective
    write_problem(p, tmp_path / "p.json")
    write_result(result, tmp_path / "r.json")
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "p.json"), str(tmp_path / "r.json")]) == 1
    assert "VIOLATION shift s: 3 people on 2 seats" in capsys.readouterr().out.splitlines()


def test_travel_time_depends_on_the_travel_speed():
    # 1 km between the two shifts and 5 minutes to get there: fits at 12 km/h, not at 6 km/h
    first = shift("first", start=(8, 0), minutes=60)
    second = shift("second", start=(9, 5), minutes=60, x=1000)
    both = [Assignment("v", "first"), Assignment("v", "second")]
    fast = problem([volunteer("v")], [first, second], travel_speed_kmh=12)
    assert pairs(solved(fast)) == {("v", "first"), ("v", "second")}
    slow = replace(fast, travel_speed_kmh=6)
    result = solved(slow)
    assert len(result.assignments) == 1
    missed = "second" if ("v", "first") in pairs(result) else "first"
    assert shortfall(result, missed).reasons["on_overlapping_shift"] == 1
    assert verify(fast, both).ok
    assert any("leave no time to travel" in v for v in verify(slow, both).violations)
    for method in ("greedy", "mip"):
        assert len(solve(slow, exact(method=method)).assignments) == 1, method


def test_weekly_shift_and_minute_limits():
    shifts = [shift(f"d{d}", day=d) for d in range(5)]
    result = solved(problem([volunteer("v", max_shifts_per_week=2)], shifts))
    assert len(result.assignments) == 2
    result = solved(problem([volunteer("v", max_minutes_per_week=120)], shifts))  # 40-minute shifts
    assert len(result.assignments) == 3
    assert any(s.reasons["at_weekly_limit"] == 1 for s in result.shortfalls)


def test_weekly_limits_apply_to_each_iso_week():
    # Mon-Wed of two ISO weeks (the first Monday is 2026-11-30); the first week's shifts are the
    # more important ones, so a limit pooled over the period would take three of them.
    days = (0, 1, 2, 7, 8, 9)
    shifts = [shift(f"d{d}", day=d, priority=5 if d < 7 else 1) for d in days]

    def per_week(result):
        chosen = [int(s[1:]) for _, s in pairs(result)]
        return sum(d < 7 for d in chosen), sum(d >= 7 for d in chosen)

    by_count = problem([volunteer("v", days=days, max_shifts_per_week=2)], shifts)
    assert per_week(solved(by_count)) == (2, 2)
    by_minutes = problem([volunteer("v", days=days, max_minutes_per_week=80)], shifts)  # two 40-minute shifts
    result = solved(by_minutes)
    assert per_week(result) == (2, 2)
    assert sum(s.reasons["at_weekly_limit"] for s in result.shortfalls) == 2
    three_in_one_week = [Assignment("v", "d0"), Assignment("v", "d1"), Assignment("v", "d2"), Assignment("v", "d7")]
    assert any("3 shifts in week" in v for v in verify(by_count, three_in_one_week).violations)
    assert any("120 minutes in week" in v for v in verify(by_minutes, three_in_one_week).violations)
    for method in ("greedy", "mip"):
        assert max(per_week(solve(by_count, exact(method=method)))) <= 2, method


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
    # The crossings' spots move between the days (north is at x=0 on Monday, x=1000 on
    # Tuesday; south the other way round), so distance alone would have each person swap
    # crossings: 0 km, but 2 x 2 regulars (60). Staying costs 1 km each (20) and 2 regulars (30).
    shifts = [
        shift("north0", day=0, place="north", x=0),
        shift("north1", day=1, place="north", x=1000),
        shift("south0", day=0, place="south", x=1000),
        shift("south1", day=1, place="south", x=0),
    ]
    volunteers = [volunteer("v1", days=(0, 1), x=0), volunteer("v2", days=(0, 1), x=1000)]
    p = problem(volunteers, shifts)
    result = solved(p)
    assert pairs(result) == {("v1", "north0"), ("v1", "north1"), ("v2", "south0"), ("v2", "south1")}
    assert result.objective_terms["continuity"] == 2 * Weights().continuity
    swapped = solved(replace(p, weights=Weights(continuity=0)))
    assert pairs(swapped) == {("v1", "north0"), ("v1", "south1"), ("v2", "south0"), ("v2", "north1")}


def test_teams_go_together_to_friday_activities():
    # t1 lives at the park, t2 at the estate 1 km away, n1 and n2 half-way (500 m: 2 each
    # wherever they go, at 5 per km). Split, the team walks nowhere (0) but pays one split (10);
    # together one of them walks 1 km (5).
    friday = dict(day=4, start=(14, 0), minutes=120, kind="cleanup", slot="friday-pm", team_activity=True, seats=(0, 2, 2))
    shifts = [shift("park", x=0, **friday), shift("estate", x=1000, **friday)]
    volunteers = [volunteer("t1", team="unit1", x=0), volunteer("t2", team="unit1", x=1000), volunteer("n1", x=500), volunteer("n2", x=500)]
    p = problem(volunteers, shifts, weights=Weights(distance_per_km=5))
    result = solved(p)
    where = {v: s for v, s in pairs(result)}
    assert where["t1"] == where["t2"] and where["n1"] == where["n2"] != where["t1"]
    assert result.objective_terms["team_split"] == 0 and result.objective_terms["preferences_distance"] == 5 + 2 * 2
    apart = solved(replace(p, weights=Weights(distance_per_km=5, team_split=0)))
    assert {("t1", "park"), ("t2", "estate")} <= pairs(apart)
    split = verify(p, apart.assignments)
    assert split.terms["team_split"] == Weights().team_split  # what the first schedule avoided


def test_stability_keeps_the_published_schedule():
    shifts = [shift("s")]
    # v1 lives at the shift, v2 900 m away (9 in distance): without stability v1 takes it;
    # replacing the published v2 costs two changes (2 x 5 = 10), more than the 9 it saves.
    volunteers = [volunteer("v1", x=0), volunteer("v2", x=900)]
    p = problem(volunteers, shifts, published=(Assignment("v2", "s"),))
    result = solved(p)
    assert pairs(result) == {("v2", "s")}
    assert result.objective_terms["stability"] == 0
    assert pairs(solved(replace(p, weights=Weights(stability=0)))) == {("v1", "s")}
    assert pairs(solved(replace(p, published=()))) == {("v1", "s")}


def test_a_minimum_seat_of_the_lowest_priority_comes_before_ideal_seats_of_the_highest():
    weights = Weights()
    top_priority = 5  # school escorts
    assert weights.below_min * 1 > 5 * weights.below_ideal * top_priority  # more than five of them
    # One trained escort, two shifts at the same time: a priority-1 cleanup that needs one person,
    # or a priority-5 crossing with no minimum but six ideal seats, which five helpers (too far
    # from the cleanup) can only take with the escort there. Filling the crossing's six ideal
    # seats (6 x 5 x 5,000) does not outweigh leaving the cleanup's minimum seat empty.
    escort = volunteer("escort", x=1500, skills=frozenset({"trained_escort"}))
    helpers = [volunteer(f"h{k}", x=3000, max_travel_m=1000) for k in range(5)]
    cleanup = shift("cleanup", kind="cleanup", priority=1, seats=(1, 1, 1), x=0)
    crossing = shift("crossing", priority=top_priority, seats=(0, 6, 6), x=3000, required_skills={"trained_escort": 1})
    p = problem([escort, *helpers], [cleanup, crossing])
    result = solved(p)
    assert pairs(result) == {("escort", "cleanup")}
    assert result.objective_terms["below_min"] == 0
    assert result.objective_terms["below_ideal"] == 6 * top_priority * weights.below_ideal
    # with the old weights (100,000 per minimum seat) the crossing won
    old = solved(replace(p, weights=Weights(below_min=100_000)))
    assert ("escort", "crossing") in pairs(old) and len(old.assignments) == 6
