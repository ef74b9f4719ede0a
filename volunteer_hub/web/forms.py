"""Reading HTML form fields: text, numbers and lists, with the problems collected by field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from volunteer_hub.i18n import gettext as _


class FormReader:
    """Wraps a submitted form. Numbers that do not parse are recorded in ``errors`` and read as None,
    so the service's own validation can report every field in one answer."""

    def __init__(self, form: Any) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str:
        value = self.form.get(name)
        return str(value).strip() if value is not None else ""

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            self.errors[name] = _("Please give a whole number.")
            return None

    def number(self, name: str) -> float | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            self.errors[name] = _("Please give a number.")
            return None

    def date(self, name: str) -> dt.date | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = _("Dates are written as YYYY-MM-DD.")
            return None

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in ("1", "on", "true", "yes")

    def values(self, name: str) -> list[str]:
        if hasattr(self.form, "getall"):
            return [str(v).strip() for v in self.form.getall(name, []) if str(v).strip()]
        value = self.form.get(name)
        if value is None:
            return []
        return [str(v).strip() for v in (value if isinstance(value, list) else [value]) if str(v).strip()]

    def integers(self, name: str) -> list[int]:
        result = []
        for raw in self.values(name):
            try:
                result.append(int(raw))
            except ValueError:
                self.errors[name] = _("Please give a whole number.")
        return result

    def dates(self, name: str) -> list[dt.date]:
        result = []
        for raw in self.values(name):
            for part in raw.replace(",", " ").split():
                try:
                    result.append(dt.date.fromisoformat(part))
                except ValueError:
                    self.errors[name] = _("Dates are written as YYYY-MM-DD.")
        return result
