"""Password hashing with argon2-cffi (Argon2id, the library's recommended parameters; its cheapest
ones when a test suite asks through VOLUNTEER_HUB_FAST_PASSWORD_HASHING)."""

from __future__ import annotations

import re

from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from volunteer_hub.i18n import gettext as _
from volunteer_hub.settings import get_settings

MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    if get_settings().fast_password_hashing:
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so a failed login costs the same time either way."""
    return _hasher().hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str, login: str = "") -> str | None:
    """Why a password is too weak, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > 128:
        return _("The password may have at most 128 characters.")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return _("The password needs both letters and digits.")
    if login and login in password:
        return _("The password must not contain your phone number or user name.")
    return None
