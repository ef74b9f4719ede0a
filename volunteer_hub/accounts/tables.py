from piccolo.columns import Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ROLE_VOLUNTEER = "volunteer"
ROLE_COORDINATOR = "coordinator"
ROLE_MANAGER = "manager"
ROLE_ADMIN = "admin"
ROLES = (ROLE_VOLUNTEER, ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)
STAFF_ROLES = (ROLE_COORDINATOR, ROLE_MANAGER, ROLE_ADMIN)


class User(Table, tablename="app_user"):
    """An account. Volunteers log in with their mobile number; staff with a user name."""

    login = Varchar(length=64, unique=True)
    password_hash = Varchar(length=255)
    role = Varchar(length=20, index=True)
    display_name = Varchar(length=100)
    locale = Varchar(length=10, default="zh_CN")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
