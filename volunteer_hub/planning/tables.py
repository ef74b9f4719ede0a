"""Planning: solver runs, their proposed schedules, and the published versions of a period."""

from piccolo.columns import JSON, BigInt, Boolean, Date, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from volunteer_hub.accounts.tables import User
from volunteer_hub.shifts.tables import Shift
from volunteer_hub.volunteers.tables import Volunteer

RUN_QUEUED = "queued"
RUN_RUNNING = "running"
RUN_SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
RUN_CANCELLED = "cancelled"
ACTIVE_RUN_STATES = (RUN_QUEUED, RUN_RUNNING)

# Where a proposed assignment comes from: a volunteer's own sign-up, a manager's lock on the
# published schedule, the solver, or a manager adding it by hand on the preview.
ORIGIN_SELF = "self"
ORIGIN_LOCKED = "locked"
ORIGIN_SOLVER = "solver"
ORIGIN_MANUAL = "manual"


class PlanRun(Table):
    """One solver run for a period and scope. The worker writes its progress here; the proposal
    and the shortfalls it finds go to PlanProposal and PlanShortfall."""

    period_start = Date()
    period_end = Date()  # inclusive
    grid_ids = Varchar(length=400, default="")  # "3,7,9"; empty: the whole district
    scope_key = Varchar(length=460, index=True)  # period and grids, one run at a time per key
    status = Varchar(length=20, default=RUN_QUEUED)
    time_limit_s = Integer(default=60)
    stability = Boolean(default=False)  # re-solve: as few changes to the published schedule as possible
    parent_run = Integer(null=True, default=None)  # the run whose locks and hand-made rows a re-solve kept
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    heartbeat_at = Timestamptz(null=True, default=None)
    cancel_requested = Boolean(default=False)
    # the latest progress the worker reported
    progress_objective = DoublePrecision(null=True, default=None)
    progress_bound = DoublePrecision(null=True, default=None)
    progress_coverage_min = DoublePrecision(null=True, default=None)
    progress_elapsed_s = DoublePrecision(null=True, default=None)
    progress_updates = Integer(default=0)
    first_progress_s = DoublePrecision(null=True, default=None)  # from the start request to the first update
    # the result
    solver_status = Varchar(length=30, default="")
    objective = BigInt(null=True, default=None)
    bound = DoublePrecision(null=True, default=None)
    gap = DoublePrecision(null=True, default=None)
    coverage_min = DoublePrecision(null=True, default=None)
    coverage_ideal = DoublePrecision(null=True, default=None)
    objective_terms = JSON(default="{}")
    stats = JSON(default="{}")
    input_signature = Varchar(length=64, default="")
    error = Text(default="")
    published_at = Timestamptz(null=True, default=None)


class PlanProposal(Table):
    """One assignment of a run's proposed schedule. Managers lock, remove or add rows on the preview;
    a re-solve keeps the locked ones."""

    run = ForeignKey(PlanRun, on_delete=OnDelete.cascade, index=True)
    shift = ForeignKey(Shift, on_delete=OnDelete.cascade)
    volunteer = ForeignKey(Volunteer, on_delete=OnDelete.cascade)
    origin = Varchar(length=10)
    locked = Boolean(default=False)
    override = Text(default="")  # the hard rule a manager chose to break when adding it by hand


class PlanShortfall(Table):
    """A shift the run left below its ideal seats, and why the other volunteers are not on it."""

    run = ForeignKey(PlanRun, on_delete=OnDelete.cascade, index=True)
    shift = ForeignKey(Shift, on_delete=OnDelete.cascade)
    filled = Integer()
    seats_min = Integer()
    seats_ideal = Integer()
    eligible = Integer()
    reasons = JSON(default="{}")
    lead_missing = Varchar(length=200, default="")


class PublishedVersion(Table):
    """A publication of a period's planned (solver-made and hand-made) assignments, kept so that a
    manager can see who published what and go back to it."""

    scope_key = Varchar(length=460, index=True)
    period_start = Date()
    period_end = Date()
    grid_ids = Varchar(length=400, default="")
    number = Integer()
    run = ForeignKey(PlanRun, on_delete=OnDelete.set_null, null=True)
    restored_version = Integer(null=True, default=None)  # a roll-back: the number it went back to
    published_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True)
    published_at = Timestamptz(default=TimestamptzNow())
    added = Integer(default=0)
    removed = Integer(default=0)
    moved = Integer(default=0)
    # [[shift_id, volunteer_id, locked, source], ...]: the planned assignments of the scope after
    # publishing (source "solver" or "manual"; versions published before it was kept have three columns)
    snapshot = JSON(default="[]")
