"""Wires the application: routes, sessions, CSRF, templates, languages, error pages."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.registry import StoreRegistry

from volunteer_hub import db
from volunteer_hub.accounts.controllers import THROTTLE_STORE, AuthApi, LoginPages, StaffAccountApi, StaffAccountPages
from volunteer_hub.reference.controllers import ReferenceApi, ReferencePages
from volunteer_hub.activities.controllers import ActivityApi, ActivityPages
from volunteer_hub.attendance.controllers import AttendanceApi, AttendancePages
from volunteer_hub.incentives.controllers import EvaluationPages, IncentiveApi, IncentivePages
from volunteer_hub.notifications.controllers import NotificationApi, NotificationPages
from volunteer_hub.planning.controllers import PlanningApi, PlanningPages
from volunteer_hub.rewards.controllers import RewardApi, RewardPages
from volunteer_hub.schools.controllers import EscortRequestPages, SchoolApi, SchoolPages
from volunteer_hub.shifts.controllers import ShiftApi, ShiftPages
from volunteer_hub.sites.controllers import SiteApi, SitePages
from volunteer_hub.settings import ROOT, Settings, get_settings
from volunteer_hub.volunteers.controllers import (
    AvailabilityPages,
    ProfilePages,
    RegistrationPages,
    VolunteerApi,
)
from volunteer_hub.web.auth import LocaleMiddleware, RenewingSessionConfig, SessionUserMiddleware
from volunteer_hub.web.errors import EXCEPTION_HANDLERS, internal_error_handler
from volunteer_hub.web.pages import HomeController
from volunteer_hub.web.templating import template_config

SESSION_STORE = "sessions"
SESSION_MAX_AGE = 14 * 24 * 3600


def _stores(settings: Settings) -> dict[str, Store]:
    """Sessions and login-failure counts: in Redis when REDIS_URL is set (several app processes share
    them), else in files under var/ (they survive a restart)."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        root = RedisStore.with_client(url=settings.redis_url, namespace="volunteer_hub")
        return {SESSION_STORE: root.with_namespace(SESSION_STORE), THROTTLE_STORE: root.with_namespace(THROTTLE_STORE)}
    return {
        SESSION_STORE: FileStore(settings.var_dir / "sessions", create_directories=True),
        THROTTLE_STORE: FileStore(settings.var_dir / "login_throttle", create_directories=True),
    }


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    session_config = RenewingSessionConfig(
        store=SESSION_STORE,
        max_age=SESSION_MAX_AGE,
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )
    csrf_config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.is_production,
        exclude=["/static"],
    )
    templates = template_config()
    handlers = {**EXCEPTION_HANDLERS}
    handlers[Exception] = internal_error_handler  # a page in the user's language, never a traceback
    return Litestar(
        route_handlers=[
            HomeController,
            LoginPages,
            StaffAccountPages,
            RegistrationPages,
            ProfilePages,
            AvailabilityPages,
            ReferencePages,
            SchoolPages,
            EscortRequestPages,
            SitePages,
            ActivityPages,
            ShiftPages,
            NotificationPages,
            AttendancePages,
            IncentivePages,
            EvaluationPages,
            RewardPages,
            PlanningPages,
            AuthApi,
            StaffAccountApi,
            VolunteerApi,
            ReferenceApi,
            SchoolApi,
            SiteApi,
            ActivityApi,
            ShiftApi,
            NotificationApi,
            AttendanceApi,
            IncentiveApi,
            RewardApi,
            PlanningApi,
            create_static_files_router(path="/static", directories=[ROOT / "static"], name="static"),
        ],
        middleware=[
            session_config.middleware,
            DefineMiddleware(SessionUserMiddleware, exclude=["^/static", "^/schema"]),
            LocaleMiddleware,
        ],
        csrf_config=csrf_config,
        stores=StoreRegistry(_stores(settings)),
        template_config=templates,
        exception_handlers=handlers,
        # The schema as JSON (also at /schema) and YAML only: Litestar's HTML viewers load scripts and
        # fonts from CDNs, which the app never does.
        openapi_config=OpenAPIConfig(title="Volunteer Hub API", version="0.1.0", path="/schema",
                                     render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()]),
        on_startup=[db.start],
        on_shutdown=[db.stop],
        debug=False,
    )
