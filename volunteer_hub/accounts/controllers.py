"""Log in and out (pages and API); staff accounts made by admins and managers."""

from __future__ import annotations

import msgspec
from litestar.params import FromQuery, JSONBody
from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from volunteer_hub.accounts import services
from volunteer_hub.accounts.tables import ROLE_ADMIN, ROLE_MANAGER, User
from volunteer_hub.accounts.throttle import LoginThrottle
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.web.auth import current_user, log_in, log_out, login_required, roles_required
from volunteer_hub.web.forms import FormReader
from volunteer_hub.web.pages import form_failed, render, safe_next

THROTTLE_STORE = "login_throttle"


def _throttle(request: Request) -> LoginThrottle:
    store: Store = request.app.stores.get(THROTTLE_STORE)
    return LoginThrottle(store)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def home_for(user: User) -> str:
    return {"volunteer": "/profile", "coordinator": "/", "manager": "/staff/accounts", "admin": "/staff/accounts"}.get(
        user.role, "/"
    )


class LoginPages(Controller):
    include_in_schema = False

    @get("/login", name="login")
    async def login_form(self, request: Request, next: FromQuery[str | None] = None) -> Template:  # noqa: A002
        return render(request, "accounts/login.html", values={"next": safe_next(next, "")})

    @post("/login")
    async def login(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        values = {"login": form.text("login"), "next": safe_next(form.text("next"), "")}
        try:
            user = await services.authenticate(form.text("login"), form.text("password"), _address(request),
                                               _throttle(request))
        except ValidationFailed as error:
            return form_failed(request, "accounts/login.html", error, values=values)
        log_in(request, user)
        flash(request, _("Welcome, %(name)s.", name=user.display_name), category="success")
        return Redirect(path=values["next"] or home_for(user), status_code=303)

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        log_out(request)
        return Redirect(path="/", status_code=303)


class StaffAccountPages(Controller):
    path = "/staff/accounts"
    include_in_schema = False
    guards = [roles_required(ROLE_MANAGER, ROLE_ADMIN)]

    async def _page(self, request: Request, status_code: int = 200, **context) -> Template:
        actor = current_user(request)
        return render(
            request,
            "accounts/staff.html",
            status_code=status_code,
            accounts=await services.list_staff(),
            creatable_roles=[(role, services.role_label(role)) for role in services.CREATABLE_ROLES[actor.role]],
            **context,
        )

    @get("/", name="staff_accounts")
    async def list_accounts(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def create_account(self, request: Request) -> Template | Redirect:
        form = FormReader(await request.form())
        data = services.StaffAccountInput(
            login=form.text("login"), password=form.text("password"), role=form.text("role"),
            display_name=form.text("display_name"),
        )
        try:
            user = await services.create_staff_account(current_user(request), data)
        except ValidationFailed as error:
            values = {"login": data.login, "role": data.role, "display_name": data.display_name}
            return await self._page(request, status_code=error.status_code, message=error.message,
                                    errors=error.field_errors, values=values)
        flash(request, _("Account %(login)s created.", login=user.login), category="success")
        return Redirect(path="/staff/accounts", status_code=303)


# ---------------------------------------------------------------------------------------- API


class LoginBody(msgspec.Struct):
    login: str
    password: str


class AccountOut(msgspec.Struct):
    id: int
    login: str
    role: str
    display_name: str
    locale: str


class StaffAccountBody(msgspec.Struct):
    login: str
    password: str
    role: str
    display_name: str


def account_out(user: User) -> AccountOut:
    return AccountOut(id=user.id, login=user.login, role=user.role, display_name=user.display_name, locale=user.locale)


class AuthApi(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/login", status_code=200, summary="Log in; the session cookie is renewed")
    async def login(self, request: Request, data: JSONBody[LoginBody]) -> AccountOut:
        user = await services.authenticate(data.login, data.password, _address(request), _throttle(request))
        log_in(request, user)
        return account_out(user)

    @post("/logout", status_code=200, summary="Log out")
    async def logout(self, request: Request) -> dict[str, bool]:
        log_out(request)
        return {"ok": True}

    @get("/me", guards=[login_required], summary="The logged-in account")
    async def me(self, request: Request) -> AccountOut:
        return account_out(current_user(request))


class StaffAccountApi(Controller):
    path = "/api/staff/accounts"
    tags = ["accounts"]
    guards = [roles_required(ROLE_MANAGER, ROLE_ADMIN)]

    @get("/", summary="Staff accounts (coordinators, managers, admins)")
    async def list_accounts(self) -> list[AccountOut]:
        return [account_out(user) for user in await services.list_staff()]

    @post("/", summary="Create a coordinator or manager account (admins may create admins)")
    async def create_account(self, request: Request, data: JSONBody[StaffAccountBody]) -> AccountOut:
        user = await services.create_staff_account(
            current_user(request),
            services.StaffAccountInput(login=data.login, password=data.password, role=data.role,
                                       display_name=data.display_name),
        )
        return account_out(user)
