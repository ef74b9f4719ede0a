"""Odd input gives a clear ProblemError or an empty schedule, never a crash."""

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.model import Assignment, ProblemError
from scheduler.solve import solve
from scheduler.verify import verify
from scheduler_cases import at, exact, problem, shift, volunteer


@pytest.mark.parametrize("method", ["cpsat", "greedy", "mip"])
def test_no_volunteers_gives_an_empty_schedule_with_reasons(method):
    result = solve(problem([], [shift("s", seats=(1, 2, 2))]), exact(method=method))
    assert result.assignments == []
    assert result.coverage_min == 0.0
    assert result.shortfalls[0].no_eligible_person
    assert verify(problem([], [shift("s", seats=(1, 2, 2))]), [], result.objective).ok


@pytest.mark.parametrize("method", ["cpsat", "greedy", "mip"])
def test_no_shifts_gives_an_empty_schedule(method):
    result = solve(problem([volunteer("v")], []), exact(method=method))
    assert result.assignments == [] and result.objective == 0 and result.coverage_min == 1.0


def test_nothing_at_all():
    result = solve(problem([], []), exact())
    assert result.assignments == [] and result.objective == 0


def test_zero_length_shift_is_an_error():
    with pytest.raises(ProblemError, match="not after its start"):
        solve(problem([volunteer("v")], [shift("s", minutes=0)]), exact())


def test_past_shifts_are_left_alone():
    p = problem([volunteer("v")], [shift("past", day=0), shift("future", day=2)], now=at(1, 0))
    result = solve(p, exact())
    assert result.skipped_shifts == ["past"]
    assert {a.shift_id for a in result.assignments} == {"future"}
    assert verify(p, result.assignments, result.objective).ok


def test_duplicate_ids_are_an_error():
    with pytest.raises(ProblemError, match="duplicate volunteer"):
        solve(problem([volunteer("v"), volunteer("v")], [shift("s")]), exact())
    with pytest.raises(ProblemError, match="duplicate shift"):
        solve(problem([volunteer("v")], [shift("s"), shift("s")]), exact())


def test_unknown_skill_is_an_error():
    with pytest.raises(ProblemError, match="unknown skill"):
        solve(problem([volunteer("v", skills=frozenset({"juggling"}))], [shift("s")]), exact())
    with pytest.raises(ProblemError, match="unknown skill"):
        solve(problem([volunteer("v")], [shift("s", required_skills={"juggling": 1})]), exact())


def test_bad_seats_are_an_error():
    with pytest.raises(ProblemError, match="seats"):
        solve(problem([volunteer("v")], [shift("s", seats=(2, 1, 3))]), exact())


def test_impossible_fixed_assignment_is_an_error_naming_the_reason():
    p = problem([volunteer("v", max_travel_m=100)], [shift("s", x=5000)], fixed=(Assignment("v", "s"),))
    with pytest.raises(ProblemError, match="too_far"):
        solve(p, exact())


def test_clashing_fixed_assignments_are_an_error():
    p = problem([volunteer("v")], [shift("a"), shift("b")], fixed=(Assignment("v", "a"), Assignment("v", "b")))
    with pytest.raises(ProblemError, match="clash"):
        solve(p, exact())


def test_fixed_assignment_to_unknown_volunteer_is_an_error():
    with pytest.raises(ProblemError, match="unknown volunteer or shift"):
        solve(problem([volunteer("v")], [shift("s")], fixed=(Assignment("ghost", "s"),)), exact())


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown method"):
        solve(problem([], []), exact(method="magic"))


def test_volunteer_with_no_availability_is_simply_never_eligible():
    p = problem([volunteer("v", availability=())], [shift("s")])
    result = solve(p, exact())
    assert result.assignments == [] and result.shortfalls[0].reasons["unavailable"] == 1


def test_verify_reports_every_broken_rule():
    p = problem([volunteer("v", max_travel_m=100, max_shifts_per_week=1)], [shift("a"), shift("b", x=50), shift("far", x=900, day=1)], fixed=(Assignment("v", "a"),))
    bad = [Assignment("v", "a"), Assignment("v", "b"), Assignment("v", "far"), Assignment("ghost", "a")]
    verdict = verify(p, bad, claimed_objective=0)
    text = "\n".join(verdict.violations)
    for expected in ("overlap", "limit 1", "not eligible", "unknown volunteer", "objective claimed"):
        assert expected in text, text
    dropped = verify(p, [], None)
    assert any("dropped" in v for v in dropped.violations)


def test_negative_weights_are_an_error():
    from scheduler.model import Weights

    with pytest.raises(ProblemError, match="continuity"):
        solve(replace(problem([volunteer("v")], [shift("s")]), weights=Weights(continuity=-1)), exact())
