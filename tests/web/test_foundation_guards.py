"""Every route of the app, walked: the guards on each handler say who may use it; anyone else is
refused (a stranger is sent to log in, a logged-in user of another role gets 403), and no
state-changing request gets through without a CSRF token. A new route without a guard, or a guard
this test cannot read, makes it fail until it is listed as public here."""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache

import httpx
import pytest
from shift_support import make_volunteer
from support import csrf_token, log_in, make_reference_data, make_staff, page_text, registration_form

from volunteer_hub.accounts.tables import ROLES, User
from volunteer_hub.app import create_app
from volunteer_hub.volunteers.tables import Volunteer

# Routes anyone may use without logging in: (method, path as the router spells it).
PUBLIC = {
    ("GET", "/"), ("POST", "/language"),
    ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
    ("GET", "/register"), ("POST", "/register"),
    ("GET", "/calendar/{token:str}"),  # the secret, revocable URL is the key
    ("POST", "/api/auth/login"), ("POST", "/api/auth/logout"), ("POST", "/api/volunteers"),
    ("GET", "/api/reference/grids"), ("GET", "/api/reference/units"),  # needed by the registration form
    ("GET", "/api/badges/{code:str}"), ("GET", "/api/badges/issuer"),  # Open Badges: verifiable by anyone
    ("GET", "/api/badges/assertions/{token:str}"),
}
PUBLIC_PREFIXES = ("/static/", "/schema")  # our own CSS; the OpenAPI schema
# State-changing routes that may be used without a CSRF token: none.
CSRF_EXEMPT: set[tuple[str, str]] = set()
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

DENIED = "您没有权限打开此页面。"
LOG_IN_FIRST = "请先登录。"
CSRF_REFUSED = "表单已过期或并非来自本站，请刷新页面后重试。"

_DUMMIES = {"int": "424242", "str": "dummy", "date": "2030-01-07", "path": "dummy"}


def _url(path: str) -> str:
    return re.sub(r"\{[^}:]+:([a-z]+)\}", lambda m: _DUMMIES[m.group(1)], path)


@lru_cache(maxsize=1)
def _routes() -> list[tuple[str, str, tuple[str, ...] | None]]:
    """(method, path, the roles the handler's guards admit, or None when it has no guard)."""
    found = []
    for route in create_app().routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                guards = [guard for layer in handler.ownership_layers for guard in (getattr(layer, "guards", None) or [])]
                allowed: set[str] | None = None
                for guard in guards:
                    roles = getattr(guard, "roles", None)
                    assert roles is not None, f"{method} {route.path}: guard {guard!r} does not say which roles it admits"
                    allowed = set(roles) if allowed is None else allowed & set(roles)
                found.append((method, route.path, tuple(sorted(allowed)) if allowed is not None else None))
    return found


def _public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def _message(response: httpx.Response, path: str) -> str:
    return response.json()["detail"] if path.startswith("/api") else page_text(response.text)


async def _as(client: httpx.AsyncClient, login: str, password: str) -> httpx.AsyncClient:
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    await log_in(other, login, password)
    return other


def test_every_route_is_guarded_or_listed_as_public():
    routes = _routes()
    assert len(routes) > 100  # the walk really found the app's routes
    unguarded = sorted(f"{method} {path}" for method, path, roles in routes if roles is None and not _public(method, path))
    assert unguarded == [], f"routes without a guard (add one, or list them in PUBLIC): {unguarded}"
    guarded_public = sorted(f"{method} {path}" for method, path, roles in routes if roles is not None
                            and (method, path) in PUBLIC)
    assert guarded_public == [], f"listed as public but guarded: {guarded_public}"
    assert all(set(roles) <= set(ROLES) and roles for _m, _p, roles in routes if roles is not None)


@pytest.mark.parametrize("who", ["anonymous", "volunteer", "staff"])
async def test_strangers_and_other_roles_are_refused_on_every_guarded_route(client, who):
    refs = await make_reference_data()
    await make_volunteer(refs["grid"].id, "13900000001")
    for role in ("coordinator", "manager", "admin"):
        await make_staff(f"the-{role}", role)
    anonymous = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    people = {"volunteer": await _as(client, "13900000001", "Secret2026pw")}
    for role in ("coordinator", "manager", "admin"):
        people[role] = await _as(client, f"the-{role}", "Staff2026pass")
    guarded = [(method, path, roles) for method, path, roles in _routes() if roles is not None]
    checked = {role: 0 for role in ("anonymous", *ROLES)}

    async def anonymous_is_sent_to_log_in(method: str, path: str) -> None:
        # With a valid CSRF token, so what refuses the request is the guard, not the CSRF check.
        answer = await anonymous.request(method, _url(path), headers={"x-csrftoken": await csrf_token(anonymous)})
        if path.startswith("/api"):
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.json()["detail"] == LOG_IN_FIRST
        else:
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/login?next=")
        checked["anonymous"] += 1

    async def is_refused(role: str, method: str, path: str) -> None:
        person = people[role]
        answer = await person.request(method, _url(path), headers={"x-csrftoken": await csrf_token(person)})
        assert answer.status_code == 403, (role, method, path, answer.status_code)
        assert DENIED in _message(answer, path), (role, method, path)
        checked[role] += 1

    try:
        await csrf_token(anonymous)
        for person in people.values():
            await csrf_token(person)
        # Strangers and volunteers on every guarded route; the staff roles (whose guards are the same
        # few role sets) on one route of each kind: role set, method, page or API.
        samples: dict[tuple, tuple[str, str]] = {}
        for method, path, roles in guarded:
            samples.setdefault((roles, method, path.startswith("/api")), (method, path))
        staff_checks = [(role, method, path) for (roles, _m, _a), (method, path) in samples.items()
                        for role in ("coordinator", "manager", "admin") if role not in roles]
        if who == "anonymous":
            await asyncio.gather(*(anonymous_is_sent_to_log_in(method, path) for method, path, _roles in guarded))
        elif who == "volunteer":
            await asyncio.gather(*(is_refused("volunteer", method, path) for method, path, roles in guarded
                                   if "volunteer" not in roles))
        else:
            await asyncio.gather(*(is_refused(role, method, path) for role, method, path in staff_checks))
    finally:
        for person in (anonymous, *people.values()):
            await person.aclose()
    if who == "anonymous":
        assert checked["anonymous"] == len(guarded) > 100
    elif who == "volunteer":
        assert checked["volunteer"] == sum(1 for _m, _p, roles in guarded if "volunteer" not in roles) > 50
    else:  # each staff role was really turned away somewhere
        assert all(checked[role] > 0 for role in ("coordinator", "manager", "admin")), checked


async def test_no_state_changing_route_works_without_a_csrf_token(client):
    refs = await make_reference_data()
    await make_staff("the-admin", "admin")
    # A logged-in admin whose browser holds the CSRF cookie, as a victim's would, but sends no token: the
    # guards would let most of these requests through, so only the CSRF check stands in the way.
    admin = await _as(client, "the-admin", "Staff2026pass")
    unsafe = [(method, path) for method, path, _roles in _routes() if method in UNSAFE]
    assert len(unsafe) > 50
    form = registration_form(refs["grid"].id)
    users_before = await User.count()

    async def is_refused(method: str, path: str) -> None:
        kwargs = {"json": form} if path.startswith("/api") else {"data": form}
        answer = await admin.request(method, _url(path), **kwargs)
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert CSRF_REFUSED in _message(answer, path), (method, path)

    try:
        await asyncio.gather(*(is_refused(method, path) for method, path in unsafe if (method, path) not in CSRF_EXEMPT))
        # The admin is still logged in: the refused logouts did not log them out.
        assert (await admin.get("/api/auth/me")).status_code == 200
        # The same registration with the token goes through, so the refusals above were the token's doing.
        with_token = await admin.post("/register", data={**form, "_csrf_token": await csrf_token(admin)})
        assert with_token.status_code == 303, page_text(with_token.text)[-300:]
    finally:
        await admin.aclose()
    assert await User.count() == users_before + 1 and await Volunteer.count() == 1
