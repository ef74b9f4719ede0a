"""The independent evaluator on hand-made instances and rosters: each hard rule broken once.

Every instance here starts from loose limits (nothing binds), and each test tightens the one rule it
is about, so a roster that breaks it breaks nothing else; the same roster under the loose limits
must pass, which shows the test is about that rule and no other.
"""

from __future__ import annotations

from scheduler.nrp.check import check_roster_text

LOOSE = {
    "limits": "D=14|N=14",
    "max_minutes": 100_000,
    "min_minutes": 0,
    "max_consecutive": 14,
    "min_consecutive": 1,
    "min_off": 1,
    "max_weekends": 2,
}


def instance_text(horizon=14, days_off=(), on=(), off=(), cover=(), **contract) -> str:
    """One employee A (and an idle B); shifts D (480 min) and N (600 min, no D the day after)."""
    c = {**LOOSE, **contract}
    lines = [
        "# hand-made test instance",
        "SECTION_HORIZON",
        "# days",
        str(horizon),
        "",
        "SECTION_SHIFTS",
        "D,480,",
        "N,600,D",
        "",
        "SECTION_STAFF",
        f"A,{c['limits']},{c['max_minutes']},{c['min_minutes']},{c['max_consecutive']},{c['min_consecutive']},{c['min_off']},{c['max_weekends']}",
        "B,D=14|N=14,100000,0,14,1,1,2",
        "",
    ]
    if days_off:
        lines += ["SECTION_DAYS_OFF", "A," + ",".join(str(d) for d in days_off), ""]
    lines += ["SECTION_SHIFT_ON_REQUESTS", *on, "", "SECTION_SHIFT_OFF_REQUESTS", *off, "", "SECTION_COVER", *cover, ""]
    return "\r\n".join(lines) + "\r\n"


def roster(*cells: tuple[int, str], employee: str = "A") -> str:
    return "\r\n".join(f"{employee},{day},{shift}" for day, shift in cells) + "\r\n"


def work(days, shift="D") -> list[tuple[int, str]]:
    return [(day, shift) for day in days]


def rules_broken(instance: str, text: str) -> set[str]:
    return check_roster_text(instance, text).rules_violated()


def breaks_only(rule: str, text: str, **tight) -> None:
    """The roster breaks exactly ``rule`` under the tightened instance, and nothing when loose."""
    assert rules_broken(instance_text(**tight), text) == {rule}
    loose = {key: value for key, value in tight.items() if key in ("horizon", "cover", "on", "off")}
    assert rules_broken(instance_text(**loose), text) == set()


def test_a_feasible_roster_passes():
    result = check_roster_text(instance_text(), roster(*work(range(0, 5)), *work(range(7, 12), "N")))
    assert result.feasible
    assert result.violations == []
    assert result.objective == 0


def test_two_shifts_on_one_day():
    text = roster((3, "D"), (3, "N"))
    assert rules_broken(instance_text(), text) == {"one-shift-per-day"}


def test_shift_on_a_day_off():
    breaks_only("day-off", roster(*work(range(2, 6))), days_off=(4,))
    assert rules_broken(instance_text(days_off=(4,)), roster(*work(range(0, 4)), *work(range(5, 9)))) == set()


def test_forbidden_succession():
    assert rules_broken(instance_text(), roster((2, "N"), (3, "D"))) == {"succession"}
    # the other order is allowed, and there is no wrap-around from the last day to the first
    assert rules_broken(instance_text(), roster((2, "D"), (3, "N"))) == set()
    assert rules_broken(instance_text(), roster((0, "D"), (13, "N"))) == set()


def test_max_shifts_per_type():
    breaks_only("max-shifts", roster((1, "N"), (4, "N"), (7, "N")), limits="D=14|N=2")
    assert rules_broken(instance_text(limits="D=14|N=2"), roster((1, "N"), (4, "N"))) == set()


def test_a_type_at_zero_or_missing_is_never_allowed():
    assert rules_broken(instance_text(limits="D=14|N=0"), roster((1, "N"))) == {"max-shifts"}
    assert rules_broken(instance_text(limits="D=14"), roster((1, "N"))) == {"max-shifts"}


def test_max_total_minutes():
    # 4 x 480 + 600 = 2520 minutes
    text = roster(*work((0, 1, 2, 3)), (6, "N"))
    breaks_only("max-minutes", text, max_minutes=2519)
    assert rules_broken(instance_text(max_minutes=2520), text) == set()


def test_min_total_minutes():
    text = roster(*work((0, 1, 2, 3)), (6, "N"))
    breaks_only("min-minutes", text, min_minutes=2521)
    assert rules_broken(instance_text(min_minutes=2520), text) == set()


def test_max_consecutive_shifts():
    breaks_only("max-consecutive", roster(*work(range(3, 8))), max_consecutive=4)
    assert rules_broken(instance_text(max_consecutive=4), roster(*work(range(3, 7)))) == set()
    # a run at the boundary counts too
    assert rules_broken(instance_text(max_consecutive=4), roster(*work(range(0, 5)))) == {"max-consecutive"}


def test_min_consecutive_shifts():
    breaks_only("min-consecutive", roster(*work((0, 1, 2)), *work((6, 7)), *work((10,))), min_consecutive=2)


def test_min_consecutive_shifts_exempts_runs_touching_the_horizon():
    tight = instance_text(min_consecutive=3)
    assert rules_broken(tight, roster((0, "D"), (13, "D"))) == set()
    assert rules_broken(tight, roster((0, "D"), (5, "D"), (6, "D"), (13, "D"))) == {"min-consecutive"}


def test_min_consecutive_days_off():
    breaks_only("min-days-off", roster(*work((0, 1, 2)), *work((4, 5, 6, 7)), *work((10, 11))), min_off=2)


def test_min_days_off_exempts_runs_touching_the_horizon():
    tight = instance_text(min_off=3)
    assert rules_broken(tight, roster(*work(range(1, 13)))) == set()
    assert rules_broken(tight, roster(*work(range(1, 6)), *work(range(8, 13)))) == {"min-days-off"}


def test_max_weekends():
    # weekends are days 5-6 and 12-13; a Saturday alone or a Sunday alone counts as a worked weekend
    text = roster((5, "D"), (13, "D"))
    breaks_only("max-weekends", text, max_weekends=1)
    assert rules_broken(instance_text(max_weekends=1), roster((5, "D"), (6, "D"))) == set()
    assert rules_broken(instance_text(max_weekends=0), roster((6, "D"))) == {"max-weekends"}
    assert rules_broken(instance_text(max_weekends=0), roster((4, "D"), (7, "D"))) == set()


def test_malformed_lines():
    instance = instance_text()
    assert rules_broken(instance, "A,1\r\n") == {"format"}
    assert rules_broken(instance, "A,x,D\r\n") == {"format"}
    assert rules_broken(instance, "Z,1,D\r\n") == {"unknown-employee"}
    assert rules_broken(instance, "A,1,Q\r\n") == {"unknown-shift"}
    assert rules_broken(instance, "A,14,D\r\n") == {"day-range"}
    assert rules_broken(instance, "A,-1,D\r\n") == {"day-range"}


def test_objective_counts_each_term():
    instance = instance_text(
        on=["A,0,D,3", "A,1,D,5", "A,2,N,7"],  # met; unmet (works N); unmet (off)
        off=["A,3,D,11", "A,4,N,13"],  # broken; kept (works D)
        cover=["0,D,2,100,1", "1,N,0,100,1", "3,D,1,100,1", "5,D,0,100,1"],
    )
    text = roster((0, "D"), (1, "N"), (3, "D"), (4, "D")) + roster((1, "N"), employee="B")
    result = check_roster_text(instance, text)
    assert result.feasible
    assert result.on_request_cost == 5 + 7
    assert result.off_request_cost == 11
    # day 0 D: 1 of 2 -> under 100; day 1 N: 2 of 0 -> over 2; day 3 D: 1 of 1; day 5 D: 0 of 0
    assert result.under_cover_cost == 100
    assert result.over_cover_cost == 2
    assert result.objective == 12 + 11 + 100 + 2


def test_empty_roster_costs_every_on_request_and_all_cover():
    instance = instance_text(on=["A,0,D,3"], off=["A,1,D,4"], cover=["0,D,2,100,1", "2,N,1,50,1"])
    result = check_roster_text(instance, "")
    assert result.feasible
    assert result.objective == 3 + 200 + 50
