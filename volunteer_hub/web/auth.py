"""Who is asking: the user behind the server-side session, the request's language, and guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from volunteer_hub import i18n
from volunteer_hub.accounts.tables import ROLES, User

SESSION_USER_KEY = "uid"
_RENEW_FLAG = "volunteer_hub.renew_session"
_NEW_ID = "volunteer_hub.new_session_id"


class RenewingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions whose id is replaced at login (against session fixation): the old
    id's data is deleted and the cookie carries a fresh id."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        if connection.scope.get(_RENEW_FLAG):
            if not connection.scope.get(_NEW_ID):
                connection.scope[_NEW_ID] = self.generate_session_id()  # type: ignore[typeddict-unknown-key]
            return connection.scope[_NEW_ID]  # type: ignore[typeddict-item]
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: Any, message: Message, connection: ASGIConnection) -> None:
        old_id = connection.cookies.get(self.config.key)
        if connection.scope.get(_RENEW_FLAG) and old_id:
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RenewingSessionConfig(ServerSideSessionConfig):
    _backend_class = RenewingSessionBackend  # type: ignore[assignment]


def log_in(connection: ASGIConnection, user: User) -> None:
    connection.scope[_RENEW_FLAG] = True  # type: ignore[typeddict-unknown-key]
    connection.set_session({SESSION_USER_KEY: user.id})


def log_out(connection: ASGIConnection) -> None:
    connection.clear_session()


UNREAD_KEY = "volunteer_hub_unread"


class SessionUserMiddleware(AbstractAuthenticationMiddleware):
    """Puts the logged-in user (or None) on every request; guards decide what needs a login."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        session = connection.scope.get("session") or {}
        user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
        user = None
        if user_id is not None:
            user = await User.objects().where((User.id == user_id) & (User.is_active == True)).first()  # noqa: E712
        if user is not None and not connection.scope["path"].startswith("/api"):
            from volunteer_hub.notifications.services import unread_count

            connection.scope[UNREAD_KEY] = await unread_count(user)  # type: ignore[literal-required]
        return AuthenticationResult(user=user, auth=None)


class LocaleMiddleware:
    """Sets the request's language: the user's saved choice, else the language cookie, else Chinese."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            user = scope.get("user")
            locale = getattr(user, "locale", None)
            if not locale:
                from litestar.connection import ASGIConnection as _Connection

                cookie = _Connection(scope).cookies.get(i18n.LANGUAGE_COOKIE)
                locale = i18n.normalise_locale(cookie)
            i18n.set_locale(locale or i18n.DEFAULT_LOCALE)
        await self.app(scope, receive, send)


def current_user(connection: ASGIConnection) -> User | None:
    return connection.scope.get("user")  # type: ignore[return-value]


def login_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise NotAuthorizedException()


login_required.roles = ROLES  # type: ignore[attr-defined] - who passes: read by the route-walking guard test


def roles_required(*roles: str):
    """A guard admitting only logged-in users with one of these roles."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException()
        if user.role not in roles:
            raise PermissionDeniedException()

    guard.__name__ = f"roles_required_{'_'.join(roles)}"
    guard.roles = tuple(roles)  # type: ignore[attr-defined]
    return guard
