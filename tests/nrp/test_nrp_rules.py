"""The roster rule builders of ``scheduler.rules`` on small volunteer-planning cases.

Each case is one or two volunteers over a week or two with morning/evening shifts, solved exactly, with
an optimum worked out by hand.
"""

from __future__ import annotations

import pytest
from ortools.sat.python import cp_model

from scheduler import rules

KINDS = ("morning", "evening")
MINUTES = {"morning": 240, "evening": 180}


def volunteer(model: cp_model.CpModel, days: int, name: str = "v", kinds=KINDS):
    shifts_by_day = [{kind: model.new_bool_var(f"{name}_{day}_{kind}") for kind in kinds} for day in range(days)]
    worked = rules.add_one_shift_per_day(model, shifts_by_day, name=name)
    return shifts_by_day, worked


def solve(model: cp_model.CpModel) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    status = solver.solve(model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    return solver


def worked_days(solver, worked) -> list[int]:
    return [day for day, literal in enumerate(worked) if solver.boolean_value(literal)]


def test_one_shift_per_day():
    model = cp_model.CpModel()
    shifts_by_day, worked = volunteer(model, 3)
    model.maximize(sum(v for day in shifts_by_day for v in day.values()))
    assert solve(model).objective_value == 3


def test_max_consecutive_days():
    model = cp_model.CpModel()
    _, worked = volunteer(model, 7)
    rules.add_max_consecutive_days(model, worked, 2)
    model.maximize(sum(worked))
    solver = solve(model)
    assert solver.objective_value == 5  # W W . W W . W
    days = worked_days(solver, worked)
    assert all(not {d, d + 1, d + 2} <= set(days) for d in range(5))


def test_min_rest_between_shifts_becomes_forbidden_successions():
    # evening 18:00-22:00, morning 06:00-10:00: 8 hours from an evening to the next morning
    times = {"morning": (6 * 60, 10 * 60), "evening": (18 * 60, 22 * 60)}
    assert rules.forbidden_successions_for_min_rest(times, 11 * 60) == {"evening": {"morning"}}
    assert rules.forbidden_successions_for_min_rest(times, 8 * 60) == {}
    model = cp_model.CpModel()
    shifts_by_day, _ = volunteer(model, 2)
    rules.add_forbidden_successions(model, shifts_by_day, {"evening": {"morning"}})
    model.add(shifts_by_day[0]["evening"] == 1)
    model.maximize(shifts_by_day[1]["morning"] + shifts_by_day[1]["evening"])
    solver = solve(model)
    assert not solver.boolean_value(shifts_by_day[1]["morning"])
    assert solver.boolean_value(shifts_by_day[1]["evening"])


@pytest.mark.parametrize(
    "today, tomorrow, allowed",
    [("late", "early", False), ("night", "early", False), ("night", "late", False), ("late", "late", True),
     ("early", "early", True), ("late", "night", True), ("early", "night", True)],
)
def test_kinds_that_forbid_the_same_followers_share_one_constraint(today, tomorrow, allowed):
    # late and night both forbid an early shift next day; night also forbids late (its own group)
    kinds = ("early", "late", "night")
    forbidden = {"late": {"early"}, "night": {"early", "late"}, "early": set()}
    model = cp_model.CpModel()
    shifts_by_day, _ = volunteer(model, 2, kinds=kinds)
    rules.add_forbidden_successions(model, shifts_by_day, forbidden)
    model.add(shifts_by_day[0][today] == 1)
    model.add(shifts_by_day[1][tomorrow] == 1)
    solver = cp_model.CpSolver()
    status = solver.solve(model)
    assert (status == cp_model.OPTIMAL) == allowed, solver.status_name(status)


def test_max_weekends_in_a_period():
    model = cp_model.CpModel()
    _, worked = volunteer(model, 14)
    weekend_literals = rules.add_max_weekends(model, worked, 1)
    assert len(weekend_literals) == 2
    model.maximize(sum(worked))
    solver = solve(model)
    assert solver.objective_value == 12  # every day but one weekend
    days = set(worked_days(solver, worked))
    assert not ({5, 6} & days and {12, 13} & days)


def test_weekends_follow_the_first_weekday():
    assert rules.weekends(14) == [[5, 6], [12, 13]]
    assert rules.weekends(9, first_weekday=5) == [[0, 1], [7, 8]]  # starting on a Saturday


def test_per_kind_maximum_counts():
    model = cp_model.CpModel()
    shifts_by_day, _ = volunteer(model, 7)
    rules.add_max_count_per_kind(model, shifts_by_day, {"evening": 2})
    model.maximize(sum(day["evening"] * 3 + day["morning"] for day in shifts_by_day))
    solver = solve(model)
    assert solver.objective_value == 2 * 3 + 5


def test_max_total_minutes():
    model = cp_model.CpModel()
    shifts_by_day, _ = volunteer(model, 7)
    rules.add_total_minutes_bounds(model, shifts_by_day, MINUTES, max_minutes=1000)
    minutes = rules.total_minutes(shifts_by_day, MINUTES)
    model.maximize(minutes)
    assert solve(model).objective_value == 960  # 4 mornings, or 1 morning and 4 evenings


def test_min_total_minutes():
    model = cp_model.CpModel()
    shifts_by_day, worked = volunteer(model, 7)
    rules.add_total_minutes_bounds(model, shifts_by_day, MINUTES, min_minutes=1300)
    model.minimize(sum(worked))
    assert solve(model).objective_value == 6  # five mornings make only 1200 minutes


def test_weighted_wishes():
    model = cp_model.CpModel()
    shifts_by_day, _ = volunteer(model, 2)
    wants = rules.shift_on_request_cost(shifts_by_day, 0, "evening", 5)
    does_not_want = rules.shift_off_request_cost(shifts_by_day, 1, "morning", 3)
    model.add(sum(shifts_by_day[1].values()) == 1)  # must work day 1: the evening avoids the cost
    model.minimize(wants + does_not_want)
    solver = solve(model)
    assert solver.objective_value == 0
    assert solver.boolean_value(shifts_by_day[0]["evening"]) and solver.boolean_value(shifts_by_day[1]["evening"])
    fixed = [{"morning": True}, {}]
    assert rules.shift_on_request_cost(fixed, 0, "evening", 5) == 5
    assert rules.shift_on_request_cost(fixed, 0, "morning", 5) == 0
    assert rules.shift_off_request_cost(fixed, 0, "morning", 3) == 3
    assert rules.shift_off_request_cost(fixed, 1, "morning", 3) == 0


@pytest.mark.parametrize(("required", "expected"), [(3, 1 * 100), (0, 2 * 1), (1, 1 * 1), (2, 0)])
@pytest.mark.parametrize("sense", ["minimize", "maximize"])
def test_coverage_shortfall_and_excess_are_exact(required, expected, sense):
    """Two of four volunteers cover the shift (one decided by the solver, one fixed): the cost is the
    true max(0, ...) whether the objective pushes it down or up."""
    model = cp_model.CpModel()
    people = [model.new_bool_var(f"p{i}") for i in range(3)]
    model.add(people[0] == 1)
    model.add(people[1] == 0)
    model.add(people[2] == 0)
    cost = rules.add_coverage_cost(model, people + [True], required, 100, 1, name="x")
    getattr(model, sense)(cost)
    solver = solve(model)
    assert solver.objective_value == expected


def test_min_run_lengths_with_and_without_the_boundary_exemption():
    model = cp_model.CpModel()
    _, worked = volunteer(model, 7)
    rules.add_min_run_length(model, worked, 3, exempt_boundary=True)
    for day, value in enumerate([1, 0, 0, 0, 0, 0, 1]):
        model.add(worked[day] == value)  # short runs on the first and last day are allowed
    solve(model)

    model = cp_model.CpModel()
    _, worked = volunteer(model, 7)
    rules.add_min_run_length(model, worked, 3, exempt_boundary=False)
    model.add(worked[0] == 1)
    model.minimize(sum(worked))
    assert solve(model).objective_value == 3

    model = cp_model.CpModel()
    _, worked = volunteer(model, 7)
    rules.add_min_run_length(model, [rules.negate(w) for w in worked], 2)  # days off come at least in pairs
    model.add(worked[2] == 0)
    model.maximize(sum(worked))
    solver = solve(model)
    assert solver.objective_value == 5
    assert worked_days(solver, worked) in ([0, 1, 4, 5, 6], [0, 3, 4, 5, 6])


def test_fixed_literals_are_folded():
    model = cp_model.CpModel()
    free = model.new_bool_var("free")
    rules.add_max_consecutive_days(model, [True, True, free, True], 3)
    model.maximize(free)
    assert solve(model).objective_value == 0
    with pytest.raises(ValueError):
        rules.add_max_consecutive_days(cp_model.CpModel(), [True, True, True], 2)
