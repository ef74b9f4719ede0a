"""The master LP of column generation, on HiGHS or on GLOP.

Rows: one per cover cell (requirement = assigned + under - over), one convexity row per person.
Columns: an under and an over slack per cover cell, then the people's rows. Both backends keep the
LP between solves (new columns added, fixings and bans as upper bounds of 0).

Why two: branch and price moves bounds on every node, and there HiGHS re-solves from its last basis
(fixing one person of Instance12's converged root: 4.6 ms and 7 iterations) where GLOP through
pywraplp started over (615 ms, 2,246 iterations); on Instance7, 387 nodes in 40 s against 215.
But the dive on Instance12 went better on GLOP, measured at 60 s: 4040 at 54 s in two runs (11 and
9 people left to the compact model) against 4161 on HiGHS (20 people left; GLOP without its presolve,
which kept the basis, was no better).
"""

from __future__ import annotations

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


class MasterLP(Protocol):
    lp_value: float
    weights: dict[tuple[int, int], float]  # (person, column index) -> value
    cover_duals: dict[tuple[int, str], float]
    person_duals: list[float]

    def columns_of(self, p: int) -> int: ...

    def add_columns(self, columns: list[tuple[int, int, int, list[tuple[int, str]], bool]]) -> None:
        """(person, column index, cost, cells worked, open) for each new column, in index order."""

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
        self._keys: list[tuple[int, int]] = []  # (person, column index) of each master column
        self._index: list[list[int]] = [[] for _ in range(people)]
        self._bounds_changed = False

    def columns_of(self, p: int) -> int:
        return len(self._index[p])

    def add_columns(self, columns) -> None:
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
            self._index[p].append(self._slack_columns + len(self._keys))
            self._keys.append((p, k))
        count = len(columns)
        self._lp.addCols(
            count, np.array(costs), np.zeros(count), np.array(upper), len(indices),
            np.array(starts, np.int32), np.array(indices, np.int32), np.ones(len(indices)),
        )  # fmt: skip

    def set_open(self, p: int, is_open: list[bool]) -> None:
        count = len(self._index[p])
        if count:
            upper = np.where(np.array(is_open[:count]), highspy.kHighsInf, 0.0)
            self._lp.changeColsBounds(count, np.array(self._index[p], np.int32), np.zeros(count), upper)
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
        return True


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
