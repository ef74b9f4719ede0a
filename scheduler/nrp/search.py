"""Search for Curtois-Qu instances: a constructive first roster, column generation where it is quick
enough, then large-neighbourhood search (LNS) alongside a full-model solve.

Why this shape: every hard rule of the benchmark is about one person, and cover is only soft.
1. A first roster is built person by person, each person solved exactly by CP-SAT given the people
   already placed (their cover counts are constants, so the person's cost is exact). It is feasible
   whenever every person on their own is, and already a fair greedy roster.
2. On instances of up to 28 days and 20,000 shift variables (more with a longer time limit: see
   SearchOptions), column generation over whole rows (scheduler/nrp/colgen.py) proves a lower bound;
   on instances of at most 20 people branch and price then searches for the optimum (and may prove
   it), with one LNS thread beside it on the other core; on larger ones whose root was quick, two
   trees over the whole instance start at the root, one per core, each over a pool of rows of
   near-least reduced cost without pricing and then by branch and price; on the others a dive gives a
   roster near the relaxation, and column LNS (branch and price over some of the people) follows.
3. LNS threads free a few people over the whole horizon, or more people over a window of days, fix
   everyone else to the incumbent roster, and let CP-SAT re-optimise that neighbourhood starting from
   the incumbent as a complete hint. Each kind of neighbourhood has its own size, which grows while
   its neighbourhoods are solved to optimality within the sub-solve limit and shrinks when they are
   not; each thread takes mostly the kind that has lately gained the most per second.
4. When the full model is small enough, one thread solves it with CP-SAT hinted with the incumbent
   and the stronger LP relaxation (linearization level 2). Its solutions feed the incumbent, and it
   gives a lower bound and can prove optimality.
Threads share the machine's cores: CP-SAT releases the GIL while it solves; each runs one CP-SAT worker.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler.nrp.colgen import ColumnGeneration, lower_bound, residual_instance
from scheduler.nrp.instance import Instance, Roster
from scheduler.nrp.model import Cell, NrpModel, add_hint, build_model, cover_counts, roster_objective, solve
from scheduler.nrp.rowdp import RowDP

# Measured on Instance8 neighbourhoods of ~120 cells: with linearization level 2 one worker proved 4 of
# 6 optimal within 3 s, where the default (one or two workers) proved 0-1 of 6. On the full Instance5
# model (15 s) one worker at level 2 reached 1154 (bound 1059), two default workers 1559 (bound 1).
STRONG_LP = {"linearization_level": 2}
# Below this share of the construction budget a person gets their first feasible row only.
MIN_OPTIMISED_ROW_S = 0.2


@dataclass
class SearchOptions:
    time_limit: float = 60.0
    workers: int = 2  # threads, each running one CP-SAT worker
    seed: int = 0
    log: bool = False
    # Run the full model alongside LNS when it has at most this many shift variables.
    full_model_max_vars: int = 20_000
    # Measured at 60 s (load 3.8-4.5): Instance17 7313 with two LNS threads, 8420 with full model + LNS
    # (its bound: 12); Instance12 5414 against 5473 (bound 3092). So the full model keeps its thread
    # only while its bound is close or it finds improvements (see _full_model_worker).
    # Instance19 at 600 s (84 days, 40 people; seed 0, idle machine): with 0.5 the full model kept its
    # thread to the end (bound 2460-2600) and found none of the improvements: 3465 and 3360 in two
    # runs; with 0.8 it gave way at 120 s (bound 23-24) and two LNS threads reached 3226 and, in the
    # table run, 3364.
    full_model_probation: float = 0.2
    full_model_min_bound_ratio: float = 0.8
    construct_person_limit: float = 2.0
    construct_fraction: float = 0.3
    subsolve_limit: float = 1.0
    initial_free_cells: int = 150
    use_lns: bool = True
    use_construction: bool = True
    use_full_model: bool = True
    # Column generation and its dive (scheduler/nrp/colgen.py) before LNS, when the instance has at
    # most max(colgen_max_vars, colgen_vars_per_second * time limit) shift variables. Its root
    # relaxation must converge within ``colgen_root_fraction`` of the time limit (else LNS gets the
    # rest); the dive ends by ``colgen_fraction``. Measured roots (2 threads): Instance12 (10,452
    # variables) 21-29 s; Instance13 (39,936) 199 s, so it runs there only with 400 s or more.
    use_column_generation: bool = True
    colgen_max_vars: int = 20_000
    colgen_vars_per_second: float = 100.0
    # And when the horizon is at most max(colgen_max_horizon, colgen_days_per_second * time limit) days.
    # Measured at 120 s: on Instance15 (42 days) and Instance19 (84 days) the root had not converged
    # after 60 s (LP 3878 and 7016 against best known 3828 and 3149), half the time lost to LNS. At
    # 600 s Instance15's root converged at 129 s (LP 3823.6) and the search ended at 3842, against 4187
    # with LNS alone; so 42 days are let in from 600 s on.
    colgen_max_horizon: int = 28
    colgen_days_per_second: float = 0.07
    # Or, whatever the horizon, when pricing is small: its dynamic programs hold at most this many
    # states per second of the time limit, summed over people and days (pricing_state_days). Measured
    # roots from a first roster (2 threads, AMD EPYC): Instance16 (56 days, 8.1 million) 1.2 s,
    # Instance17 (56 days, 16 million) 7.8 s, Instance18 (84 days, 27 million) 10 s, where the horizon
    # alone kept all three out at 600 s; Instance19 (84 days, 169 million) not converged after 210 s.
    colgen_state_days_per_second: float = 50_000.0
    colgen_root_fraction: float = 0.5
    colgen_fraction: float = 0.85
    # Branch and price (ColumnGeneration.branch_and_price) instead of the dive on instances of at most
    # this many people, where nodes are cheap and the tree small enough to pay. Measured at 60 s (2
    # threads): Instance1-4 and 6 proved optimal by the tree in 0.4-13.6 s; Instance5 1143/1143/1144
    # (seeds 0-2) against dives of 1146-1152, Instance7 1062/1058/1056 against dives of 1062-1071. With
    # more people the dive does better: Instance9 (36 people) 549 against 439, Instance8 (30) and
    # Instance12 (60) reached 1907 and 9797 in 60 s without the dive.
    branch_and_price_max_people: int = 20
    # Which kinds pay differs by instance, so each LNS thread chooses among these by their recent gain
    # (_KindChooser). Measured at 60 s (2 workers, idle machine) against targeted alone: Instance16
    # 4046 -> 3435, Instance13 3854 -> 3642 (together with complete hints). Earlier, with incomplete
    # hints, targeted alone had beaten people+window+targeted on Instance8 and Instance12.
    # Adding "days" (everyone over a day or a few, around a costly item), measured at 120 s (2 workers,
    # idle machine, one run each): Instance13 2979 -> 2497, Instance15 4951 -> 4626, Instance19 3840
    # -> 3492, Instance20 5770 -> 5702.
    # Adding "cross" (everyone on one day plus whole rows of people with unused minutes), at 120 s, seeds
    # 0-2: Instance13 2370/2279/1990 -> 1976/2207/2054, where the staff's maximum minutes fall short of
    # the cover; Instance15 (seeds 0-1) 4529/4422 -> 4632/4544, whose shortfalls come from per-type limits.
    # Adding "swap" (a shortfall and an excess of the same type on a nearby day), at 120 s: Instance15
    # seeds 0/1/0 4516/4437/4507 against 4626/4632/4544 without it; Instance13 2017 (1976-2207 without).
    neighbourhoods: tuple[str, ...] = ("targeted", "people_targeted", "people", "days", "cross", "swap")
    # After the dive, one thread searches neighbourhoods of this share of the people by branch and
    # price (_column_lns_worker), each within this many seconds, instead of the full model.
    use_column_lns: bool = True
    column_lns_share: float = 0.66
    column_lns_limit: float = 12.0
    # From this share of the time limit on, that thread searches the whole instance instead (over a
    # pool of rows first, see pool_tree_rows; then _whole_tree_search), where the root relaxation took at most
    # whole_tree_max_root_share of the time limit (the nodes are then cheap). Measured on Instance8 at
    # 60 s (root 1.3 s; one run each): 1300 in seven of fourteen runs (1303-1304 in the others: column
    # LNS had reached 1303 before the switch and the tree aimed at 1299-1300 in vain), against
    # 1301-1303 in four runs with column LNS to the end.
    whole_tree_from: float = 0.5
    whole_tree_max_root_share: float = 0.1
    # Where the root was quick (_root_was_quick) and there are two workers or more, the dive and
    # column LNS do not run: two trees over pools of the root's rows (_pool_tree_search) start at the
    # root, one on each core, one aiming halfway between the bound and the best roster, the other at
    # most one below the best roster where that is higher; no full model, and compact-model LNS only
    # on workers beyond two. Measured on Instance8 at 60 s (AMD EPYC, one run per seed): 1300 in 27
    # of 28 runs (seeds 200-227; 1301 in the other), median time to it 25.0 s; before, with one tree
    # beside the dive from the root and a second in place of column LNS from 30 s: 11 of 12 (seeds
    # 200-211; 1301), median 23.5 s, and 90 of 104 over seeds 31-134 (1301-1303 in the others). Over
    # seeds 200-211 each way, a miss counted as 60 s: mean 23.2 s against 24.7 s. Instance9, 10 and
    # 11 reached their best known values too (seeds 0-1: 439, 4631; seed 0: 3443). It is simpler: no
    # dive, no column LNS on these instances.
    trees_at_root: bool = True
    whole_tree_gain: int = 2
    # The whole-instance trees' master LP is shrunk to half this many columns whenever it holds more
    # (HighsMaster.shrink), and their branching cells are chosen with this much noise
    # (ColumnGeneration._fractional_cell). Measured on Instance8 at 60 s (AMD EPYC, one run per
    # seed, seeds 1-20): 1300 in 8 of 20 runs, against 9 of 28 before (seeds 0-19 and 1-8); no
    # clear gain at that count, but 1.5-1.8 times the nodes per second.
    whole_tree_master_columns: int | None = 2000
    whole_tree_branch_noise: float = 0.05
    # Each whole-instance tree first searches a pool of rows, pricing no new row (_pool_tree_search):
    # every row within a margin of its person's least reduced cost at the root, the margin the
    # largest of POOL_MARGINS that keeps the pool within this many rows (0: the pricing tree at
    # once). Measured on Instance8 (Intel Xeon): one tree from a stored dive, aiming at 1300, found
    # it within 30 s in 7 of 11 runs over the pool of margin 0.7 (5,525 rows), against 7 of 24 runs
    # within 40 s for the pricing tree. Whole 60 s runs, seeds 1-10, one run each: 1300 in 7 of 10
    # with both trees over pools, 5 of 10 with the first only (3 of 10, seeds 11-20, with neither).
    # With the pool tree's master shrunk (1,000-1,160 nodes in 30 s against 610-620), seeds 11-20:
    # 1300 in 7 of 10, against 5 of 10 (same seeds) with its master whole; seeds 1-10: 8 of 10 (the
    # other runs at 1301). The pool's size matters both ways: one tree alone over Instance8's pool from
    # a root of its first roster, aiming at 1300 with the best at 1301 (seeds 1-6, 25 s each), found
    # 1300 in 0 of 6 runs with margin 0.5 (2,700-3,300 rows), 5 of 6 with 0.7 (5,100-7,000) and 1 of
    # 6 with 1.0 (10,700-12,600).
    pool_tree_rows: int = 8000
    # Each pool tree's first search (the one with an aspiration) starts over after this many seconds,
    # then after 1.5 times as long each time (0: never): the same master and pool, the plunges from
    # the root again with new random ties. Why: from a dive of 1305 a run found nothing below 1304 in
    # 45 s, and such runs ended at 1301-1304. Measured on Instance8 at 60 s (AMD EPYC, one run per
    # seed): seeds 11-20, 1300 in 7 of 10 (1301, 1301, 1302 in the others), against 4 of 10
    # (1301-1304) without restarts; seeds 1-10, 9 of 10 (1302) against 8 of 10 (1301, 1302). With
    # restarts, seeds 21-30 gave 5 of 10 (1301-1303): the tail is shorter, not gone. Each start that
    # found nothing cheaper also raises the next one's aspiration by one (_pool_aspiration): seeds
    # 1-30, 1300 in 26 of 30 runs (1301, 1302, 1303, 1305 in the others), against 21 of 30; seeds
    # 31-40, 7 of 10 (1301 in the others). Restarts after 4 s instead (seeds 11-30): 16 of 20, as at 8 s.
    pool_tree_restart_s: float = 8.0
    # There the dive ends by this share of the time limit (people it has not fixed by then are solved
    # on the compact model). Why: on Instance8 a dive that started over three times ended at 46 s,
    # leaving the trees 14 s (1308).
    quick_root_dive_fraction: float = 0.3
    lns_parameters: dict = field(default_factory=lambda: dict(STRONG_LP))


@dataclass
class SearchOutcome:
    roster: Roster | None
    objective: int | None
    bound: float | None
    status: str
    wall_s: float
    first_feasible_s: float | None
    history: list[tuple[float, int, str]] = field(default_factory=list)  # (seconds, objective, source)
    stats: dict = field(default_factory=dict)


def count_shift_vars(instance: Instance) -> int:
    return sum(len(instance.allowed_shifts(person, day)) for person in instance.staff for day in range(instance.horizon))


def pricing_state_days(instance: Instance) -> int:
    """The states of every person's pricing program (RowDP, before any per-type limit is added to it),
    times the days: how much one pricing round costs."""
    return instance.horizon * sum(RowDP(instance, p, set()).states for p in range(len(instance.staff)))


class _Clock:
    def __init__(self, limit: float):
        self.start = time.monotonic()
        self.limit = limit

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return self.limit - self.elapsed()


class _Incumbent:
    """Best roster so far, shared by the search threads."""

    def __init__(self, clock: _Clock, log_progress: bool, log=print):
        self.lock = threading.Lock()
        self.roster: Roster | None = None
        self.objective: int | None = None
        self.first_feasible_s: float | None = None
        self.history: list[tuple[float, int, str]] = []
        self.stop = threading.Event()
        self.lower_bound: int | None = None  # proved by column generation (set_lower_bound)
        self.clock = clock
        self.log_progress = log_progress
        self.log = log

    def snapshot(self) -> tuple[Roster | None, int | None]:
        with self.lock:
            return self.roster, self.objective

    def offer(self, roster: Roster, objective: int, source: str) -> bool:
        with self.lock:
            if self.objective is not None and objective >= self.objective:
                return False
            self.roster, self.objective = roster, objective
            elapsed = self.clock.elapsed()
            if self.first_feasible_s is None:
                self.first_feasible_s = elapsed
            self.history.append((round(elapsed, 2), objective, source))
            if self.lower_bound is not None and objective <= self.lower_bound:
                self.stop.set()  # proved optimal
        if self.log_progress:
            self.log(f"{elapsed:7.1f}s {source} objective={objective}")
        return True

    def set_lower_bound(self, bound: int | None) -> None:
        """A proved lower bound: the search stops once the incumbent meets it (now, or when offered)."""
        with self.lock:
            if bound is not None and self.lower_bound is not None:
                bound = max(bound, self.lower_bound)  # two searches may each prove one
            self.lower_bound = bound
            if bound is not None and self.objective is not None and self.objective <= bound:
                self.stop.set()

    def offer_sideways(self, roster: Roster, objective: int, replaced: Roster) -> None:
        """Equal cost, different roster: moving sideways helps LNS leave plateaus."""
        with self.lock:
            if self.roster is replaced and objective == self.objective:
                self.roster = roster


# A quick first row: CP-SAT's presolve dominates a one-person model of a year (Instance24: 1.1 s of
# presolve, 0.2 s of search), and these steps cost most of it. Measured on 8 people of Instance24 (load
# 4-5): 2.2 s a row with linearization level 0, 0.7 s with these settings.
QUICK_ROW = {
    "linearization_level": 0,
    "cp_model_probing_level": 0,
    "find_big_linear_overlap": False,
    "symmetry_level": 0,
}
QUICK_ROW_LIMIT = 0.5


def _maximise_minutes(instance: Instance, sub: NrpModel) -> None:
    """Any feasible row, found by maximising the person's minutes: with the cover objective, or none,
    CP-SAT found no row for some people of Instance20 and Instance22 in 8-20 s; maximising minutes
    found one in 0.1-3 s (a row must reach its minimum total minutes, often a narrow band)."""
    minutes = instance.minutes_by_shift
    sub.model.clear_objective()
    sub.model.maximize(sum(minutes[t] * var for (_, _, t), var in sub.shift_vars.items()))


def few_kinds(instance: Instance, person) -> set[str]:
    """One shift type of each length the person may work: the one they may work most often, then the
    one forbidding the fewest followers. Any row over these types is a row of the whole problem, and
    the total-minutes band can still be met (it depends on lengths only)."""
    best: dict[int, tuple] = {}
    for shift in instance.shifts:
        allowed = person.max_shifts.get(shift.id, 0)
        if allowed > 0:
            key = (-allowed, len(shift.forbidden_next), shift.id)
            if shift.minutes not in best or key < best[shift.minutes]:
                best[shift.minutes] = key
    return {key[2] for key in best.values()}


# The ways _first_row tries, in order: (objective, one type per length only, CP-SAT settings, limit).
# Measured on the first 20 people of Instance24 (5 s limit each, stop at the first row): the cover
# objective over one type per length found 4 rows (4.0 s a person); maximised minutes over one type per
# length found all 20 in 0.07 s a person, where over all 32 types a row took 0.4-3 s. On Instance22 (one
# length, 232-234 days of 364) maximised minutes over one type found 2 of 5 rows in 5 s with these quick
# settings or the defaults, and 5 of 5 (1.1 s a person, at most 2.6 s) with the strong LP.
FIRST_ROW_STAGES = (
    ("cover", False, QUICK_ROW, QUICK_ROW_LIMIT),
    ("minutes", True, QUICK_ROW, QUICK_ROW_LIMIT),
    ("minutes", True, STRONG_LP, 4.0),
    ("minutes", False, QUICK_ROW, QUICK_ROW_LIMIT),
    ("minutes", False, STRONG_LP, None),
)


def _first_row(instance: Instance, cells: list[Cell], roster: Roster, clock: _Clock, seed: int, first_stage: int = 0):
    """A feasible row for one person, the cheapest way that works (:data:`FIRST_ROW_STAGES` from
    ``first_stage`` on; each stops at its first solution). Returns (result, the stage that found it)."""
    p = cells[0][0]
    for stage in range(first_stage, len(FIRST_ROW_STAGES)):
        objective, narrow, parameters, limit = FIRST_ROW_STAGES[stage]
        left = clock.remaining()
        if left <= 0:
            break
        kinds = {p: few_kinds(instance, instance.staff[p])} if narrow else None
        sub = build_model(instance, cells, roster, kinds=kinds)
        if objective == "minutes":
            _maximise_minutes(instance, sub)
        result = solve(
            instance, sub, roster, min(left, limit or left), workers=1, seed=seed, stop_after_first=True, parameters=parameters
        )
        if result.roster is not None:
            result.objective = roster_objective(instance, result.roster)
            return result, stage
    return None, len(FIRST_ROW_STAGES)


def construct(instance: Instance, clock: _Clock, options: SearchOptions) -> Roster | None:
    """Person-by-person roster: each person's best row given those already placed.

    The construction gets ``construct_fraction`` of the time limit, shared evenly between the people
    still to place (at most ``construct_person_limit`` each). Each person's row is optimised for the
    cover and requests within that share; where the share is too short for that, or the optimisation
    finds no row in it, the person gets the first feasible row :func:`_first_row` finds, improved
    with that row as a hint for what is left of the share, and once an optimisation has found nothing
    on its own so do all the people after them (where one row is that hard, the others usually are too).
    ``options.workers`` threads place people side by side (CP-SAT releases the GIL while it solves); a
    person is solved against the rows placed when their turn starts.
    """
    roster: Roster = {}
    people = len(instance.staff)
    budget = options.construct_fraction * clock.limit
    lock = threading.Lock()
    queue = list(range(people))
    failed = threading.Event()
    feasibility_only = threading.Event()
    first_stage = [0]  # the first stage of _first_row still worth trying

    def place(thread: int) -> None:
        while not failed.is_set():
            with lock:
                if not queue:
                    return
                p = queue.pop(0)
                left = len(queue) + 1
                current = dict(roster)
            if clock.remaining() <= 0:
                failed.set()
                return
            cells = [(p, d) for d in range(instance.horizon)]
            share = (budget - clock.elapsed()) * options.workers / left
            limit = min(options.construct_person_limit, share)
            seed = options.seed + thread
            result = None
            if limit >= MIN_OPTIMISED_ROW_S and not feasibility_only.is_set():
                sub = build_model(instance, cells, current)
                result = solve(instance, sub, current, limit, workers=1, seed=seed, parameters=STRONG_LP)
                if result.roster is None:
                    feasibility_only.set()
            if result is None or result.roster is None:
                # Where a stage found nothing for one person it is skipped for the people after them
                # (they are usually alike): on Instance24 a failing stage cost 0.5 s a person.
                row_started = time.monotonic()
                result, stage = _first_row(instance, cells, current, clock, seed, first_stage=first_stage[0])
                with lock:
                    first_stage[0] = max(first_stage[0], stage)
                # What is left of the person's share goes to improving that row, hinted with it: the
                # optimisation that found nothing on its own now starts from a row.
                left_of_share = min(limit, clock.remaining()) - (time.monotonic() - row_started)
                if result is not None and left_of_share >= MIN_OPTIMISED_ROW_S:
                    sub = build_model(instance, cells, current)
                    better = solve(
                        instance, sub, current, left_of_share, workers=1, seed=seed, hint=result.roster, parameters=STRONG_LP
                    )
                    if better.roster is not None and better.objective < result.objective:
                        result = better
            if result is None:
                failed.set()
                return
            person = instance.staff[p].id
            with lock:
                roster.update({key: shift for key, shift in result.roster.items() if key[0] == person})

    threads = [threading.Thread(target=place, args=(index,)) for index in range(max(1, options.workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return None if failed.is_set() else roster


class _Neighbourhoods:
    """Chooses the cells to free in one LNS step.

    * ``people``: a few people over the whole horizon (moves that keep each row's totals valid).
    * ``window``: more people over a window of one to four weeks.
    * ``targeted``: a window around one costly item of the incumbent (a cover shortfall or excess,
      or a request not granted), with people who could change it plus a few at random.
    * ``people_targeted``: the people of ``targeted`` over the whole horizon. Where everyone's total
      minutes allow little change (Instance16: exactly 35 shifts each), a shortfall is filled by
      moving a worked day from another week, which no window of a few weeks can do.
    * ``days``: everyone over a day or a few consecutive days around a costly item. Cover is counted
      per day and shift type, so swapping types between people on the same day, which a handful of
      people rarely can, fills shortfalls where the others are over-covered or free.
    * ``cross``: everyone on the day of a costly item, plus whole rows of a few people drawn from
      those with the most unused minutes. Where the staff's maximum minutes barely reach the cover
      (Instance13), a shortfall is filled only by someone with minutes to spare, whose row must change
      elsewhere too to keep its runs and rest.
    * ``swap``: a shortfall and an excess of the same shift type on a nearby day, with people who
      work the excess and people free on the shortfall's day who may work it, over a few days around
      both. Instance15's extra shortfalls sat on days where the same type was over-covered a few days
      away; moving one worked shift between the two days changes the runs around both.
    ``size`` is the number of cells to aim for; each kind keeps its own size, adapted by the worker.
    """

    def __init__(self, instance: Instance, kinds: tuple[str, ...]):
        self.instance = instance
        self.kinds = kinds
        self.people = len(instance.staff)
        self.horizon = instance.horizon
        index = {person.id: p for p, person in enumerate(instance.staff)}
        self.person_index = index
        self.minutes = instance.minutes_by_shift
        # who may work shift t on day d
        self.able: dict[tuple[int, str], list[int]] = {}
        for p, person in enumerate(instance.staff):
            for d in range(instance.horizon):
                for t in instance.allowed_shifts(person, d):
                    self.able.setdefault((d, t), []).append(p)

    def _window(self, rng: random.Random, centre: int | None = None, width: int | None = None) -> tuple[int, int]:
        """(start, width) of a window of ``width`` days (default: one to four weeks), holding ``centre``."""
        width = min(width or rng.choice((7, 14, 21, 28)), self.horizon)
        if centre is None:
            start = rng.randrange(0, self.horizon - width + 1)
        else:
            start = min(max(0, centre - rng.randrange(width)), self.horizon - width)
        return start, width

    def _costly_item(self, rng: random.Random, roster: Roster) -> tuple[int, list[int]] | None:
        """(day, people directly involved) of one cost item drawn in proportion to its cost."""
        instance = self.instance
        counts = cover_counts(roster)
        items: list[tuple[int, int, str, str | None]] = []  # (cost, day, shift, person or None)
        for cover in instance.cover:
            have = counts.get((cover.day, cover.shift), 0)
            cost = cover.weight_under * max(0, cover.requirement - have) + cover.weight_over * max(0, have - cover.requirement)
            if cost:
                items.append((cost, cover.day, cover.shift, None))
        for request in instance.on_requests:
            if roster.get((request.employee, request.day)) != request.shift:
                items.append((request.weight, request.day, request.shift, request.employee))
        for request in instance.off_requests:
            if roster.get((request.employee, request.day)) == request.shift:
                items.append((request.weight, request.day, request.shift, request.employee))
        if not items:
            return None
        cost, day, shift, employee = rng.choices(items, weights=[item[0] for item in items])[0]
        if employee is not None:
            return day, [self.person_index[employee]]
        return day, list(self.able.get((day, shift), []))

    def _swap(self, rng: random.Random, roster: Roster, size: int) -> list[Cell]:
        """A shortfall and an excess of the same shift type on another day (the nearest of a few),
        with the people working the excess, the people free on the shortfall's day who may work it,
        and a few more, over a few days around each of the two days."""
        instance = self.instance
        counts = cover_counts(roster)
        shortfalls, excesses = [], {}
        for cover in instance.cover:
            have = counts.get((cover.day, cover.shift), 0)
            if have < cover.requirement and cover.weight_under:
                shortfalls.append(((cover.requirement - have) * cover.weight_under, cover.day, cover.shift))
            elif have > cover.requirement:
                excesses.setdefault(cover.shift, []).append(cover.day)
        candidates = [item for item in shortfalls if item[2] in excesses]
        if not candidates:
            return self.choose(rng, roster, "days", size)
        _, day, shift = rng.choices(candidates, weights=[item[0] for item in candidates])[0]
        nearest = sorted(excesses[shift], key=lambda other: (abs(other - day), rng.random()))
        other_day = rng.choice(nearest[:3])
        # Five days around each of the two, widened once the size allows everyone over them.
        half = max(2, round(size / self.people / 4))
        days = {d for centre in (day, other_day) for d in range(max(0, centre - half), min(self.horizon, centre + half + 1))}
        working_excess = [
            self.person_index[employee] for (employee, d), worked in roster.items() if d == other_day and worked == shift
        ]
        busy_on_day = {self.person_index[employee] for (employee, d) in roster if d == day}
        free_and_able = [p for p in self.able.get((day, shift), []) if p not in busy_on_day]
        count = max(2, min(self.people, round(size / len(days))))
        chosen = set(rng.sample(working_excess, min(len(working_excess), max(1, count // 3))))
        chosen.update(rng.sample(free_and_able, min(len(free_and_able), max(1, count // 3))))
        others = [p for p in range(self.people) if p not in chosen]
        chosen.update(rng.sample(others, min(len(others), max(0, count - len(chosen)))))
        return [(p, d) for p in sorted(chosen) for d in sorted(days)]

    def choose(self, rng: random.Random, roster: Roster, kind: str, size: int) -> list[Cell]:
        if kind == "people" or (kind == "window" and self.horizon <= 14):
            count = max(2, min(self.people, round(size / self.horizon)))
            chosen = rng.sample(range(self.people), count)
            return [(p, d) for p in chosen for d in range(self.horizon)]
        if kind == "window":
            start, width = self._window(rng)
            count = max(2, min(self.people, round(size / width)))
            chosen = rng.sample(range(self.people), count)
            return [(p, d) for p in chosen for d in range(start, start + width)]
        if kind == "swap":
            return self._swap(rng, roster, size)
        item = self._costly_item(rng, roster)
        if item is None:
            return self.choose(rng, roster, "window", size)
        day, involved = item
        if kind == "cross":
            # Everyone on the item's day, plus whole rows of people drawn from those with the most
            # unused minutes: one of them re-plans their row to work that day while the others on
            # the day swap shift types to leave them one they may work.
            worked = [0] * self.people
            for (employee, _), shift in roster.items():
                worked[self.person_index[employee]] += self.minutes[shift]
            count = max(2, min(self.people, round(max(0, size - self.people) / self.horizon)))
            staff = self.instance.staff
            by_spare = sorted(range(self.people), key=lambda p: (worked[p] - staff[p].max_total_minutes, rng.random()))
            rows = rng.sample(by_spare[: 2 * count], count)
            cells = {(p, d) for p in rows for d in range(self.horizon)}
            cells.update((p, day) for p in range(self.people))
            return sorted(cells)
        if kind == "days":
            start, width = self._window(rng, centre=day, width=max(1, round(size / self.people)))
            return [(p, d) for p in range(self.people) for d in range(start, start + width)]
        if kind == "people_targeted":
            start, width = 0, self.horizon
        else:
            start, width = self._window(rng, centre=day)
        count = max(2, min(self.people, round(size / width)))
        chosen = set(rng.sample(involved, min(len(involved), max(1, count // 2))))
        others = [p for p in range(self.people) if p not in chosen]
        chosen.update(rng.sample(others, min(len(others), count - len(chosen))))
        return [(p, d) for p in chosen for d in range(start, start + width)]


class _KindChooser:
    """Chooses the kind of the next neighbourhood: mostly the kind whose recent steps gained the most
    objective per second, sometimes one at random. Which kind pays depends on the instance (measured
    over 30 s from the same roster: on Instance16 four people over the whole horizon reached 3352
    where targeted windows reached 3848-4040; on Instance13 targeted windows 4839 where five people
    over the whole horizon reached 6007), and on the stage of the search."""

    EXPLORE = 0.2  # share of steps that take a kind at random
    MEMORY = 0.8  # weight of the past in the running gain rate

    def __init__(self, kinds: tuple[str, ...], rng: random.Random):
        self.kinds = kinds
        self.rng = rng
        self.rate: dict[str, float] = {}  # kind -> running objective gain per second; untried kinds go first

    def pick(self) -> str:
        untried = [kind for kind in self.kinds if kind not in self.rate]
        if untried:
            return untried[0]
        if len(self.kinds) == 1 or self.rng.random() < self.EXPLORE:
            return self.rng.choice(self.kinds)
        return max(self.kinds, key=lambda kind: (self.rate[kind], self.rng.random()))

    def record(self, kind: str, gain: float, seconds: float) -> None:
        rate = gain / max(seconds, 0.01)
        self.rate[kind] = rate if kind not in self.rate else self.MEMORY * self.rate[kind] + (1 - self.MEMORY) * rate


def _lns_worker(
    instance: Instance, incumbent: _Incumbent, clock: _Clock, options: SearchOptions, index: int, counters: dict
) -> None:
    rng = random.Random(options.seed * 1000 + index)
    neighbourhoods = _Neighbourhoods(instance, options.neighbourhoods)
    max_cells = len(instance.staff) * instance.horizon
    sizes = {kind: float(options.initial_free_cells) for kind in options.neighbourhoods}
    chooser = _KindChooser(options.neighbourhoods, rng)
    while not incumbent.stop.is_set():
        limit = min(options.subsolve_limit, clock.remaining())
        if limit <= 0.05:
            break
        start_roster, start_objective = incumbent.snapshot()
        kind = chooser.pick()
        cells = neighbourhoods.choose(rng, start_roster, kind, int(sizes[kind]))
        step_started = time.monotonic()
        sub = build_model(instance, cells, start_roster)
        result = solve(
            instance, sub, start_roster, limit, workers=1, seed=rng.randrange(1 << 30), hint=start_roster, parameters=options.lns_parameters
        )
        gain = 0 if result.objective is None else max(0, start_objective - result.objective)
        chooser.record(kind, gain, time.monotonic() - step_started)
        if result.status == "OPTIMAL":
            sizes[kind] = min(max_cells, sizes[kind] * 1.1)
        else:
            sizes[kind] = max(20.0, sizes[kind] * 0.8)
        counters["lns_iterations"] = counters.get("lns_iterations", 0) + 1
        if result.roster is None:
            continue
        if incumbent.offer(result.roster, result.objective, f"lns[{index}] {kind} cells={len(cells)}"):
            counters["lns_improvements"] = counters.get("lns_improvements", 0) + 1
            counters[f"improved_by_{kind}"] = counters.get(f"improved_by_{kind}", 0) + 1
        else:
            incumbent.offer_sideways(result.roster, result.objective, start_roster)
    counters[f"lns_sizes_{index}"] = {kind: int(size) for kind, size in sizes.items()}


FULL_MODEL_SOURCE = "full model"
STOP_POLL_S = 0.1


class _FullModelCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, instance: Instance, nrp_model: NrpModel, incumbent: _Incumbent):
        super().__init__()
        self.instance = instance
        self.nrp_model = nrp_model
        self.incumbent = incumbent

    def on_solution_callback(self) -> None:
        objective = int(self.value(self.nrp_model.objective))
        _, best = self.incumbent.snapshot()
        if best is not None and objective >= best:
            return
        roster = {
            (self.instance.staff[p].id, d): t for (p, d, t), var in self.nrp_model.shift_vars.items() if self.boolean_value(var)
        }
        self.incumbent.offer(roster, objective, FULL_MODEL_SOURCE)


def _full_model_worker(
    instance: Instance, incumbent: _Incumbent, clock: _Clock, options: SearchOptions, outcome: dict, counters: dict
) -> None:
    """Full model on one thread, for solutions and the bound. After each ``full_model_probation`` of
    the time limit, the thread stops it (keeping the bound it proved) and runs LNS instead if its bound
    is below ``full_model_min_bound_ratio`` of the incumbent and it found none of the incumbent's
    improvements in that period. Measured at 60 s: two LNS threads reached 3443 on Instance11 (3448
    with the full model, whose bound stayed near 0); on Instance5, where the full model found six of
    the improvements, 1242 against 1144; stopping every full model that found nothing for 12 s lost
    the optimality proofs of Instance4 and Instance6 (2041 instead of 1950 on Instance6), and stopping
    those with a bound below 90% of the incumbent cost Instance5 again (1236, bound 934;
    both measured before branch and price took over instances of up to 20 people)."""
    nrp_model = build_model(instance)
    hint, _ = incumbent.snapshot()
    if hint is not None:
        add_hint(instance, nrp_model, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, clock.remaining())
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = options.seed
    solver.parameters.linearization_level = 2
    latest_bound: dict = {}
    solver.best_bound_callback = lambda bound: latest_bound.__setitem__("bound", bound)
    finished = threading.Event()

    def probation() -> None:
        period = max(0.1, options.full_model_probation * clock.limit)  # a floor: no busy loop at 0
        next_check = options.full_model_probation * clock.limit
        found_before = 0
        # Wakes at least every STOP_POLL_S: an LNS roster that meets column generation's bound
        # ends the search, and this solver with it.
        while not finished.wait(max(0.0, min(STOP_POLL_S, next_check - clock.elapsed()))):
            if incumbent.stop.is_set():
                solver.stop_search()
                return
            if clock.elapsed() < next_check:
                continue
            next_check += period
            with incumbent.lock:
                found = sum(1 for _, _, source in incumbent.history if source == FULL_MODEL_SOURCE)
            _, best = incumbent.snapshot()
            bound = latest_bound.get("bound")
            if best is None:
                continue
            weak_bound = bound is None or bound < options.full_model_min_bound_ratio * best
            if weak_bound and found == found_before:
                outcome["abandoned_at_s"] = round(clock.elapsed(), 1)
                solver.stop_search()
                return
            found_before = found

    watchdog = threading.Thread(target=probation, daemon=True)
    watchdog.start()
    status = solver.solve(nrp_model.model, _FullModelCallback(instance, nrp_model, incumbent))
    finished.set()
    outcome["status"] = solver.status_name(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        # With no solution of its own (UNKNOWN) the solver still proved this lower bound.
        if math.isfinite(solver.best_objective_bound):
            outcome["bound"] = solver.best_objective_bound
    if status == cp_model.OPTIMAL and "abandoned_at_s" not in outcome:
        incumbent.stop.set()  # nothing left to find
    elif "abandoned_at_s" in outcome and options.use_lns and incumbent.roster is not None:
        _lns_worker(instance, incumbent, clock, options, options.workers, counters)


COLGEN_SOURCE = "column generation"
BRANCH_AND_PRICE_SOURCE = "branch and price"


def _column_generation_phase(
    instance: Instance,
    incumbent: _Incumbent,
    clock: _Clock,
    options: SearchOptions,
    stats: dict,
    rows_out: list,
    on_quick_root=None,
) -> int | None:
    """Root relaxation, then branch and price on small instances (each roster it finds goes to the
    incumbent; a tree searched to the end makes the best one the bound), else the dive: the people
    the dive had not fixed by its deadline are solved together on the compact model (rows of the
    fixed people as they are), hinted with the rows the LP favours for them, and the roster offered
    to the incumbent. Where the root was quick (_root_was_quick) and ``on_quick_root`` is given, it
    is given the root's rows, per person, and no dive follows. Returns the lower bound proved."""
    tree = len(instance.staff) <= options.branch_and_price_max_people
    # The master LP's backend: HiGHS for the tree, GLOP for the dive (scheduler/nrp/master.py says why).
    colgen = ColumnGeneration(instance, threads=options.workers, seed=options.seed, master="highs" if tree else "glop")
    try:
        colgen.add_roster(incumbent.roster)
        converged = colgen.converge(clock.start + options.colgen_root_fraction * clock.limit)
        stats["colgen_root"] = "converged" if converged else "stopped"
        stats["colgen_root_s"] = round(clock.elapsed(), 2)
        stats["colgen_root_lp"] = round(colgen.lp_value, 2)
        bound = lower_bound(colgen.bound)
        stats["colgen_bound"] = bound
        incumbent.set_lower_bound(bound)
        if not converged or incumbent.stop.is_set():
            return bound
        deadline = clock.start + options.colgen_fraction * clock.limit
        if not tree and _root_was_quick(stats, clock, options):
            if on_quick_root is not None:
                # The trees start from the root's rows (see solve_instance), in place of the dive.
                on_quick_root(colgen.known_rows())
                return bound
            # Column LNS turns to a whole-instance tree after the dive: leave it time.
            deadline = min(deadline, clock.start + options.quick_root_dive_fraction * clock.limit)
        if tree:
            offer = lambda roster, objective: incumbent.offer(roster, objective, BRANCH_AND_PRICE_SOURCE)
            exhausted = colgen.branch_and_price(deadline, lambda: incumbent.snapshot()[1], offer)
            stats["branch_and_price"] = "exhausted" if exhausted else "stopped"
            stats["branch_and_price_s"] = round(clock.elapsed(), 2)
            if exhausted:
                _, best = incumbent.snapshot()
                bound = best  # no roster cheaper than the best one found
                incumbent.set_lower_bound(bound)
            return bound
        roster = colgen.dive(deadline)
        stats["colgen_dive_attempts"] = colgen.dive_attempts
        rows_out[:] = colgen.known_rows()
        unfixed = [p for p in range(len(instance.staff)) if p not in colgen.fixed]
        stats["colgen_dive_unfixed"] = len(unfixed)
        stats["colgen_rounds"] = colgen.rounds
    finally:
        colgen.close()
    if unfixed:
        cells = [(p, d) for p in unfixed for d in range(instance.horizon)]
        sub = build_model(instance, cells, roster)
        limit = min(clock.remaining(), max(1.0, (1 - options.colgen_fraction) * clock.limit / 3))
        result = solve(
            instance, sub, roster, limit, workers=options.workers, seed=options.seed, hint=roster, parameters=STRONG_LP
        )
        if result.roster is not None:
            roster = result.roster
    objective = roster_objective(instance, roster)
    stats["colgen_objective"] = objective
    stats["colgen_s"] = round(clock.elapsed(), 2)
    incumbent.offer(roster, objective, COLGEN_SOURCE)
    return bound


def _root_was_quick(stats: dict, clock: _Clock, options: SearchOptions) -> bool:
    """Whether column generation's root took at most ``whole_tree_max_root_share`` of the time: the
    whole-instance trees then pay (their nodes are cheap), and the dive before them ends early."""
    return stats.get("colgen_root_s", math.inf) <= options.whole_tree_max_root_share * clock.limit


COLUMN_LNS_SOURCE = "column LNS"


def _column_lns_worker(
    instance: Instance,
    incumbent: _Incumbent,
    clock: _Clock,
    options: SearchOptions,
    known_rows: list,
    stats: dict,
    whole_tree: bool = False,
) -> None:
    """Large-neighbourhood search whose neighbourhoods are solved by branch and price: a random share
    of the people is freed (everyone else keeps the incumbent's rows), their own column generation
    starts from every row already known for them, and its tree searches for a cheaper roster of
    them. A neighbourhood searched to the end grows the next one; one cut off by its time shrinks it.

    Why: on Instance8 the dive's roster is beyond what compact-model LNS improves (1309 after 600 s),
    while a tree over 20 of its 30 people proved most such neighbourhoods optimal in 8-10 s and
    improved 1309 to 1306 in 40 s (10 people: each proved optimal, no gain). With ``whole_tree``, the
    thread turns to branch and price over the whole instance at ``whole_tree_from`` of the time
    (_pool_tree_search, then _whole_tree_search, aiming halfway). (With ``trees_at_root`` and two
    workers or more, instances whose root was quick do not dive, so this thread does not run there.)"""
    rng = random.Random(options.seed * 1000 + 999)
    people = len(instance.staff)
    size = min(people, max(2, int(options.column_lns_share * people)))
    while not incumbent.stop.is_set():
        if whole_tree and clock.elapsed() >= options.whole_tree_from * clock.limit:
            _pool_tree_search(instance, incumbent, clock, options, known_rows, stats)
            break
        limit = _column_lns_step_limit(clock, options, whole_tree)
        if limit <= 0.5:
            break
        roster, _ = incumbent.snapshot()
        chosen = sorted(rng.sample(range(people), size))
        sub = residual_instance(instance, roster, chosen)
        ids = {instance.staff[p].id for p in chosen}
        part = {cell: shift for cell, shift in roster.items() if cell[0] in ids}
        rest = {cell: shift for cell, shift in roster.items() if cell[0] not in ids}
        colgen = ColumnGeneration(sub, threads=1, seed=options.seed, master="highs")
        deadline = time.monotonic() + limit

        def offer(rows: Roster, _objective: int) -> None:
            whole = {**rest, **rows}
            incumbent.offer(whole, roster_objective(instance, whole), COLUMN_LNS_SOURCE)

        exhausted = False
        try:
            colgen.add_rows([known_rows[p] for p in chosen])
            colgen.add_roster(part)
            if colgen.converge(deadline):
                exhausted = colgen.branch_and_price(deadline, roster_objective(sub, part), offer)
        finally:
            colgen.close()
        stats["column_lns_steps"] = stats.get("column_lns_steps", 0) + 1
        stats["column_lns_proved"] = stats.get("column_lns_proved", 0) + int(exhausted)
        size = min(people, size + 1) if exhausted else max(2, size - 1)
    stats["column_lns_size"] = size


def _column_lns_step_limit(clock: _Clock, options: SearchOptions, whole_tree: bool) -> float:
    """Seconds for the next column-LNS neighbourhood: ``column_lns_limit`` at most, within the time
    left and, where the thread turns to the whole tree, ending at the switch (1 s at least).

    Why: the check comes between neighbourhoods, and on Instance8 a last one of up to 12 s started
    the second tree at 30.5-41.8 s (mean 37 s over ten 60 s runs) instead of 30 s."""
    limit = min(options.column_lns_limit, clock.remaining())
    if whole_tree:
        limit = min(limit, max(1.0, options.whole_tree_from * clock.limit - clock.elapsed()))
    return limit


WHOLE_TREE_SOURCE = "whole-instance branch and price"


def _tree_column_generation(instance: Instance, options: SearchOptions, gain: int | None) -> ColumnGeneration:
    """Column generation for a whole-instance tree: its master LP kept small, ties between branching
    cells broken at random, the two trees (``gain`` or not) each their own way."""
    colgen = ColumnGeneration(instance, threads=1, seed=2 * options.seed + (gain is None), master="highs")
    colgen.master_column_limit = options.whole_tree_master_columns
    colgen.branch_noise = options.whole_tree_branch_noise
    return colgen


def _converged_from(colgen: ColumnGeneration, rows: list, incumbent: _Incumbent, end: float) -> bool:
    """Start a whole-instance column generation from these rows and the best roster's; whether its
    LP converged by ``end``."""
    colgen.add_rows(rows)
    colgen.add_roster(incumbent.snapshot()[0])
    return colgen.converge(end)


def _aspiration(proved: int, top: int, best: int, gain: int | None) -> int:
    """Halfway (rounded up) between the proved bound and ``top``, or with ``gain``, at most that much
    below the best roster where that is higher: what a whole-instance tree aims at."""
    halfway = -(-(proved + top) // 2)
    return halfway if gain is None else max(halfway, best - gain)


def _whole_tree_search(
    instance: Instance,
    incumbent: _Incumbent,
    clock: _Clock,
    options: SearchOptions,
    known_rows: list,
    stats: dict,
    gain: int | None = None,
) -> None:
    """Branch and price over every person, from the rows the dive found and the incumbent's, for a
    roster of at most an aspiration halfway (rounded up) between the proved bound and the best
    roster, or with ``gain``, at most that much below the best roster where that is higher: nodes
    whose bound is above it are pruned. The aspiration follows the best roster as it improves (by
    this search or beside it). A search to the end proves the bound one above it, and the next one
    aims again. (Passes of a third of the time left each, the aspiration one nearer the best roster
    after a pass that found nothing: 1300 in one of four runs.)

    Why: on Instance8 the roster that costs 1300 (best known) differs from those of 1302-1304 in
    131-143 of 840 cells, over 24-25 people and every day, beyond any neighbourhood the LNS threads
    search. From stored dives (1303, 1309 and 1514 with their rows), the tree found 1300 after 7-26 s
    with aspirations of 1300-1301 in four of five runs; with the best roster as its only cutoff, once
    in three runs within 90 s. Its time to 1300 varies widely: from other stored dives (1302-1304)
    nothing within 30 s in three of four, and 179 s in a longer run; hence two trees aiming apart."""
    colgen = _tree_column_generation(instance, options, gain)
    offer = lambda roster, objective: incumbent.offer(roster, objective, WHOLE_TREE_SOURCE)
    end = clock.start + clock.limit
    passes = []
    try:
        if not _converged_from(colgen, known_rows, incumbent, end):
            return
        proved = lower_bound(colgen.bound)
        while proved is not None and not incumbent.stop.is_set() and clock.remaining() > 0:
            _, best = incumbent.snapshot()
            if best <= proved:
                break

            def aspiration(best: int, proved: int = proved) -> int:
                return _aspiration(proved, best - 1, best, gain)

            exhausted = colgen.branch_and_price(
                end, lambda: incumbent.snapshot()[1], offer, aspiration, stop=incumbent.stop
            )
            _, best = incumbent.snapshot()
            aimed = aspiration(best)
            passes.append((round(clock.elapsed(), 1), aimed, exhausted))
            if not exhausted:
                break
            proved = min(best, aimed + 1)  # no roster of at most the aspiration but those found
            incumbent.set_lower_bound(proved)
    finally:
        colgen.close()
        stats["whole_tree_passes" if gain is None else "whole_tree_passes_near_best"] = passes


def _pool_aspiration(proved: int, best: int, gain: int | None, raised: int) -> int:
    """What a pool tree aims at: _aspiration (with ``best`` as the top), ``raised`` higher, never
    above one below the best roster.

    Why raised: halfway between the bound and the best roster can lie below the optimum, where a
    tree finds nothing. On Instance8 (bound 1297) with the best at 1301, a tree over the pool aiming
    at 1299 found nothing within 25 s in 6 of 6 runs, and aiming at 1300 found the optimum in 5 of
    6 (seeds 1-6, one tree alone). So each search cut by its restart without a cheaper roster raises
    the next one's aspiration by one, and a cheaper roster takes it back to halfway."""
    return min(best - 1, _aspiration(proved, best, best, gain) + raised)


POOL_TREE_SOURCE = "branch and bound over near-optimal rows"
# Margins above each person's least reduced cost tried for the pool, smallest first.
POOL_MARGINS = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0)


def _pool_tree_search(
    instance: Instance,
    incumbent: _Incumbent,
    clock: _Clock,
    options: SearchOptions,
    known_rows: list,
    stats: dict,
    gain: int | None = None,
) -> None:
    """Branch and bound over a pool of rows, pricing no new row: each person's rows whose reduced cost
    at the root duals is within a margin of their least (ColumnGeneration.near_optimal_rows), the
    largest margin of POOL_MARGINS whose pool has at most ``pool_tree_rows`` rows, and the best
    roster's rows. Its master LP is shrunk as the branch-and-price trees' is, the pool's rows coming
    back by their reduced costs (ColumnGeneration._price_from_pool). It searches first for rosters
    of at most halfway (rounded up) between the root's bound and the best roster, or with ``gain``,
    at most that much below the best roster where that is higher; that search starts over after
    ``pool_tree_restart_s`` and longer each time, aiming one higher after each that found nothing
    cheaper (_pool_aspiration). Then, if the pool holds none, it searches for any roster cheaper
    than the best. A node's bound holds for the pool alone, so this search proves nothing. Where
    even the smallest margin gives too many rows, or once the pool holds nothing cheaper than the
    best roster, the pricing tree takes the rest of the time (_whole_tree_search, aiming at most
    ``whole_tree_gain`` below the best roster where this one had a gain).

    Why: a roster costs the root's Lagrangian bound plus each person's reduced cost above their
    least (and the cover slacks'). On Instance8 the roster of 1300 (bound 1296.57) has 20 people on
    rows of least reduced cost and 10 within 0.65 of it, while each person has thousands of rows
    within the whole gap (700,000 in all). The pool of margin 0.7 holds 5,525 rows, and a tree over
    it found 1300 within 30 s in 7 of 11 runs (stored dives, aiming at 1300), where the pricing tree
    found it within 40 s in 7 of 24 (whole 60 s runs: see pool_tree_rows). Branch and bound over
    root columns by MIP solvers did poorly (module docstring of colgen), and so did HiGHS over this
    pool (1508 after 60 s)."""
    end = clock.start + clock.limit
    stats["pool_tree_start_s" if gain is None else "pool_tree_near_best_start_s"] = round(clock.elapsed(), 1)
    pool = None
    root = ColumnGeneration(instance, threads=1, seed=options.seed, master="highs")
    try:
        if not _converged_from(root, known_rows, incumbent, end):
            return
        proved = lower_bound(root.bound)
        chosen = root.near_optimal_pool(POOL_MARGINS, options.pool_tree_rows) if options.pool_tree_rows > 0 else None
        if chosen is not None:
            stats["pool_tree_margin"], pool = chosen
    finally:
        root.close()
    if pool is not None:
        stats["pool_tree_rows"] = sum(map(len, pool))
        tree = _tree_column_generation(instance, options, gain)
        tree.prices_rows = False
        offer = lambda roster, objective: incumbent.offer(roster, objective, POOL_TREE_SOURCE)
        try:
            _converged_from(tree, pool, incumbent, end)  # if not by the end, the search below stops at once
            best = lambda: incumbent.snapshot()[1]
            raised = 0  # searches in a row (each cut by its restart) that ended with no cheaper roster
            aim = math.inf if proved is None else lambda best: _pool_aspiration(proved, best, gain, raised)
            restart, restarts, most_raised = options.pool_tree_restart_s, 0, 0
            while True:
                cut = end if restart <= 0 else min(end, time.monotonic() + restart)
                before = best()
                exhausted = tree.branch_and_price(cut, best, offer, aim, stop=incumbent.stop)
                if exhausted or cut >= end or incumbent.stop.is_set():
                    break
                restart, restarts = 1.5 * restart, restarts + 1
                raised = 0 if best() < before else raised + 1
                most_raised = max(most_raised, raised)
            suffix = "" if gain is None else "_near_best"
            stats[f"pool_tree{suffix}_restarts"] = restarts
            stats[f"pool_tree{suffix}_most_raised"] = most_raised
            if exhausted:
                exhausted = tree.branch_and_price(end, best, offer, stop=incumbent.stop)
        finally:
            tree.close()
        stats["pool_tree_end_s" if gain is None else "pool_tree_near_best_end_s"] = round(clock.elapsed(), 1)
        if not exhausted:
            return
    _whole_tree_search(instance, incumbent, clock, options, known_rows, stats, None if gain is None else options.whole_tree_gain)


def solve_instance(instance: Instance, options: SearchOptions, log=print) -> SearchOutcome:
    clock = _Clock(options.time_limit)
    incumbent = _Incumbent(clock, options.log, log)
    stats: dict = {"shift_vars": count_shift_vars(instance)}

    if options.use_construction:
        roster = construct(instance, clock, options)
        if roster is not None:
            objective = int(build_model(instance, [], roster).objective)  # all cells fixed: a constant
            incumbent.offer(roster, objective, "construction")
            stats["construct_s"] = round(clock.elapsed(), 2)
            stats["construct_objective"] = objective

    colgen_bound = None
    use_colgen = (
        options.use_column_generation
        and stats["shift_vars"] <= max(options.colgen_max_vars, options.colgen_vars_per_second * options.time_limit)
        and (
            instance.horizon <= max(options.colgen_max_horizon, options.colgen_days_per_second * options.time_limit)
            or pricing_state_days(instance) <= options.colgen_state_days_per_second * options.time_limit
        )
    )
    threads: list[threading.Thread] = []

    def launch(target, *args) -> None:
        thread = threading.Thread(target=target, args=args)
        thread.start()
        threads.append(thread)

    if (
        use_colgen
        and incumbent.roster is not None
        and options.use_lns
        and options.workers >= 2
        and len(instance.staff) <= options.branch_and_price_max_people
    ):
        # Branch and price runs on one thread (its pricing is numpy, which holds the GIL): one LNS
        # thread works beside it on the other core, and the tree prunes by the best roster either finds.
        launch(_lns_worker, instance, incumbent, clock, options, 0, stats)
    lns_running = len(threads)
    dive_rows: list = []  # every row column generation found, per person, when it dived
    trees_started = False  # whether the two pool trees started at the root, in place of the dive

    def start_trees(root_rows: list) -> None:
        nonlocal trees_started
        trees_started = True
        launch(_pool_tree_search, instance, incumbent, clock, options, root_rows, stats)
        launch(_pool_tree_search, instance, incumbent, clock, options, root_rows, stats, 1)

    trees_may_start = options.trees_at_root and options.workers >= 2
    if use_colgen and incumbent.roster is not None:
        colgen_bound = _column_generation_phase(
            instance, incumbent, clock, options, stats, dive_rows, start_trees if trees_may_start else None
        )

    column_lns = options.use_column_lns and bool(dive_rows) and options.workers >= 2 and not incumbent.stop.is_set()
    whole_tree = column_lns and _root_was_quick(stats, clock, options)
    if column_lns:
        launch(_column_lns_worker, instance, incumbent, clock, options, dive_rows, stats, whole_tree)
    use_full = (
        options.use_full_model
        and not column_lns
        and not trees_started
        and stats["shift_vars"] <= options.full_model_max_vars
        and not incumbent.stop.is_set()
    )
    lns_threads = max(1, options.workers - 1) if use_full or column_lns else max(1, options.workers)
    full_outcome: dict = {}
    if use_full:
        launch(_full_model_worker, instance, incumbent, clock, options, full_outcome, stats)
    if options.use_lns and incumbent.roster is not None and not incumbent.stop.is_set():
        for index in range(lns_running, lns_threads - 2 * int(trees_started)):
            launch(_lns_worker, instance, incumbent, clock, options, index, stats)
    for thread in threads:
        thread.join()

    bounds = [value for value in (full_outcome.get("bound"), colgen_bound) if value is not None]
    bound = max(bounds) if bounds else None
    stats["full_model"] = full_outcome.get("status", "not run")
    if "abandoned_at_s" in full_outcome:
        stats["full_model"] += f" (stopped at {full_outcome['abandoned_at_s']} s for LNS)"
    roster, objective = incumbent.snapshot()
    if roster is None:
        status = "UNKNOWN"
    elif bound is not None and bound >= objective - 1e-6:
        status = "OPTIMAL"
    else:
        status = "FEASIBLE"
    return SearchOutcome(
        roster=roster,
        objective=objective,
        bound=bound,
        status=status,
        wall_s=clock.elapsed(),
        first_feasible_s=incumbent.first_feasible_s,
        history=incumbent.history,
        stats=stats,
    )
