"""Column generation for Curtois-Qu instances: a linear relaxation over whole rows, and a dive that
turns it into a roster.

Every hard rule of the benchmark is about one person, so a person's whole row is a natural column.
The master LP (scheduler/nrp/master.py) gives each person a convex combination of their known rows
and pays cover shortfall and excess; its cover duals price each person's row exactly: by dynamic
programming over the days (scheduler/nrp/rowdp.py) where the person's rule state is small (its
per-type limits kept only once a cheapest row has broken them), else by a
one-person CP-SAT model (all of the person's hard rules; objective: the row's requests minus the
cover duals of the shifts it works). Either proposes rows of negative reduced cost. Each pricing
round also gives a Lagrangian lower bound on the whole problem, and once no row prices out the LP
value is one.

Why: this relaxation is far tighter than the compact model's. Measured at the root (2 threads):
Instance8 1296.6 in ~16 s (best known 1300; the compact model's bound after 60 s was 1264-1276),
Instance10 4631.0 in 6-9 s (best known 4631), Instance12 4040.0 in 21-40 s (best known 4040),
Instance13 1348.0 in 199 s (best known 1348; the compact model's LNS reached 1721 in 600 s).

The dive fixes people to rows the LP favours and re-solves after each step (pricing only when the
master over the rows known so far has risen), until the LP is integral: a roster near the relaxation.
Solving the master as an integer program over the generated rows instead did poorly: on Instance8's
root columns SCIP reached 1905 and CP-SAT 1910 in 30 s, against a dive result of 1304-1307 (and HiGHS
1508 in 60 s over the pool below). The rows a roster near the bound can use are listed by
near_optimal_rows: those whose reduced cost is within a margin of their person's least; this module's
tree searches such a pool, pricing no new row (``prices_rows`` False), far better than those solvers did.

On small instances branch and price (branch_and_price) searches instead of the dive: one branch is a
person's shift type on one day, the other its absence; pricing honours the decisions as assumptions.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from scheduler.nrp.instance import Instance, Roster
from scheduler.nrp.model import add_person_rules, roster_objective
from scheduler.nrp.master import GlopMaster, HighsMaster
from scheduler.nrp.rowdp import MAX_STATES, RowDP

# Duals are fractional; CP-SAT wants integer coefficients.
DUAL_SCALE = 1000
# Stop pricing once the Lagrangian bound is this close to the LP value: the objective is an integer,
# and on Instance8 the last ~10 s of the root (of ~26 s) moved the LP by less than 0.1.
GAP_TOLERANCE = 0.5
# A dive step whose LP rises by more than this was too greedy: it is undone but for its heaviest row.
# Measured on Instance8 (60 s for root and dive): with 0.5, 1302 at 40 s; with 2, 1406; with 5, 1413
# (a looser pricing tolerance of 2 within the dive: 1306).
DIVE_RISE_TOLERANCE = 0.5
# Measured on Instance8 (root and dive from a construction, 60 s): with backtracking at a rise of 10,
# dives ended at 1304-1309 in three runs; at 3, the dive had not ended by 60 s.
DIVE_BACKTRACK_RISE = 10.0
# A dive that has backtracked this often starts over (everyone unfixed, nothing ruled out, the rows
# found kept), its choice of whom to fix next perturbed by up to DIVE_RESTART_NOISE of LP weight;
# after DIVE_RESTARTS restarts the last dive runs to the end. Measured on Instance8 (five dives from
# three constructions): dives of 1-2 backtracks ended at 1307-1312; one that backtracked 30 times
# climbed from an LP of 1304 to 1512, and with restarts ended at 1306-1315 (the second attempt).
DIVE_RESTART_BACKTRACKS = 4
DIVE_RESTARTS = 3
DIVE_RESTART_NOISE = 0.2
INTEGRAL = 0.999
PRICING_LIMIT_S = 1.0
# CP-SAT's presolve in pricing pays off only with many shift types. Measured per pricing call (a few
# rounds into the root, one thread): Instance13 (18 types) 50 ms with presolve against 180 ms
# without; Instance12 (10 types) 8 ms either way; Instance8 (4 types) 21 ms against 16 ms. The root
# of Instance12 took 28-33 s with presolve against 24.9 s without (2 threads).
PRESOLVE_MIN_SHIFT_TYPES = 11
FULL_ROUND_EVERY = 5
# Rows a dynamic-programming pricing call offers: the cheapest ones ending in different states.
DP_ROWS = 3
# Rows of negative reduced cost a pricing call over the pool brings back, at most.
POOL_ROWS = 5


MASTERS = {"highs": HighsMaster, "glop": GlopMaster}


@dataclass
class Column:
    row: dict[int, str]  # day -> shift type worked
    cost: int  # the row's request penalties


class _PricingModel:
    """One person's row with every hard rule; the objective is set anew for each round of duals."""

    def __init__(self, instance: Instance, p: int):
        self.model = cp_model.CpModel()
        person = instance.staff[p]
        self.shift_vars: dict[tuple[int, str], cp_model.IntVar] = {}
        shifts_by_day = []
        for d in range(instance.horizon):
            cell = {}
            for t in instance.allowed_shifts(person, d):
                var = self.model.new_bool_var(f"x_{d}_{t}")
                self.shift_vars[(d, t)] = var
                cell[t] = var
            shifts_by_day.append(cell)
        add_person_rules(instance, self.model, person, shifts_by_day)
        # Requests as a linear function of the shift variables: a constant (every "on" request
        # missed) plus a weight per variable.
        self.constant = 0
        self.request_weight: dict[tuple[int, str], int] = {}
        for request in instance.on_requests:
            if request.employee == person.id:
                self.constant += request.weight
                if (request.day, request.shift) in self.shift_vars:
                    key = (request.day, request.shift)
                    self.request_weight[key] = self.request_weight.get(key, 0) - request.weight
        for request in instance.off_requests:
            if request.employee == person.id and (request.day, request.shift) in self.shift_vars:
                key = (request.day, request.shift)
                self.request_weight[key] = self.request_weight.get(key, 0) + request.weight
        # Pricing by dynamic programming where the person's state space is small enough. The program
        # starts with no per-type limit and keeps those its cheapest rows have broken (track_limits):
        # its least cost is exact whenever its cheapest row keeps every limit.
        self.instance, self.p = instance, p
        self.tracked: set[str] = set()
        self.dp: RowDP | None = None
        self.track_limits(set())

    def track_limits(self, shift_types: set[str]) -> None:
        """The program from now on keeps these limits too; CP-SAT prices the person once it would have
        more than MAX_STATES states a day."""
        self.tracked |= shift_types
        dp = RowDP(self.instance, self.p, self.tracked)
        self.dp = dp if dp.states <= MAX_STATES else None


class ColumnGeneration:
    def __init__(self, instance: Instance, threads: int = 2, seed: int = 0, master: str = "highs"):
        self.instance = instance
        self.people = len(instance.staff)
        self.cover = {(cover.day, cover.shift): cover for cover in instance.cover}
        self.pricing = [_PricingModel(instance, p) for p in range(self.people)]
        self.columns: list[list[Column]] = [[] for _ in range(self.people)]
        self._known: list[dict] = [{} for _ in range(self.people)]  # row as sorted items -> column index
        self._back: set[tuple[int, int]] = set()  # columns out of the master to bring back at the next solve
        self.fixed: dict[int, int] = {}  # person -> index of the column they are fixed to
        self.banned: set[tuple[int, int]] = set()  # (person, column index) the dive has ruled out
        # Each person's columns not banned, as (columns, list, array): see _candidates. A change to
        # ``banned`` drops the entries of the people it concerns (_bans_changed).
        self._candidate_cache: dict[int, tuple[int, list[int], np.ndarray]] = {}
        self.pool = ThreadPoolExecutor(max(1, threads))
        self.seed = seed
        self.lp_value: float | None = None
        self.weights: dict[tuple[int, int], float] = {}  # (person, column index) -> LP value
        self.bound: float | None = None  # best Lagrangian bound proved with nobody fixed
        self.rounds = 0
        self.dive_attempts = 0  # dives the last dive() started (restarts included)
        self.master_kind = master
        self._master = None
        # Branch-and-price decisions: person -> {(day, shift type): works it or not}. Pricing honours
        # them; known columns that break them are banned.
        self.branch: dict[int, dict[tuple[int, str], bool]] = {}
        self.node_bound = -math.inf  # best Lagrangian bound of the last converge() call
        self._breaking_cache: dict[tuple[int, tuple], tuple[int, list[int]]] = {}  # see _breaking
        # Most columns the master LP holds before it is shrunk (HighsMaster.shrink); None: no limit.
        self.master_column_limit: int | None = None
        # Random tie-breaking among branching cells (see _fractional_cell); 0: none.
        self.branch_noise = 0.0
        self._branch_rng = random.Random(seed)
        # False: the known rows are all there is (a search over a pool of rows, see
        # near_optimal_rows): pricing only brings back into the master those the master shrank
        # out, and a node's bound holds for that pool only.
        self.prices_rows = True
        self._pool_matrices: dict[int, tuple] = {}  # person -> (costs, cells worked), see _price_from_pool
        self._cover_dual_vector: np.ndarray | None = None  # the cover duals as _price_from_pool reads them

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    # -- columns --------------------------------------------------------------------------------

    def row_cost(self, p: int, row: dict[int, str]) -> int:
        pricing = self.pricing[p]
        return pricing.constant + sum(pricing.request_weight.get((d, t), 0) for d, t in row.items())

    def add_row(self, p: int, row: dict[int, str]) -> bool:
        key = tuple(sorted(row.items()))
        k = self._known[p].get(key)
        if k is not None:
            # A known row priced out again: new to the master if it had been taken out of it.
            if self._master is not None and k < self._master.columns_of(p) and self._master.is_out(p, k):
                if (p, k) not in self._back:
                    self._back.add((p, k))
                    return True
            return False
        self._known[p][key] = len(self.columns[p])
        self.columns[p].append(Column(dict(row), self.row_cost(p, row)))
        if self._breaks_branch(p, row):
            self.banned.add((p, len(self.columns[p]) - 1))  # a new column: the cache sees the count change
        return True

    def _breaks_branch(self, p: int, row: dict[int, str]) -> bool:
        return _breaks(row, self.branch.get(p, {}))

    def _breaking(self, p: int, decisions: dict[tuple[int, str], bool]) -> list[int]:
        """Indices of the person's columns that break ``decisions``, remembered per set of decisions
        and extended as columns come. Why: recomputed for every node, it took a tenth of the whole
        tree's time on Instance8 (a million row checks in 30 s)."""
        key = (p, tuple(sorted(decisions.items())))
        checked, breaking = self._breaking_cache.get(key, (0, []))
        columns = self.columns[p]
        if checked < len(columns):
            breaking = breaking + [k for k in range(checked, len(columns)) if _breaks(columns[k].row, decisions)]
            self._breaking_cache[key] = (len(columns), breaking)
        return breaking

    def known_rows(self) -> list[list[dict[int, str]]]:
        """Every row known so far, per person (``rows[p]`` for person p), as add_rows takes them."""
        return [[column.row for column in self.columns[p]] for p in range(self.people)]

    def add_rows(self, rows: list[list[dict[int, str]]]) -> None:
        """Each person's rows (``rows[p]`` for person p), as add_row."""
        for p, person_rows in enumerate(rows):
            for row in person_rows:
                self.add_row(p, row)

    def add_roster(self, roster: Roster) -> None:
        rows: list[dict[int, str]] = [{} for _ in range(self.people)]
        index = {person.id: p for p, person in enumerate(self.instance.staff)}
        for (employee, day), shift in roster.items():
            rows[index[employee]][day] = shift
        for p, row in enumerate(rows):
            self.add_row(p, row)

    # -- master and pricing ---------------------------------------------------------------------

    def _candidates(self, p: int) -> list[int]:
        """The person's columns the master may use (do not change the list)."""
        return [self.fixed[p]] if p in self.fixed else self._unbanned(p)[0]

    def _unbanned(self, p: int) -> tuple[list[int], np.ndarray]:
        """The person's columns not banned, as a list and an array, kept between calls. Why: a pool
        tree over Instance8 listed them 33,000 times in 25 s, 10% of its time."""
        count = len(self.columns[p])
        cached = self._candidate_cache.get(p)
        if cached is None or cached[0] != count:
            allowed = [k for k in range(count) if (p, k) not in self.banned]
            cached = self._candidate_cache[p] = (count, allowed, np.array(allowed, dtype=np.int64))
        return cached[1], cached[2]

    def _bans_changed(self, people: list[int] | set[int] | None = None) -> None:
        """``banned`` changed for these people (None: for anyone)."""
        if people is None:
            self._candidate_cache.clear()
        else:
            for p in people:
                self._candidate_cache.pop(p, None)

    def _is_open(self, p: int, k: int) -> bool:
        return self.fixed.get(p, k) == k and (p, k) not in self.banned

    def _add_columns_to_master(self) -> None:
        """The rows found since the last solve, as master columns (banned ones and those of fixed
        people closed), with columns the master had taken out coming back: those priced out again,
        and the open ones of a person left without an open column in the master."""
        back = self._back
        self._back = set()
        for p in self._master.people_without_open_column():
            back.update((p, k) for k in range(self._master.columns_of(p)) if self._is_open(p, k) and self._master.is_out(p, k))
        new = [(p, k) for p in range(self.people) for k in range(self._master.columns_of(p), len(self.columns[p]))]
        self._master.add_columns(
            [
                (p, k, self.columns[p][k].cost, list(self.columns[p][k].row.items()), self._is_open(p, k))
                for p, k in sorted(key for key in back if self._master.is_out(*key)) + new
            ]
        )

    def fix(self, p: int, k: int) -> None:
        self.fixed[p] = k
        if self._master is not None:
            self._master.set_open(p, [index == k for index in range(len(self.columns[p]))])

    def unfix(self, p: int) -> None:
        del self.fixed[p]
        self._open_columns(p)

    def _open_columns(self, p: int) -> None:
        """Every column of an unfixed person back in the master, but for the banned ones."""
        if self._master is not None:
            self._master.set_open(p, [(p, k) not in self.banned for k in range(len(self.columns[p]))])

    def ban(self, p: int, k: int) -> None:
        """Rule the person's column out of the master (the dive found it too costly to fix)."""
        self.banned.add((p, k))
        self._bans_changed([p])
        if p not in self.fixed:
            self._open_columns(p)

    def solve_master(self) -> None:
        """Solve the master LP, kept between calls (new columns added, fixings as bounds). Rebuilt
        every round it took 14 of the 41 s of Instance12's root."""
        if self._master is None:
            self.rebuild_master()
        self._add_columns_to_master()
        if not self._master.solve():
            # A kept master that fails is built afresh once (seen with GLOP after hundreds of
            # fixings and bans undone: ABNORMAL on a feasible master that solved when rebuilt).
            self.rebuild_master()
            if not self._master.solve():
                raise RuntimeError("master LP not solved")
        master = self._master
        self.lp_value = master.lp_value
        self.weights = master.weights
        # Cover duals kept where the slack columns price out at no gain (-weight_over <= dual <=
        # weight_under), as an exact optimum has them: then the Lagrangian bound computed from them
        # is valid whatever the simplex's tolerances.
        self.cover_duals = {
            key: min(max(dual, -self.cover[key].weight_over), self.cover[key].weight_under)
            for key, dual in master.cover_duals.items()
        }
        self.person_duals = master.person_duals
        if not self.prices_rows:  # for _price_from_pool, in the order of its matrices' columns
            self._cover_dual_vector = np.array([self.cover_duals.get(key, 0.0) for key in self.cover])
        # The dual objective: with each person's least reduced cost added, a Lagrangian bound.
        self.dual_value = sum(self.cover[key].requirement * dual for key, dual in self.cover_duals.items()) + sum(self.person_duals)

    def rebuild_master(self) -> None:
        """The master built afresh from every known row, with the fixings and bans as they are."""
        self._master = MASTERS[self.master_kind](self.cover, self.people)
        self._master.column_limit = self.master_column_limit
        self._back = set()
        self._add_columns_to_master()  # banned columns and those of fixed people come in closed

    def _pricing_solver(self) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.seed
        solver.parameters.max_time_in_seconds = PRICING_LIMIT_S
        return solver

    def _dp_costs(self, p: int, weights: dict[tuple[int, str], float]) -> list[dict[int, float]] | None:
        """Each day's choices for the person's RowDP (0: off) with their costs, under the branch
        decisions; None if a decision asks for a shift the person may not work."""
        dp = self.pricing[p].dp
        costs = [{0: 0.0, **{t: weights[(d, dp.shift_ids[t - 1])] for t in dp.allowed[d]}} for d in range(self.instance.horizon)]
        for (day, shift), works in self.branch.get(p, {}).items():
            t = dp.shift_ids.index(shift) + 1
            if works:
                if t not in costs[day]:
                    return None
                costs[day] = {t: costs[day][t]}
            else:
                costs[day].pop(t, None)
        return costs

    def _price(self, p: int) -> tuple[int, list[dict[int, str]], float | None]:
        """Rows of negative reduced cost for person p, and a lower bound on p's least reduced cost."""
        if not self.prices_rows:
            return self._price_from_pool(p)
        pricing = self.pricing[p]
        weights = self._cell_weights(p)
        while pricing.dp is not None:
            priced = self._price_by_dp(p, weights)
            if priced is not None:
                return priced
        scaled = {key: int(round(DUAL_SCALE * weight)) for key, weight in weights.items()}
        pricing.model.clear_objective()
        pricing.model.minimize(sum(coefficient * pricing.shift_vars[key] for key, coefficient in scaled.items() if coefficient))
        if not self._assume_branch(p):
            return p, [], math.inf  # a decision asks for a shift the person may not work
        solver = self._pricing_solver()
        # Hinting the person's favourite row made Instance12's root slower (31.7 and 33.1 s against
        # 27.5 and 27.9 s).
        solver.parameters.cp_model_presolve = len(self.instance.shifts) >= PRESOLVE_MIN_SHIFT_TYPES
        offset = pricing.constant - self.person_duals[p]
        rows: list[dict[int, str]] = []

        class Collector(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(inner) -> None:
                row = {d: t for (d, t), var in pricing.shift_vars.items() if inner.boolean_value(var)}
                reduced_cost = offset + sum(weights[(d, t)] for d, t in row.items())
                if reduced_cost < -1e-6:
                    rows.append(row)

        status = solver.solve(pricing.model, Collector())
        if status == cp_model.INFEASIBLE:
            return p, [], math.inf  # no row meets the branch decisions: nothing below this node
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return p, [], None
        # Rounding moved each worked day's weight by at most 0.5 / DUAL_SCALE.
        margin = 0.5 * self.instance.horizon / DUAL_SCALE
        least = solver.best_objective_bound / DUAL_SCALE + offset - margin
        return p, rows[-3:], least  # the last rows found are the cheapest

    def _cell_weights(self, p: int) -> dict[tuple[int, str], float]:
        """What working each (day, shift type) adds to the person's reduced cost at the last duals."""
        pricing = self.pricing[p]
        return {key: pricing.request_weight.get(key, 0) - self.cover_duals.get(key, 0.0) for key in pricing.shift_vars}

    def _price_from_pool(self, p: int) -> tuple[int, list[dict[int, str]], float]:
        """The person's known rows that the branch decisions allow, priced at once (a 0/1 matrix of
        the cells each works, built on the first call): those of negative reduced cost, cheapest
        first, and the least (infinite if none is allowed)."""
        columns = self.columns[p]
        if p not in self._pool_matrices or len(self._pool_matrices[p][0]) != len(columns):
            cell_index = {key: i for i, key in enumerate(self.cover)}
            worked = np.zeros((len(columns), len(cell_index)))
            for k, column in enumerate(columns):
                for cell in column.row.items():
                    if cell in cell_index:
                        worked[k, cell_index[cell]] = 1.0
            self._pool_matrices[p] = (np.array([column.cost for column in columns], dtype=float), worked)
        costs, worked = self._pool_matrices[p]
        allowed = np.array([self.fixed[p]]) if p in self.fixed else self._unbanned(p)[1]
        if not len(allowed):
            return p, [], math.inf
        reduced = np.full(len(columns), math.inf)
        reduced[allowed] = (costs - self.person_duals[p] - worked @ self._cover_dual_vector)[allowed]
        order = np.argsort(reduced)[:POOL_ROWS]
        return p, [columns[k].row for k in order if reduced[k] < -1e-6], float(reduced[order[0]]) - 1e-6

    def _cheapest_rows_by_dp(
        self, p: int, weights: dict[tuple[int, str], float], count: int, below: float = math.inf
    ) -> tuple[float, list[dict[int, str]]]:
        """The least cost of a row of the person's program under the branch decisions (``weights`` per
        worked cell; infinite if the decisions leave no row), and up to ``count`` cheapest rows
        costing less than ``below`` (only those are traced back), cheapest first."""
        dp = self.pricing[p].dp
        costs = self._dp_costs(p, weights)
        if costs is None:
            return math.inf, []
        values = dp.forward(costs)
        best = dp.best_states(values, count)
        if not best:
            return math.inf, []
        return best[0][0], [dp.row(values, costs, state) for value, state in best if value < below]

    def _price_by_dp(self, p: int, weights: dict[tuple[int, str], float]) -> tuple[int, list[dict[int, str]], float] | None:
        """Rows and the least reduced cost by the person's program, or None where its cheapest row
        prices out but breaks a limit the program leaves out (that limit is kept from then on).
        Where the least is not negative it bounds the exact one all the same."""
        dp = self.pricing[p].dp
        offset = self.pricing[p].constant - self.person_duals[p]
        least, rows = self._cheapest_rows_by_dp(p, weights, DP_ROWS, below=-offset - 1e-6)
        broken = dp.broken_limits(rows[0]) if rows else set()
        if broken:
            self.pricing[p].track_limits(broken)
            return None
        # Exact up to floating point; the margin keeps the bound on the safe side of rounding. An
        # infinite least: no row meets the branch decisions.
        return p, [row for row in rows if not dp.broken_limits(row)], least + offset - 1e-6

    def _price_all(self, people: list[int]) -> list[tuple[int, list[dict[int, str]], float | None]]:
        """Price each person: CP-SAT calls on the thread pool (CP-SAT releases the GIL), dynamic
        programs meanwhile on this thread (numpy on arrays this small holds the GIL: on Instance7 a
        pool of two threads did 202 branch-and-price nodes in 40 s, this thread alone 244)."""
        by_cp_sat = self.pool.map(self._price, [p for p in people if self.pricing[p].dp is None])
        by_dp = [self._price(p) for p in people if self.pricing[p].dp is not None]
        return by_dp + list(by_cp_sat)

    def _assume_branch(self, p: int) -> bool:
        """The person's branch decisions as assumptions of their pricing model; False if one asks
        for a shift the person may not work at all."""
        pricing = self.pricing[p]
        pricing.model.clear_assumptions()
        literals = []
        for (day, shift), works in self.branch.get(p, {}).items():
            var = pricing.shift_vars.get((day, shift))
            if var is None:
                if works:
                    return False
                continue
            literals.append(var if works else ~var)
        pricing.model.add_assumptions(literals)
        return True

    def converge(self, deadline: float, stop_above: float = math.inf) -> bool:
        """Price until no row improves the LP (within GAP_TOLERANCE); False if the deadline came first.
        With nobody fixed, each round's Lagrangian bound is kept in ``self.bound``. Pricing also stops
        once a round's Lagrangian bound exceeds ``stop_above`` (the LP value is then above it too)."""
        active = [p for p in range(self.people) if p not in self.fixed]
        self.node_bound = -math.inf
        # Partial pricing: after a full round, only the people who got new rows are priced again
        # until none of them gets one; convergence is only judged on full rounds.
        priced, since_full = active, 0
        while True:
            self.solve_master()
            if not active:
                return True
            if time.monotonic() >= deadline:
                return False
            self.rounds += 1
            full = priced is active
            lagrangian = self.dual_value
            hot = []
            for p, rows, least in self._price_all(priced):
                if sum(self.add_row(p, row) for row in rows):
                    hot.append(p)
                if least == math.inf or lagrangian == math.inf:
                    lagrangian = math.inf
                else:
                    lagrangian = -math.inf if least is None else lagrangian + min(0.0, least)
            if full:
                self.node_bound = max(self.node_bound, lagrangian)
                if not self.fixed and not self.branch and lagrangian > (self.bound if self.bound is not None else -math.inf):
                    self.bound = lagrangian
                if not hot or lagrangian >= self.lp_value - GAP_TOLERANCE or lagrangian > stop_above:
                    self.solve_master()
                    return True
            since_full = 0 if full else since_full + 1
            priced = hot if hot and since_full < FULL_ROUND_EVERY else active

    def near_optimal_rows(self, delta: float, most: int) -> list[list[dict[int, str]]] | None:
        """Each person's rows whose reduced cost at the last master's duals is within ``delta`` of
        their least, listed by their dynamic program (people priced by CP-SAT: their known rows);
        None if that makes more than ``most`` rows. Every row of a roster costs its reduced cost
        above the person's least plus the Lagrangian bound, so a roster near the bound is made of
        such rows (see search._pool_tree_search)."""
        chosen = self.near_optimal_pool((delta,), most)
        return None if chosen is None else chosen[1]

    def near_optimal_pool(self, margins: tuple[float, ...], most: int) -> tuple[float, list[list[dict[int, str]]]] | None:
        """The largest of ``margins`` (ascending) whose near_optimal_rows are at most ``most``, with
        those rows; None if even the first gives more. Each person's program runs forward once (its
        values are a scratch buffer: hence people outside, margins inside) and the walks at each
        margin share their memo of predecessors."""
        pools: dict[float, list[list[dict[int, str]]]] = {margin: [] for margin in margins}
        left = dict.fromkeys(margins, most)
        for p in range(self.people):
            pricing = self.pricing[p]
            if pricing.dp is not None:
                costs = self._dp_costs(p, self._cell_weights(p))
                values = pricing.dp.forward(costs)
                best = pricing.dp.best_states(values, 1)
                memo: dict = {}
            for margin in list(pools):
                if pricing.dp is None:
                    rows = [column.row for column in self.columns[p]]
                elif not best:
                    rows = []
                else:
                    found = pricing.dp.rows_within(values, costs, best[0][0] + margin, left[margin], memo)
                    rows = None if found is None else [row for row in found if not pricing.dp.broken_limits(row)]
                if rows is None or len(rows) > left[margin]:
                    for larger in [m for m in pools if m >= margin]:
                        del pools[larger]  # a larger margin holds at least as many rows
                    break
                left[margin] -= len(rows)
                pools[margin].append(rows)
        if not pools:
            return None
        margin = max(pools)
        return margin, pools[margin]

    # -- dive -----------------------------------------------------------------------------------

    def _favourite(self, p: int) -> tuple[float, int]:
        """The person's column with the largest LP weight: (weight, column index)."""
        return max((self.weights.get((p, k), 0.0), k) for k in self._candidates(p))

    def _favourites(self) -> dict[int, tuple[float, int]]:
        """_favourite of each person with an open column of positive LP value (any other column of
        theirs has less), in one pass over the LP's values instead of over every column of theirs."""
        best: dict[int, tuple[float, int]] = {}
        for (p, k), weight in self.weights.items():
            if weight > 0 and self._is_open(p, k) and (weight, k) > best.get(p, (0.0, -1)):
                best[p] = (weight, k)
        return best

    def roster(self) -> Roster:
        """Everyone on their fixed column, or else on their favourite one: every column is a
        feasible row, so the roster is feasible whatever the LP says of cover."""
        roster: Roster = {}
        favourites = self._favourites()
        for p, person in enumerate(self.instance.staff):
            if p in self.fixed:
                k = self.fixed[p]
            else:
                k = favourites[p][1] if p in favourites else self._favourite(p)[1]
            for day, shift in self.columns[p][k].row.items():
                roster[(person.id, day)] = shift
        return roster

    def _has_alternative(self, fixings: list[tuple[int, int]]) -> bool:
        """One person fixed, with another column not ruled out (so the master stays feasible)."""
        if len(fixings) != 1:
            return False
        p, k = fixings[0]
        return any((p, other) not in self.banned for other in range(len(self.columns[p])) if other != k)

    def dive(self, deadline: float) -> Roster:
        """Fix people to their favourite rows until everyone is fixed (or the deadline comes).

        Everyone whose LP row is already integral is fixed for free; of the others, the ``batch``
        with the heaviest rows. The batch doubles while steps leave the LP value where it was; a
        step that raises it is undone but for its heaviest row, and the batch drops to a quarter of
        that step's (never again above half). Why: on Instance12 the LP stayed at 4040 through 60
        one-person steps of 1-2 s each, while on Instance8 fixing two people at a time ended at 1410
        where one at a time ended at 1304. A one-person step that raises the LP by more than
        DIVE_BACKTRACK_RISE is undone and its row ruled out; after DIVE_RESTART_BACKTRACKS of those
        the dive starts over (see there)."""
        attempt = 0
        while not self._dive_once(deadline, DIVE_RESTART_BACKTRACKS if attempt < DIVE_RESTARTS else self.people, attempt):
            if time.monotonic() >= deadline:
                break
            attempt += 1
            self.fixed.clear()
            self.banned.clear()
            self._bans_changed()
            for p in range(self.people):
                self._open_columns(p)
            self.converge(deadline)
        self.dive_attempts = attempt + 1
        return self.roster()

    def _dive_once(self, deadline: float, most_backtracks: int, attempt: int) -> bool:
        """One dive; True once everyone is fixed, False at the deadline or at ``most_backtracks``."""
        rng = random.Random(self.seed * 1000 + attempt)
        noise = DIVE_RESTART_NOISE if attempt else 0.0
        batch, ceiling, backtracks = 1, self.people, 0
        while len(self.fixed) < self.people:
            if time.monotonic() >= deadline or backtracks >= most_backtracks:
                return False
            favourites = sorted(
                ((*self._favourite(p), p) for p in range(self.people) if p not in self.fixed), reverse=True
            )
            integral = [(p, k) for weight, k, p in favourites if weight >= INTEGRAL]
            fractional = sorted(
                ((weight + noise * rng.random(), p, k) for weight, k, p in favourites if weight < INTEGRAL), reverse=True
            )
            fractional = [(p, k) for _, p, k in fractional][:batch]
            before = self.lp_value
            for p, k in integral + fractional:
                self.fix(p, k)
            # The master over the rows known so far is an upper bound on the LP with these fixings: if it
            # has not risen, the step stands without pricing. Else pricing stops as soon as the step is
            # proved to raise the LP past what the checks below act on.
            self.solve_master()
            if self.lp_value > before + 1e-6:
                self.converge(deadline, before + (DIVE_RISE_TOLERANCE if len(fractional) > 1 else DIVE_BACKTRACK_RISE))
            rose = self.lp_value > before + DIVE_RISE_TOLERANCE
            if rose and len(fractional) > 1:
                # Too greedy: keep the heaviest row only, and never try this batch size again.
                for p, _ in fractional[1:]:
                    self.unfix(p)
                ceiling = max(1, len(fractional) // 2)
                batch = max(1, len(fractional) // 4)
                fractional = fractional[:1]
                # That row alone may be what raised the LP: judged as a one-person step below.
                self.solve_master()
                if self.lp_value > before + 1e-6:
                    self.converge(deadline, before + DIVE_BACKTRACK_RISE)
            if (
                len(fractional) == 1
                and self.lp_value > before + DIVE_BACKTRACK_RISE
                and self._has_alternative(fractional)
            ):
                # One person's row raised the LP a lot (on Instance8 the dive ended at 1402-1412
                # instead of 1302-1305 after such steps): undo it and rule that row out.
                (p, k), = fractional
                self.unfix(p)
                self.ban(p, k)
                backtracks += 1
                self.converge(deadline)
            elif not rose:
                batch = min(ceiling, batch * 2)
        return True

    # -- branch and price -------------------------------------------------------------------------

    def _enter_node(self, branch: dict[int, dict[tuple[int, str], bool]]) -> bool | None:
        """Make ``branch`` the decisions in force: columns that break them are banned, and a person
        left without a column gets any row that meets them. False if some person has none (the node
        is empty); None if a row could not be found in time."""
        before: dict[int, set[int]] = {}
        for p, k in self.banned:
            before.setdefault(p, set()).add(k)
        after = {p: set(self._breaking(p, decisions)) for p, decisions in branch.items()}
        changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
        reopen = set(self.fixed) | changed
        self.fixed.clear()
        self.branch = branch
        self.banned = {(p, k) for p, indices in after.items() for k in indices}
        self._bans_changed(changed)
        if self._master is not None:
            for p in reopen:  # the others' columns are open in the master as they should be
                self._open_columns(p)
        for p in branch:
            if all((p, k) in self.banned for k in range(len(self.columns[p]))):
                if not self.prices_rows:
                    return False  # no row of the pool meets the decisions
                pricing = self.pricing[p]
                while pricing.dp is not None:
                    _, rows = self._cheapest_rows_by_dp(p, {key: 0.0 for key in pricing.shift_vars}, 1)
                    if not rows:
                        return False  # not even a program that leaves limits out has a row
                    broken = pricing.dp.broken_limits(rows[0])
                    if not broken:
                        self.add_row(p, rows[0])
                        break
                    pricing.track_limits(broken)
                if pricing.dp is not None:
                    continue
                if not self._assume_branch(p):
                    return False
                pricing.model.clear_objective()
                solver = self._pricing_solver()
                solver.parameters.stop_after_first_solution = True
                status = solver.solve(pricing.model)
                if status == cp_model.INFEASIBLE:
                    return False
                if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    return None
                self.add_row(p, {d: t for (d, t), var in pricing.shift_vars.items() if solver.boolean_value(var)})
        return True

    def _fractional_cell(self) -> tuple[int, int, str] | None:
        """The (person, day, shift type) whose LP value is nearest one half, if any is fractional;
        with ``branch_noise``, the distance from one half plus that much noise at most.

        Why the noise: on Instance8 the LP's values are mostly within a hundredth of one half, so
        the rule alone decides ties, and two trees over the same LP plunge alike. From four stored
        dives, one tree aiming at 1300 found it within 40 s in 1 of 4 runs without noise and 3 of 8
        with 0.05 (two noise seeds)."""
        value: dict[tuple[int, int, str], float] = {}
        for (p, k), weight in self.weights.items():
            if weight > 1e-6:
                for day, shift in self.columns[p][k].row.items():
                    value[(p, day, shift)] = value.get((p, day, shift), 0.0) + weight
        noise = self.branch_noise
        fractional = [
            (abs(v - 0.5) + (noise * self._branch_rng.random() if noise else 0.0), cell)
            for cell, v in value.items()
            if 1e-4 < v < 1 - 1e-4
        ]
        return min(fractional)[1] if fractional else None

    def branch_and_price(self, deadline: float, upper_bound, offer, aspiration=math.inf, stop=None) -> bool:
        """Search for a roster cheaper than ``upper_bound`` (a number, or a function giving the best
        roster's objective found so far, by this search or beside it), calling ``offer(roster,
        objective)`` with each one found. Branches on one cell (the person works that shift type that day, or not): plunging
        from the node of least bound down the "works it" children, the "not" children kept for later.
        A node is pruned when its Lagrangian bound, rounded up, is no better than the best roster.
        Returns True when every node was pruned by its bound before the deadline: the last roster
        offered is then optimal (or none cheaper than ``upper_bound`` exists).

        With an ``aspiration``, nodes are also pruned when their bound is above it: the search is
        then for rosters of at most that cost (any cheaper than the best is still offered), and a
        search to the end proves that none costs less than ``aspiration`` + 1 (or the best found).
        The aspiration may be a function of the best roster's objective, asked again at each node:
        as long as it never rises, a search to the end proves the same of its last value (every node
        pruned by it then had a bound above that value). The search also ends, unfinished, once
        ``stop`` (an Event) is set.

        Why: on Instance5 and Instance7 the dive ends a few units above the optimum (1146, 1062-1071),
        and LNS seldom closes that; this search found 1143 and 1056 there within 60 s in some runs."""
        known = upper_bound if callable(upper_bound) else lambda: upper_bound
        aspired = aspiration if callable(aspiration) else lambda _best: aspiration
        best = known()
        order = itertools.count()
        heap: list = [(-math.inf, next(order), {})]
        exhausted = True
        try:
            while heap:
                bound, _, branch = heapq.heappop(heap)
                while branch is not None:
                    best = min(best, known())
                    cutoff = min(best, aspired(best) + 1)
                    if bound > cutoff - 1 + 1e-6:  # rounded up, no better than the cutoff
                        break
                    if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                        return False
                    entered = self._enter_node(branch)
                    if entered is None:
                        exhausted = False
                    if not entered:
                        break
                    if not self.converge(deadline, stop_above=cutoff - 1 + 1e-6):
                        return False
                    bound = max(bound, self.node_bound)
                    roster = self.roster()
                    objective = roster_objective(self.instance, roster)
                    if objective < best:
                        best = objective
                        offer(roster, objective)
                    cutoff = min(best, aspired(best) + 1)
                    if bound > cutoff - 1 + 1e-6:
                        break
                    cell = self._fractional_cell()
                    if cell is None:
                        # An integral master whose bound did not prune it above: converged pricing
                        # would have (its bound is within GAP_TOLERANCE of the roster's cost), so some
                        # pricing call ran out of time and the node is not proved.
                        exhausted = False
                        break
                    p, day, shift = cell
                    children = []
                    for works in (False, True):
                        child = {q: dict(decisions) for q, decisions in branch.items()}
                        child.setdefault(p, {})[(day, shift)] = works
                        children.append(child)
                    heapq.heappush(heap, (bound, next(order), children[0]))
                    branch = children[1]
            return exhausted
        except RuntimeError:
            return False  # a node's master LP failed even rebuilt: the rosters offered stand
        finally:
            self._enter_node({})


def _breaks(row: dict[int, str], decisions: dict[tuple[int, str], bool]) -> bool:
    """Whether a row breaks branch decisions ((day, shift type) -> works it or not)."""
    return any((row.get(day) == shift) != works for (day, shift), works in decisions.items())


def residual_instance(instance: Instance, roster: Roster, people: list[int]) -> Instance:
    """The instance for ``people`` alone, everyone else working as in ``roster``: their shifts count
    towards cover (a requirement may go below zero: then every assignment is excess), and only the
    chosen people's requests remain. A roster of the chosen people costs, here, what the whole roster
    costs less the other people's requests."""
    chosen = {instance.staff[p].id for p in people}
    others: dict[tuple[int, str], int] = {}
    for (employee, day), shift in roster.items():
        if employee not in chosen:
            others[(day, shift)] = others.get((day, shift), 0) + 1
    return dataclasses.replace(
        instance,
        staff=[instance.staff[p] for p in people],
        on_requests=[request for request in instance.on_requests if request.employee in chosen],
        off_requests=[request for request in instance.off_requests if request.employee in chosen],
        cover=[dataclasses.replace(c, requirement=c.requirement - others.get((c.day, c.shift), 0)) for c in instance.cover],
    )


def lower_bound(value: float | None) -> int | None:
    """The integer bound a fractional Lagrangian bound proves (costs are integers)."""
    return None if value is None else math.ceil(value - 1e-6)

