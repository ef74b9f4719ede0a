"""The one Piccolo app: every table of every domain, migrations in the top-level migrations/."""

from piccolo.conf.apps import AppConfig

from volunteer_hub.accounts.tables import User
from volunteer_hub.reference.tables import Community, Grid, StreetOffice
from volunteer_hub.activities.tables import Activity
from volunteer_hub.attendance.tables import Attendance, AttendanceCorrection
from volunteer_hub.incentives.tables import BadgeGrant, IncentiveRules
from volunteer_hub.notifications.tables import Notification, OutboxMessage
from volunteer_hub.planning.tables import PlanProposal, PlanRun, PlanShortfall, PublishedVersion
from volunteer_hub.points.tables import GroupPeriodTotal, PointsBalance, PointsEntry, PointsPeriodTotal
from volunteer_hub.rewards.tables import Redemption, Reward
from volunteer_hub.schools.tables import BellSchedule, Crossing, EscortRequest, School, SchoolClosure, SchoolCoordinator
from volunteer_hub.shifts.tables import Assignment, Shift, TeamBooking
from volunteer_hub.settings import ROOT
from volunteer_hub.sites.tables import Site
from volunteer_hub.volunteers.tables import (
    AvailabilityWindow,
    PreferredKind,
    PreferredSchool,
    PreferredSite,
    UnavailableDate,
    Unit,
    Volunteer,
    VolunteerSkill,
)

APP_CONFIG = AppConfig(
    app_name="volunteer_hub",
    migrations_folder_path=ROOT / "migrations",
    table_classes=[
        User,
        StreetOffice,
        Community,
        Grid,
        School,
        Site,
        Unit,
        Volunteer,
        VolunteerSkill,
        AvailabilityWindow,
        UnavailableDate,
        PreferredKind,
        PreferredSchool,
        PreferredSite,
        SchoolCoordinator,
        Crossing,
        BellSchedule,
        SchoolClosure,
        EscortRequest,
        Activity,
        Shift,
        Assignment,
        TeamBooking,
        Notification,
        OutboxMessage,
        Attendance,
        AttendanceCorrection,
        PointsEntry,
        PointsBalance,
        PointsPeriodTotal,
        GroupPeriodTotal,
        IncentiveRules,
        BadgeGrant,
        Reward,
        Redemption,
        PlanRun,
        PlanProposal,
        PlanShortfall,
        PublishedVersion,
    ],
)
