"""Excluded (declined) pairs, and stopping a solve on request from another thread."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest

from scheduler.generate import DistrictSpec, generate
from scheduler.io import problem_from_dict, problem_to_dict, read_problem, write_problem
from scheduler.model import Assignment, ProblemError, SolveOptions
from scheduler.solve import solve
from scheduler.verify import verify
from scheduler_cases import exact, pairs, problem, shift, volunteer

REASON_ORDER = [
    "underage",
    "missing_skill",
    "too_far",
    "unavailable",
    "declined",
    "at_weekly_limit",
    "on_overlapping_shift",
    "not_chosen",
]


def checked(p, result):
    verdict = verify(p, result.assignments, result.objective)
    assert verdict.ok, verdict.violations
    return result


# --------------------------------------------------------------------------- excluded pairs
@pytest.mark.parametrize("method", ["cpsat", "greedy", "mip"])
def test_an_excluded_pair_is_never_made_even_when_it_is_the_only_way_to_fill_a_seat(method):
    # "a" is the only person who could take "s" (b is too far); a declined it, so it stays empty.
    p = problem(
        [volunteer("a"), volunteer("b", x=9000)],
        [shift("s", priority=5), shift("other", day=1)],
        excluded=(Assignment("a", "s"),),
    )
    result = checked(p, solve(p, exact(method=method)))
    assert ("a", "s") not in pairs(result)
    assert ("a", "other") in pairs(result)  # a still works, just not on the declined shift
    short = next(s for s in result.shortfalls if s.shift_id == "s")
    assert short.filled == 0 and short.eligible == 0 and short.no_eligible_person
    assert list(short.reasons) == REASON_ORDER  # every cause, zeros included, declined in its place
    assert short.reasons["declined"] == 1 and short.reasons["too_far"] == 1
    assert sum(short.reasons.values()) == 2
    if method != "greedy":
        assert result.status == "OPTIMAL"
        assert result.objective_terms["below_min"] == p.weights.below_min * 5


def test_without_the_exclusion_the_same_seat_is_filled():
    p = problem([volunteer("a"), volunteer("b", x=9000)], [shift("s", priority=5), shift("other", day=1)])
    result = checked(p, solve(p, exact()))
    assert ("a", "s") in pairs(result)
    assert all(s.reasons["declined"] == 0 for s in result.shortfalls)


def test_an_ineligible_volunteer_who_also_declined_counts_under_the_first_cause():
    p = problem([volunteer("far", x=9000), volunteer("near")], [shift("s", seats=(1, 2, 2))], excluded=(Assignment("far", "s"), Assignment("near", "s")))
    result = checked(p, solve(p, exact()))
    assert result.assignments == []
    reasons = result.shortfalls[0].reasons
    assert reasons["too_far"] == 1 and reasons["declined"] == 1


def test_exclusions_on_a_generated_district_are_kept_and_the_checker_agrees():
    district = generate(DistrictSpec(volunteers=150, schools=3, sites=2, days=5, seed=7))
    first = solve(district, SolveOptions(time_limit_s=5, workers=2, seed=0))
    fixed = set(district.fixed)
    declined = [a for a in first.assignments if a not in fixed][::3]
    assert len(declined) >= 10
    # Re-solving after people declined some of their published shifts.
    again_problem = replace(district, published=tuple(first.assignments), excluded=tuple(declined))
    for method in ("greedy", "cpsat"):
        again = solve(again_problem, SolveOptions(method=method, time_limit_s=5, workers=2, seed=0))
        assert not set(declined) & set(again.assignments)
        # verify recomputes the fair shares (declined shifts are not offered) and the stability
        # cost of the dropped published pairs on its own: the objectives must agree.
        checked(again_problem, again)
        for short in again.shortfalls:  # everyone is accounted for once; declined people are not eligible
            assert short.filled + sum(short.reasons.values()) == len(district.volunteers)
            assert short.eligible == short.filled + short.reasons["at_weekly_limit"] + short.reasons["on_overlapping_shift"] + short.reasons["not_chosen"]


def test_verify_flags_an_excluded_pair_that_is_assigned():
    p = problem([volunteer("a")], [shift("s")], excluded=(Assignment("a", "s"),))
    verdict = verify(p, [Assignment("a", "s")])
    assert not verdict.ok
    assert any("excluded" in v and "a -> s" in v for v in verdict.violations), verdict.violations
    assert verify(p, []).ok


def test_a_pair_both_fixed_and_excluded_is_an_input_error():
    pair = Assignment("a", "s")
    p = problem([volunteer("a")], [shift("s")], fixed=(pair,), excluded=(pair,))
    with pytest.raises(ProblemError, match="both fixed and excluded.*a -> s"):
        solve(p, exact())


@pytest.mark.parametrize("pair", [Assignment("ghost", "s"), Assignment("a", "nowhere")])
def test_an_excluded_pair_naming_an_unknown_volunteer_or_shift_is_an_input_error(pair):
    p = problem([volunteer("a")], [shift("s")], excluded=(pair,))
    with pytest.raises(ProblemError, match="excluded pair .* unknown volunteer or shift"):
        solve(p, exact())


def test_listing_an_excluded_pair_twice_is_harmless():
    pair = Assignment("a", "s")
    p = problem([volunteer("a")], [shift("s")], excluded=(pair, pair))
    result = checked(p, solve(p, exact()))
    assert result.assignments == [] and result.shortfalls[0].reasons["declined"] == 1


def test_excluded_round_trips_through_json_and_is_optional(tmp_path):
    p = problem([volunteer("a"), volunteer("b")], [shift("s"), shift("t", day=1)], excluded=(Assignment("a", "s"), Assignment("b", "t")))
    assert problem_from_dict(json.loads(json.dumps(problem_to_dict(p)))) == p
    write_problem(p, tmp_path / "p.json")
    assert read_problem(tmp_path / "p.json").excluded == p.excluded
    data = problem_to_dict(p)
    del data["excluded"]  # files written before the field existed
    assert problem_from_dict(data).excluded == ()


# --------------------------------------------------------------------------- stop on request
@pytest.fixture(scope="module")
def long_problem():
    """2,000 volunteers, 282 shifts: with relative_gap=0 CP-SAT runs to its 30 s limit (measured:
    30.8 s, gap still 0.2% against its own bound), so a quick return can only come from the stop."""
    return generate(DistrictSpec(volunteers=2000, schools=12, sites=8, days=5, seed=1))


def long_options(**extra) -> SolveOptions:
    return SolveOptions(time_limit_s=30, workers=2, seed=0, relative_gap=0, **extra)


@pytest.mark.parametrize("delay_s", [1.0, 3.0])
def test_a_stop_from_another_thread_ends_a_long_cpsat_solve_within_seconds(long_problem, delay_s):
    stop = threading.Event()
    timer = threading.Timer(delay_s, stop.set)
    threads_before = threading.active_count()
    started = time.perf_counter()
    timer.start()
    try:
        result = solve(long_problem, long_options(stop=stop))
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - started
    # Cut well short of the 30 s limit even on a loaded machine, where building the model alone can
    # take several seconds (seen: 5 s beside three busy processes); CP-SAT's own search, when it
    # started at all, ended within seconds of the request.
    assert elapsed < long_options().time_limit_s / 2, elapsed
    assert result.stats["solve_s"] < delay_s + 4, result.stats
    assert result.stats["stopped"] == 1
    assert result.status in ("FEASIBLE", "OPTIMAL")
    # Not a proven optimum. On a busy machine the stop can come before any bound exists (the start
    # schedule is returned, gap unknown); the elapsed time above already shows the solve was cut short.
    assert result.gap is None or result.gap > 0
    assert result.assignments and result.shortfalls is not None
    checked(long_problem, result)
    timer.join()
    assert threading.active_count() <= threads_before  # the watcher thread has ended


@pytest.mark.parametrize("method", ["cpsat", "mip"])
def test_a_stop_already_requested_returns_the_greedy_schedule_at_once(long_problem, method):
    stop = threading.Event()
    stop.set()
    started = time.perf_counter()
    result = solve(long_problem, long_options(method=method, stop=stop))
    assert time.perf_counter() - started < long_options().time_limit_s / 2  # loose: a loaded machine is slow
    assert result.stats["stopped"] == 1 and result.stats["returned_hint"] == 1
    assert "relax_s" not in result.stats and "translate_s" in result.stats
    assert result.status == "FEASIBLE" and result.bound is None
    assert result.objective == result.stats["greedy_objective"]
    checked(long_problem, result)


def test_an_unused_stop_event_changes_nothing_and_leaves_no_thread():
    p = problem([volunteer("a"), volunteer("b")], [shift("s", seats=(1, 2, 2))])
    threads_before = threading.active_count()
    with_event = solve(p, exact(stop=threading.Event()))
    without = solve(p, exact())
    assert "stopped" not in with_event.stats
    assert pairs(with_event) == pairs(without) and with_event.objective == without.objective
    assert threading.active_count() == threads_before
