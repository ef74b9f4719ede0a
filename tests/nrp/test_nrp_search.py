"""The search's parts: complete hints, the narrow first rows, the choice of neighbourhood kinds."""

from __future__ import annotations

import random

from ortools.sat.python import cp_model

from nrp_support import DATA, roster_text
from scheduler.nrp.check import check_roster_text
from scheduler.nrp.instance import load_instance, parse_instance
from scheduler.nrp.model import add_hint, build_model, cover_counts, roster_objective
from scheduler.nrp.search import (
    FIRST_ROW_STAGES,
    SearchOptions,
    _Clock,
    _first_row,
    _KindChooser,
    _Neighbourhoods,
    construct,
    few_kinds,
)


# Two lengths of 480 minutes (E, D), one of 600 (L) and one of 720 (N). Person A may work E at most
# 3 times, so D is their 480-minute type; B may not work L at all.
SMALL = """SECTION_HORIZON
14

SECTION_SHIFTS
E,480,
D,480,E
L,600,E|D
N,720,E|D|L

SECTION_STAFF
A,E=3|D=14|L=14|N=2,6000,3840,5,2,2,1
B,E=14|D=14|L=0|N=14,6000,3840,5,2,2,1

SECTION_DAYS_OFF
A,3
B,10

SECTION_COVER
0,E,1,100,1
"""


def test_add_hint_gives_every_variable_the_rosters_values():
    """The hint covers the working-day, weekend, shortfall and excess variables too, and fixing every
    variable to it is a solution priced like the roster."""
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    roster = construct(instance, _Clock(5), SearchOptions(time_limit=5))
    assert roster is not None
    rng = random.Random(7)
    cells = [(p, d) for p in rng.sample(range(len(instance.staff)), 4) for d in range(instance.horizon)]
    sub = build_model(instance, cells, roster)
    assert add_hint(instance, sub, roster) is True
    hint = sub.model.proto.solution_hint
    assert sorted(hint.vars) == list(range(len(sub.model.proto.variables)))
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    status = solver.solve(sub.model)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert int(solver.value(sub.objective)) == roster_objective(instance, roster)
    for (p, d, t), var in sub.shift_vars.items():
        assert solver.boolean_value(var) == (roster.get((instance.staff[p].id, d)) == t)


def test_add_hint_falls_back_to_the_shift_variables_when_the_roster_breaks_a_rule():
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    cells = [(0, d) for d in range(instance.horizon)]
    sub = build_model(instance, cells, {})
    person = instance.staff[0]
    every_day = {}  # every day the person may work: far over the consecutive-days limit
    for d in range(instance.horizon):
        kinds = instance.allowed_shifts(person, d)
        if kinds:
            every_day[(person.id, d)] = kinds[0]
    assert add_hint(instance, sub, every_day, complete_within=0.5) is False
    hint = sub.model.proto.solution_hint
    assert sorted(hint.vars) == sorted(var.index for var in sub.shift_vars.values())


def test_few_kinds_keeps_one_type_a_length_the_person_may_work_most():
    instance = parse_instance(SMALL, "small")
    a, b = instance.staff
    assert few_kinds(instance, a) == {"D", "L", "N"}  # E at most 3 times, D 14
    assert few_kinds(instance, b) == {"E", "N"}  # E and D alike in count: E forbids fewer followers; no L


def test_rows_over_few_kinds_are_rows_of_the_whole_problem():
    """A roster made of first rows found only over one type a length passes the evaluator."""
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    narrow_stage = next(index for index, stage in enumerate(FIRST_ROW_STAGES) if stage[1])
    roster = {}
    for p, person in enumerate(instance.staff):
        cells = [(p, d) for d in range(instance.horizon)]
        result, stage = _first_row(instance, cells, roster, _Clock(30), seed=1, first_stage=narrow_stage)
        assert result is not None
        row = {key: shift for key, shift in result.roster.items() if key[0] == person.id}
        if stage == narrow_stage:
            assert {shift for shift in row.values()} <= few_kinds(instance, person)
        roster.update(row)
    check = check_roster_text(path.read_text(), roster_text(roster))
    assert check.feasible, check.violations


def test_kind_chooser_tries_each_kind_then_mostly_takes_the_one_that_gains_most():
    chooser = _KindChooser(("slow", "fast"), random.Random(3))
    assert chooser.pick() == "slow"
    chooser.record("slow", gain=10, seconds=1.0)
    assert chooser.pick() == "fast"
    chooser.record("fast", gain=500, seconds=1.0)
    picks = [chooser.pick() for _ in range(400)]
    share_fast = picks.count("fast") / len(picks)
    # (1 - EXPLORE) of the picks go to the better kind, plus half of the random ones.
    assert 0.8 < share_fast < 0.97
    assert "slow" in picks  # still explored
    for _ in range(30):  # the fast kind stops gaining: its running rate falls below the slow one's
        chooser.record("fast", gain=0, seconds=1.0)
    assert [chooser.pick() for _ in range(200)].count("slow") > 100


def test_people_targeted_frees_whole_rows_including_someone_who_could_fix_a_costly_item():
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    roster = construct(instance, _Clock(5), SearchOptions(time_limit=5))
    neighbourhoods = _Neighbourhoods(instance, ("people_targeted",))
    rng = random.Random(11)
    for _ in range(5):
        cells = neighbourhoods.choose(rng, roster, "people_targeted", 60)
        people = {p for p, _ in cells}
        assert len(people) >= 2
        assert cells and set(cells) == {(p, d) for p in people for d in range(instance.horizon)}


def test_days_frees_everyone_over_consecutive_days_around_a_costly_item():
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    roster = construct(instance, _Clock(5), SearchOptions(time_limit=5))
    neighbourhoods = _Neighbourhoods(instance, ("days",))
    everyone = set(range(len(instance.staff)))
    counts: dict[tuple[int, str], int] = {}
    for (_, day), shift in roster.items():
        counts[(day, shift)] = counts.get((day, shift), 0) + 1
    costly_days = {cover.day for cover in instance.cover if counts.get((cover.day, cover.shift), 0) != cover.requirement}
    costly_days |= {r.day for r in instance.on_requests if roster.get((r.employee, r.day)) != r.shift}
    costly_days |= {r.day for r in instance.off_requests if roster.get((r.employee, r.day)) == r.shift}
    assert costly_days
    for size, width in ((1, 1), (len(everyone) * 3, 3)):
        rng = random.Random(size)
        for _ in range(5):
            cells = neighbourhoods.choose(rng, roster, "days", size)
            days = sorted({d for _, d in cells})
            assert days == list(range(days[0], days[0] + width))
            assert costly_days & set(days)
            assert set(cells) == {(p, d) for p in everyone for d in days}


def test_cross_frees_everyone_on_a_costly_day_and_whole_rows_of_people_with_unused_minutes():
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    roster = construct(instance, _Clock(5), SearchOptions(time_limit=5))
    neighbourhoods = _Neighbourhoods(instance, ("cross",))
    everyone = range(len(instance.staff))
    minutes = instance.minutes_by_shift
    unused = {p: instance.staff[p].max_total_minutes for p in everyone}
    for (employee, _), shift in roster.items():
        unused[neighbourhoods.person_index[employee]] -= minutes[shift]
    rows_wanted = 3
    size = len(instance.staff) + rows_wanted * instance.horizon
    most_unused = sorted(unused.values(), reverse=True)[2 * rows_wanted - 1]  # rows come from the top six
    rng = random.Random(5)
    for _ in range(5):
        cells = set(neighbourhoods.choose(rng, roster, "cross", size))
        rows = {p for p in everyone if all((p, d) in cells for d in range(instance.horizon))}
        assert len(rows) == rows_wanted
        assert all(unused[p] >= most_unused for p in rows)
        days = {d for p, d in cells if p not in rows}
        assert len(days) == 1  # one whole column besides the rows
        assert cells == {(p, d) for p in rows for d in range(instance.horizon)} | {(p, d) for p in everyone for d in days}


def test_swap_frees_people_on_a_shortfall_day_and_on_an_excess_of_the_same_type_nearby():
    path = DATA / "Instance3.txt"
    instance = load_instance(path)
    roster = construct(instance, _Clock(5), SearchOptions(time_limit=5))
    neighbourhoods = _Neighbourhoods(instance, ("swap",))
    counts = cover_counts(roster)
    short = {(c.day, c.shift) for c in instance.cover if counts.get((c.day, c.shift), 0) < c.requirement}
    excess = {(c.day, c.shift) for c in instance.cover if counts.get((c.day, c.shift), 0) > c.requirement}
    pairs = {(d, t, e) for d, t in short for e, u in excess if u == t}
    assert pairs, "the constructed roster should have a shortfall and an excess of the same type"
    rng = random.Random(3)
    for _ in range(5):
        cells = set(neighbourhoods.choose(rng, roster, "swap", 40))
        people = {p for p, _ in cells}
        days = {d for _, d in cells}
        assert cells == {(p, d) for p in people for d in days}  # whole rectangle
        chosen_pairs = [(d, t, e) for d, t, e in pairs if d in days and e in days]
        assert chosen_pairs
        # someone working an excess of a short type on its day is among the freed people
        workers = {
            neighbourhoods.person_index[employee]
            for (employee, day), shift in roster.items()
            if any(day == e and shift == t for _, t, e in chosen_pairs)
        }
        assert workers & people
