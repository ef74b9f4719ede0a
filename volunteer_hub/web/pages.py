"""Rendering pages, and the pages that belong to no domain: home and language choice."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from litestar import Controller, Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from volunteer_hub import i18n
from volunteer_hub.accounts.services import role_label, set_locale
from volunteer_hub.errors import ValidationFailed
from volunteer_hub.i18n import gettext as _
from volunteer_hub.web.auth import UNREAD_KEY, current_user


def render(request: Request, template_name: str, status_code: int = 200, **context: Any) -> Template:
    user = current_user(request)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return Template(
        template_name=template_name,
        context={"user": user, "role_label": role_label(user.role) if user else "", "role_name": role_label,
                 "unread_count": request.scope.get(UNREAD_KEY, 0), **context},
        status_code=status_code,
    )


def form_failed(request: Request, template_name: str, error: ValidationFailed, **context: Any) -> Template:
    """The form again, with what was typed and why it was refused; nothing was stored."""
    return render(request, template_name, status_code=error.status_code, message=error.message,
                  errors=error.field_errors, **context)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: a login link must not send people to another site."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


class HomeController(Controller):
    @get("/", name="home", include_in_schema=False)
    async def home(self, request: Request) -> Template:
        return render(request, "home.html")

    @post("/language", name="language", include_in_schema=False)
    async def choose_language(self, request: Request) -> Redirect:
        form = await request.form()
        locale = i18n.normalise_locale(form.get("locale"))
        if locale is None:
            raise ValidationFailed(_("Unknown language."))
        user = current_user(request)
        if user is not None:
            await set_locale(user, locale)
        i18n.set_locale(locale)
        flash(request, _("Language changed."), category="info")
        response = Redirect(path=safe_next(form.get("next")), status_code=303)
        response.set_cookie(i18n.LANGUAGE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
        return response
