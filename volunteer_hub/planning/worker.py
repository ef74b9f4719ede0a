"""What the worker does with a queued run: claim it, load the problem, solve it in a thread while
reporting progress and a heartbeat, and store the proposal. Nothing here touches the published
schedule: a run only ever writes its own rows, so killing the worker (or the web server) mid-run
leaves what volunteers see exactly as it was.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time

from scheduler.model import ProblemError, Progress, SolveOptions
from scheduler.solve import solve

from volunteer_hub.db import for_update, write_transaction
from volunteer_hub.planning.problem import load_problem, scope_from_text
from volunteer_hub.planning.tables import (
    ORIGIN_SOLVER,
    RUN_CANCELLED,
    RUN_FAILED,
    RUN_QUEUED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    PlanProposal,
    PlanRun,
    PlanShortfall,
)
from volunteer_hub.settings import get_settings

log = logging.getLogger("volunteer_hub.planning")

PROGRESS_INTERVAL_S = 0.5  # how often the worker writes progress and its heartbeat
RELATIVE_GAP = 0.005  # stop once the schedule is proven within 0.5% of the best possible
INSERT_CHUNK = 500


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def queue_wait_s() -> float:
    """How long a queued run may wait for a worker while no worker reports on any run: four times
    the heartbeat staleness limit (two minutes by default). A worker busy with other runs keeps
    reporting, so runs queued behind a long one are not expired; only a queue that nobody reads
    (no worker started, a job lost) is."""
    return 4 * get_settings().plan_run_stale_s


async def fail_stale_runs_now(queued: bool = True) -> int:
    """Mark failed the runs whose worker stopped reporting (killed, machine gone), and (``queued``)
    the queued runs that no worker took in time (none running, or the job lost). Returns how many."""
    now = utc_now()
    stale_before = now - dt.timedelta(seconds=get_settings().plan_run_stale_s)
    stale = await PlanRun.select(PlanRun.id).where(
        (PlanRun.status == RUN_RUNNING) & (PlanRun.heartbeat_at < stale_before))
    ids = [row["id"] for row in stale]
    if ids:
        await PlanRun.update({
            PlanRun.status: RUN_FAILED, PlanRun.finished_at: now, PlanRun.error: "worker_lost",
        }).where(PlanRun.id.is_in(ids) & (PlanRun.status == RUN_RUNNING))
        log.warning("runs %s marked failed: their worker stopped reporting", ids)
    if not queued:
        return len(ids)
    waited_before = now - dt.timedelta(seconds=queue_wait_s())
    waiting = await PlanRun.select(PlanRun.id).where(
        (PlanRun.status == RUN_QUEUED) & (PlanRun.created_at < waited_before))
    if waiting:
        worker_seen = await PlanRun.exists().where(PlanRun.heartbeat_at >= waited_before)
        if not worker_seen:
            expired = [row["id"] for row in waiting]
            # Only while still queued: a worker claiming one at this moment keeps it.
            await PlanRun.update({
                PlanRun.status: RUN_FAILED, PlanRun.finished_at: now, PlanRun.error: "queue_timeout",
            }).where(PlanRun.id.is_in(expired) & (PlanRun.status == RUN_QUEUED))
            log.warning("runs %s marked failed: no worker took them within %.0f s", expired, queue_wait_s())
            ids += expired
    return len(ids)


async def _claim(run_id: int) -> dict | None:
    async with write_transaction():
        row = await for_update(PlanRun.select().where(PlanRun.id == run_id)).first()
        if row is None or row["status"] != RUN_QUEUED:
            return None
        if row["cancel_requested"]:
            await PlanRun.update({PlanRun.status: RUN_CANCELLED, PlanRun.finished_at: utc_now()}).where(PlanRun.id == run_id)
            return None
        now = utc_now()
        await PlanRun.update({PlanRun.status: RUN_RUNNING, PlanRun.started_at: now, PlanRun.heartbeat_at: now}).where(
            PlanRun.id == run_id)
        return row


async def _finish(run_id: int, values: dict) -> None:
    """The final state, written only if the run is still ours (not failed as stale meanwhile)."""
    values[PlanRun.finished_at] = utc_now()
    await PlanRun.update(values).where((PlanRun.id == run_id) & (PlanRun.status == RUN_RUNNING))


async def _cancel_requested(run_id: int) -> bool:
    state = await PlanRun.select(PlanRun.cancel_requested, PlanRun.status).where(PlanRun.id == run_id).first()
    return state is None or state["cancel_requested"] or state["status"] != RUN_RUNNING


async def _with_heartbeat(run_id: int, work):
    """Await ``work`` while keeping the run's heartbeat fresh, so a slow load is not taken for a dead worker."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=PROGRESS_INTERVAL_S)
        if done:
            return task.result()
        await PlanRun.update({PlanRun.heartbeat_at: utc_now()}).where((PlanRun.id == run_id) & (PlanRun.status == RUN_RUNNING))


async def execute_run(run_id: int) -> str | None:
    """Run one queued run to its end; returns its final status (None if it was not ours to run)."""
    row = await _claim(run_id)
    if row is None:
        return None
    scope = scope_from_text(row["period_start"], row["period_end"], row["grid_ids"])
    try:
        loaded = await _with_heartbeat(run_id, load_problem(scope, parent_run_id=row["parent_run"],
                                                             stability=row["stability"]))
    except ProblemError as error:
        await _finish(run_id, {PlanRun.status: RUN_FAILED, PlanRun.error: str(error)})
        return RUN_FAILED
    if await _cancel_requested(run_id):  # cancelled while the problem loaded: no solve at all
        await _finish(run_id, {PlanRun.status: RUN_CANCELLED})
        return RUN_CANCELLED

    stop = threading.Event()
    updates: list[Progress] = []  # appended by the solver thread, read here (list.append is atomic)

    options = SolveOptions(method="cpsat", time_limit_s=float(row["time_limit_s"]),
                           workers=get_settings().solver_workers, seed=0, relative_gap=RELATIVE_GAP,
                           progress=updates.append, stop=stop)
    solving = asyncio.ensure_future(asyncio.to_thread(solve, loaded.problem, options))
    created_at = row["created_at"]
    written = 0
    cancelled = False
    while True:
        done, _ = await asyncio.wait({solving}, timeout=PROGRESS_INTERVAL_S)
        values: dict = {PlanRun.heartbeat_at: utc_now()}
        if len(updates) > written:
            latest = updates[-1]
            values.update({
                PlanRun.progress_objective: latest.objective, PlanRun.progress_bound: latest.bound,
                PlanRun.progress_coverage_min: latest.coverage_min, PlanRun.progress_elapsed_s: latest.elapsed_s,
                PlanRun.progress_updates: len(updates),
            })
            if written == 0:
                values[PlanRun.first_progress_s] = (utc_now() - created_at).total_seconds()
            written = len(updates)
        await PlanRun.update(values).where((PlanRun.id == run_id) & (PlanRun.status == RUN_RUNNING))
        if done:
            break
        if not stop.is_set() and await _cancel_requested(run_id):
            cancelled = True
            stop.set()
    try:
        result = solving.result()
    except ProblemError as error:
        await _finish(run_id, {PlanRun.status: RUN_FAILED, PlanRun.error: str(error)})
        return RUN_FAILED
    except Exception:  # noqa: BLE001 - the run must end failed, not stay "running"
        log.exception("run %s failed", run_id)
        await _finish(run_id, {PlanRun.status: RUN_FAILED, PlanRun.error: "internal_error"})
        return RUN_FAILED
    if cancelled:
        await _finish(run_id, {PlanRun.status: RUN_CANCELLED})
        return RUN_CANCELLED

    proposals = []
    for assignment in result.assignments:
        pair = (int(assignment.shift_id), int(assignment.volunteer_id))
        origin = loaded.fixed_origin.get(pair, ORIGIN_SOLVER)
        proposals.append(PlanProposal(run=run_id, shift=pair[0], volunteer=pair[1], origin=origin,
                                      locked=origin in ("locked", "manual")))
    shortfalls = [
        PlanShortfall(run=run_id, shift=int(s.shift_id), filled=s.filled, seats_min=s.min_seats,
                      seats_ideal=s.ideal_seats, eligible=s.eligible, reasons=s.reasons,
                      lead_missing=",".join(s.lead_missing))
        for s in result.shortfalls
    ]
    stats = {key: value for key, value in result.stats.items() if isinstance(value, (int, float))}
    stats.update({"build_s": result.build_s, "first_solution_s": result.first_solution_s, "wall_s": result.wall_s,
                  "solutions_found": result.solutions_found, **{f"note_{k}": v for k, v in loaded.notes.items()}})
    async with write_transaction():
        current = await for_update(PlanRun.select(PlanRun.status, PlanRun.cancel_requested).where(
            PlanRun.id == run_id)).first()
        if current is None or current["status"] != RUN_RUNNING:
            return current["status"] if current else None
        if current["cancel_requested"]:  # asked after the solver's last look: cancelled all the same
            await _finish(run_id, {PlanRun.status: RUN_CANCELLED})
            return RUN_CANCELLED
        for start in range(0, len(proposals), INSERT_CHUNK):
            await PlanProposal.insert(*proposals[start:start + INSERT_CHUNK])
        for start in range(0, len(shortfalls), INSERT_CHUNK):
            await PlanShortfall.insert(*shortfalls[start:start + INSERT_CHUNK])
        await _finish(run_id, {
            PlanRun.status: RUN_SUCCEEDED, PlanRun.solver_status: result.status, PlanRun.objective: result.objective,
            PlanRun.bound: result.bound, PlanRun.gap: result.gap, PlanRun.coverage_min: result.coverage_min,
            PlanRun.coverage_ideal: result.coverage_ideal, PlanRun.objective_terms: result.objective_terms,
            PlanRun.stats: stats, PlanRun.input_signature: loaded.signature,
        })
    log.info("run %s: %s objective=%s gap=%s in %.1f s", run_id, result.status, result.objective, result.gap,
             result.wall_s)
    return RUN_SUCCEEDED
