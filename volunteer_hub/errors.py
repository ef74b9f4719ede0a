"""Errors the services raise; the web layer turns them into 4xx answers in the user's language.

Every message is already translated (services call ``gettext`` in the request's context).
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    """Input breaks a rule; ``field_errors`` says which field and why."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The request clashes with what is stored (a duplicate phone number, a full shift)."""

    status_code = 409


class Forbidden(DomainError):
    status_code = 403


class TooManyAttempts(DomainError):
    status_code = 429
