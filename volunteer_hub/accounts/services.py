"""Accounts: creating users, logging in, staff accounts made by admins and managers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from volunteer_hub.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from volunteer_hub.accounts.tables import (
    ROLE_ADMIN,
    ROLE_COORDINATOR,
    ROLE_MANAGER,
    ROLES,
    STAFF_ROLES,
    User,
)
from volunteer_hub.accounts.throttle import LoginThrottle
from volunteer_hub.db import is_unique_violation
from volunteer_hub.errors import Conflict, Forbidden, TooManyAttempts, ValidationFailed
from volunteer_hub.i18n import SUPPORTED_LOCALES
from volunteer_hub.i18n import gettext as _

STAFF_LOGIN_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")

# Who may create which staff accounts.
CREATABLE_ROLES = {
    ROLE_ADMIN: (ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN),
    ROLE_MANAGER: (ROLE_COORDINATOR, ROLE_MANAGER),
}


def role_label(role: str) -> str:
    labels = {
        "volunteer": _("Volunteer"),
        "coordinator": _("School coordinator"),
        "manager": _("Association manager"),
        "admin": _("Administrator"),
    }
    return labels.get(role, role)


async def find_by_login(login: str) -> User | None:
    return await User.objects().where(User.login == login).first()


async def create_user(*, login: str, password: str, role: str, display_name: str, locale: str = "zh_CN") -> User:
    """Insert one account. The caller validated the fields and runs this in its transaction."""
    assert role in ROLES
    user = User(
        login=login,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        locale=locale if locale in SUPPORTED_LOCALES else "zh_CN",
    )
    try:
        await user.save()
    except Exception as error:
        if is_unique_violation(error):  # two requests raced past the existence check
            raise Conflict(_("This phone number or user name is already registered.")) from error
        raise
    return user


@dataclass
class StaffAccountInput:
    login: str
    password: str
    role: str
    display_name: str


async def create_staff_account(actor: User, data: StaffAccountInput) -> User:
    allowed = CREATABLE_ROLES.get(actor.role, ())
    if data.role not in STAFF_ROLES:
        raise ValidationFailed(_("Please check the form."), {"role": _("Unknown role.")})
    if data.role not in allowed:
        raise Forbidden(_("You may not create accounts with this role."))
    login = data.login.strip()
    display_name = data.display_name.strip()
    errors: dict[str, str] = {}
    if not STAFF_LOGIN_PATTERN.match(login):
        errors["login"] = _("A user name has 3 to 32 letters, digits, dots, dashes or underscores, starting with a letter.")
    if not display_name or len(display_name) > 100:
        errors["display_name"] = _("Please give a name of at most 100 characters.")
    problem = password_problem(data.password, login)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    if await find_by_login(login):
        raise Conflict(_("This user name is taken."), {"login": _("This user name is taken.")})
    return await create_user(login=login, password=data.password, role=data.role, display_name=display_name)


async def list_staff() -> list[User]:
    return await User.objects().where(User.role.is_in(list(STAFF_ROLES))).order_by(User.role).order_by(User.login)


async def authenticate(login: str, password: str, address: str, throttle: LoginThrottle) -> User:
    """The user for these credentials. A failure never says whether the login exists."""
    login = login.strip()
    # The login's attempt is counted before the password is checked: parallel guesses cannot outrun the limit.
    if not await throttle.begin_attempt(login, address):
        raise TooManyAttempts(_("Too many failed attempts. Please wait 15 minutes and try again."))
    user = await find_by_login(login) if login else None
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.is_active:
        await throttle.failed(address)
        raise ValidationFailed(_("Wrong phone number / user name or password."))
    await throttle.succeeded(login)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        await user.save([User.password_hash])
    return user


async def set_locale(user: User, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ValidationFailed(_("Unknown language."))
    await User.update({User.locale: locale}).where(User.id == user.id)


async def create_admin(login: str, password: str, display_name: str) -> User:
    """For the command line: the first administrator."""
    errors = {}
    if not STAFF_LOGIN_PATTERN.match(login):
        errors["login"] = _("A user name has 3 to 32 letters, digits, dots, dashes or underscores, starting with a letter.")
    problem = password_problem(password, login)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(_("Please check the form."), errors)
    if await find_by_login(login):
        raise Conflict(_("This user name is taken."))
    return await create_user(login=login, password=password, role=ROLE_ADMIN, display_name=display_name or login)
