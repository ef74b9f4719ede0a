"""One Jinja2 environment for every page, translating through the request's language."""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine as _Engine
from litestar.template.config import TemplateConfig

from volunteer_hub import i18n
from volunteer_hub.settings import ROOT

TEMPLATE_DIR = ROOT / "templates"


def pop_flashes(request) -> list[dict]:
    """Messages queued with ``litestar.plugins.flash.flash`` for the next page (none when the request
    never reached the session middleware, e.g. an unknown URL)."""
    session = request.scope.get("session")
    if isinstance(session, dict):
        return session.pop("_messages", [])
    return []


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update(
        get_locale=i18n.get_locale,
        locale_names=i18n.LOCALE_NAMES,
        pop_flashes=pop_flashes,
    )
    return environment


def template_config() -> TemplateConfig:
    return TemplateConfig(instance=_Engine.from_environment(build_environment()))
