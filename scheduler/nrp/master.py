"""The master LP of column generation, on HiGHS or on GLOP.

Rows: one per cover cell (requirement = assigned + under - over), one convexity row per person.
Columns: an under and an over slack per cover cell, then the people's rows. Both backends keep the
LP between solves (new columns added, fixings and bans as upper bounds of 0); with a column limit,
HiGHS's drops the columns least likely to be used again whenever it holds more (HighsMaster.shrink).

Why two: branch and price moves bounds on every node, and there HiGHS re-solves from its last basis
(fixing one person of Instance12's converged root: 4.6 ms and 7 iterations) where GLOP through
pywraplp started over (615 ms, 2,246 iterations); on Instance7, 387 nodes in 40 s against 215.
But the dive on Instance12 went better on GLOP, measured at 60 s: 4040 at 54 s in two runs (11 and
9 people left to the compact model) against 4161 on HiGHS (20 people left; GLOP without its presolve,
which kept the basis, was no better).
"""

from __future__ import annotations

import itertools
from typing import Protocol

import highspy
import numpy as np
from ortools.linear_solver import pywraplp

from scheduler.nrp.instance import Cover

# HiGHS simplex_strategy values. After new columns the last basis stays primal feasible, after bound
# changes dual feasible; HiGHS's own choice (dual) took Instance12's root 11.4 s in the master
# (63,570 iterations), the primal simplex after new columns 5.2 s (39,959).
_DUAL_SIMPLEX = 1
_PRIMAL_SIMPLEX = 4
OUT = -1  # a column that HighsMaster.shrink took out of the LP


class MasterLP(Protocol):
    lp_value: float
    weights: dict[tuple[int, int], float]  # (person, column index) -> value
    cover_duals: dict[tuple[int, str], float]
    person_duals: list[float]

    def columns_of(self, p: int) -> int: ...

    def is_out(self, p: int, k: int) -> bool:
        """Whether a column added before is out of the LP for now (HighsMaster.shrink)."""

    def people_without_open_column(self) -> list[int]: ...

    def add_columns(self, columns: list[tuple[int, int, int, list[tuple[int, str]], bool]]) -> None:
        """(person, column index, cost, cells worked, open) for each new column, in index order, or
        for a column coming back after shrinking."""

    def set_open(self, p: int, is_open: list[bool]) -> None: ...

    def solve(self) -> bool:
        """True when solved to optimality; then the values above are set."""


class HighsMaster:
    def __init__(self, cover: dict[tuple[int, str], Cover], people: int):
        self.cover_keys = list(cover)
        self._cover_row = {key: i for i, key in enumerate(self.cover_keys)}
        cells = len(self.cover_keys)
        self._lp = lp = highspy.Highs()
        lp.setOptionValue("output_flag", False)
        requirement = np.array([float(cover[key].requirement) for key in self.cover_keys] + [1.0] * people)
        lp.addRows(len(requirement), requirement, requirement, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        slack_costs = [float(weight) for key in self.cover_keys for weight in (cover[key].weight_under, cover[key].weight_over)]
        lp.addCols(
            2 * cells,
            np.array(slack_costs),
            np.zeros(2 * cells),
            np.full(2 * cells, highspy.kHighsInf),
            2 * cells,
            np.arange(2 * cells, dtype=np.int32),
            np.repeat(np.arange(cells, dtype=np.int32), 2),
            np.tile(np.array([1.0, -1.0]), cells),
        )
        self._slack_columns = 2 * cells
        self._people = people
        self._keys: list[tuple[int, int]] = []  # (person, column index) of each master column
        self._open: list[bool] = []  # whether each master column is open (upper bound not 0)
        # Per person, column index -> master column, or OUT once shrink() has taken it out.
        self._index: list[list[int]] = [[] for _ in range(people)]
        self._out = 0  # columns out of the LP now
        self._bounds_changed = False
        # With a limit, solve() shrinks the LP to the basis and the columns of least reduced cost
        # whenever it holds more (see shrink).
        self.column_limit: int | None = None

    def columns_of(self, p: int) -> int:
        return len(self._index[p])

    def is_out(self, p: int, k: int) -> bool:
        return self._index[p][k] == OUT

    def people_without_open_column(self) -> list[int]:
        if not self._out:
            return []  # nothing to bring back: skip the count on every solve of an unshrunk master
        with_open = {p for p, _ in itertools.compress(self._keys, self._open)}
        return [p for p in range(self._people) if p not in with_open]

    def add_columns(self, columns) -> None:
        """New columns (the person's next index), or ones shrink() took out coming back."""
        if not columns:
            return
        costs, upper, starts, indices = [], [], [], []
        cells = len(self.cover_keys)
        for p, k, cost, worked, is_open in columns:
            costs.append(float(cost))
            upper.append(highspy.kHighsInf if is_open else 0.0)
            starts.append(len(indices))
            indices.extend(self._cover_row[cell] for cell in worked if cell in self._cover_row)
            indices.append(cells + p)
            column = self._slack_columns + len(self._keys)
            if k == len(self._index[p]):
                self._index[p].append(column)
            else:
                self._index[p][k] = column
                self._out -= 1
            self._keys.append((p, k))
            self._open.append(is_open)
        count = len(columns)
        self._lp.addCols(
            count, np.array(costs), np.zeros(count), np.array(upper), len(indices),
            np.array(starts, np.int32), np.array(indices, np.int32), np.ones(len(indices)),
        )  # fmt: skip

    def set_open(self, p: int, is_open: list[bool]) -> None:
        pairs = [(column, opened) for column, opened in zip(self._index[p], is_open) if column != OUT]
        if pairs:
            columns = np.array([column for column, _ in pairs], np.int32)
            upper = np.array([highspy.kHighsInf if opened else 0.0 for _, opened in pairs])
            self._lp.changeColsBounds(len(pairs), columns, np.zeros(len(pairs)), upper)
            for column, opened in pairs:
                self._open[column - self._slack_columns] = opened
            self._bounds_changed = True

    def solve(self) -> bool:
        self._lp.setOptionValue("simplex_strategy", _DUAL_SIMPLEX if self._bounds_changed else _PRIMAL_SIMPLEX)
        self._bounds_changed = False
        self._lp.run()
        if self._lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        self.lp_value = self._lp.getInfo().objective_function_value
        solution = self._lp.getSolution()
        self.weights = dict(zip(self._keys, solution.col_value[self._slack_columns :]))
        duals = solution.row_dual
        self.cover_duals = dict(zip(self.cover_keys, duals))
        self.person_duals = list(duals[len(self.cover_keys) :])
        if self.column_limit is not None and len(self._keys) > self.column_limit:
            self.shrink(np.asarray(solution.col_dual[self._slack_columns :]))
        return True

    def shrink(self, reduced_costs: np.ndarray) -> None:
        """Take out of the LP every closed column and all but the half limit of open nonbasic ones
        of least reduced cost; the basis stays, so the next solve starts where this one ended.
        Columns taken out stay known to column generation, which brings them back when pricing
        finds them again (or when a person has no open column left).

        Why: in branch and price on Instance8 the master grew to 5,500-7,000 columns, and each
        simplex iteration prices them all: 0.16 ms per iteration, 13-18 ms per solve, half the
        tree's time. With a limit of 2,000, 6-7 ms per solve, and the tree beside the dive entered
        about 1,100 nodes in a 60 s run against 620 (one run each)."""
        status = self._lp.getBasis().col_status[self._slack_columns :]
        basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in status])
        is_open = np.array(self._open)
        candidates = np.flatnonzero(is_open & ~basic)
        room = max(0, self.column_limit // 2 - int(basic.sum()))
        kept = candidates[np.argsort(reduced_costs[candidates], kind="stable")[:room]]
        keep = basic.copy()
        keep[kept] = True
        dropped = np.flatnonzero(~keep)
        if not len(dropped):
            return
        self._lp.deleteCols(len(dropped), (dropped + self._slack_columns).astype(np.int32))
        for column in dropped:
            p, k = self._keys[column]
            self._index[p][k] = OUT
        self._out += len(dropped)
        self._keys = [key for key, stays in zip(self._keys, keep) if stays]
        self._open = [opened for opened, stays in zip(self._open, keep) if stays]
        for column, (p, k) in enumerate(self._keys):
            self._index[p][k] = self._slack_columns + column


class GlopMaster:
    def __init__(self, cover: dict[tuple[int, str], Cover], people: int):
        self._lp = lp = pywraplp.Solver.CreateSolver("GLOP")
        self._objective = lp.Objective()
        self._objective.SetMinimization()
        self._cover_rows = {}
        for key, cell in cover.items():
            constraint = lp.Constraint(cell.requirement, cell.requirement)
            under = lp.NumVar(0, lp.infinity(), "")
            over = lp.NumVar(0, lp.infinity(), "")
            constraint.SetCoefficient(under, 1)
            constraint.SetCoefficient(over, -1)
            self._objective.SetCoefficient(under, cell.weight_under)
            self._objective.SetCoefficient(over, cell.weight_over)
            self._cover_rows[key] = constraint
        self._convexity = [lp.Constraint(1, 1) for _ in range(people)]
        self._variables: list[list] = [[] for _ in range(people)]

    def columns_of(self, p: int) -> int:
        return len(self._variables[p])

    column_limit = None  # GLOP's master keeps every column

    def is_out(self, p: int, k: int) -> bool:
        return False

    def people_without_open_column(self) -> list[int]:
        return []  # nothing is taken out: a person's columns are closed only on purpose

    def add_columns(self, columns) -> None:
        for p, _, cost, worked, is_open in columns:
            var = self._lp.NumVar(0, self._lp.infinity() if is_open else 0, "")
            self._convexity[p].SetCoefficient(var, 1)
            self._objective.SetCoefficient(var, cost)
            for cell in worked:
                if cell in self._cover_rows:
                    self._cover_rows[cell].SetCoefficient(var, 1)
            self._variables[p].append(var)

    def set_open(self, p: int, is_open: list[bool]) -> None:
        for var, opened in zip(self._variables[p], is_open):
            var.SetUb(self._lp.infinity() if opened else 0)

    def solve(self) -> bool:
        if self._lp.Solve() != pywraplp.Solver.OPTIMAL:
            return False
        self.lp_value = self._objective.Value()
        self.weights = {(p, k): var.solution_value() for p, row in enumerate(self._variables) for k, var in enumerate(row)}
        self.cover_duals = {key: constraint.dual_value() for key, constraint in self._cover_rows.items()}
        self.person_duals = [constraint.dual_value() for constraint in self._convexity]
        return True
