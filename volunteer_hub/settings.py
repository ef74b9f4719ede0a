"""All settings, read from the environment in one place.

DATABASE_URL       sqlite:///path or postgresql://user@host:port/db (default: SQLite file var/volunteer_hub.sqlite3)
SECRET_KEY         signs CSRF tokens and QR tokens; generated once into var/secret_key when not given
VOLUNTEER_HUB_ENV  development (default) or production: secure cookies, no debug pages
REDIS_URL          optional: sessions and login throttling in Redis, shared by several app processes
VOLUNTEER_HUB_VAR  optional: folder for the SQLite file, the secret key and file-backed sessions (default var/)
VOLUNTEER_HUB_TZ   the district's clock (default Asia/Shanghai); shift times are local times
CANCEL_CUTOFF_HOURS    a cancellation later than this before the shift is recorded as late (default 12)
PLANNING_HORIZON_DAYS  how far ahead requests and activities become dated shifts (default 35)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    environment: str
    redis_url: str | None
    var_dir: Path
    timezone: str = "Asia/Shanghai"
    cancel_cutoff_hours: float = 12.0
    planning_horizon_days: int = 35
    # A solver run whose worker has not reported for this long is marked failed (the worker died).
    plan_run_stale_s: float = 30.0
    solver_workers: int = 2
    # Argon2's cheapest parameters, for test suites only (hashing with the real ones takes ~0.1-0.2 s
    # per login); refused in production.
    fast_password_hashing: bool = False

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        if self.is_postgres:
            raise ValueError("not a SQLite database")
        return Path(self.database_url.removeprefix("sqlite:///"))


def _secret_key(var_dir: Path) -> str:
    """The SECRET_KEY variable, or a key generated once and kept in var/secret_key."""
    given = os.environ.get("SECRET_KEY")
    if given:
        return given
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Create with owner-only permissions; O_EXCL so two starting processes agree on one key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    var_dir = Path(os.environ.get("VOLUNTEER_HUB_VAR", ROOT / "var")).resolve()
    environment = os.environ.get("VOLUNTEER_HUB_ENV", "development").strip().lower()
    if environment not in ("development", "production"):
        raise ValueError(f"VOLUNTEER_HUB_ENV must be development or production, not {environment!r}")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'volunteer_hub.sqlite3'}"
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise ValueError("DATABASE_URL must start with sqlite:///, postgres:// or postgresql://")
    fast_password_hashing = os.environ.get("VOLUNTEER_HUB_FAST_PASSWORD_HASHING", "") == "1"
    if fast_password_hashing and environment == "production":
        raise ValueError("VOLUNTEER_HUB_FAST_PASSWORD_HASHING is for test suites; it is refused in production")
    return Settings(
        database_url=database_url,
        secret_key=_secret_key(var_dir),
        environment=environment,
        redis_url=os.environ.get("REDIS_URL") or None,
        var_dir=var_dir,
        timezone=os.environ.get("VOLUNTEER_HUB_TZ", "Asia/Shanghai"),
        cancel_cutoff_hours=float(os.environ.get("CANCEL_CUTOFF_HOURS", "12")),
        planning_horizon_days=int(os.environ.get("PLANNING_HORIZON_DAYS", "35")),
        plan_run_stale_s=float(os.environ.get("PLAN_RUN_STALE_SECONDS", "30")),
        solver_workers=int(os.environ.get("SOLVER_WORKERS", "2")),
        fast_password_hashing=fast_password_hashing,
    )
