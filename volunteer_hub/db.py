"""The database engine and the transaction helpers every service uses.

SQLite serialises writers: a transaction that reads and then writes (seats left, a points balance)
starts IMMEDIATE so it holds the write lock from its first statement, instead of failing with
"database is locked" when it tries to upgrade. PostgreSQL gets row locks (SELECT ... FOR UPDATE)
on the row that guards the rule (the shift, the volunteer's balance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

    from volunteer_hub.settings import Settings

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def engine() -> Engine:
    from piccolo.conf.apps import Finder  # late: the configuration module builds the engine

    found = Finder().get_engine()
    assert found is not None, "PICCOLO_CONF names no engine"
    return found


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def write_transaction() -> Any:
    """A transaction for read-then-write rules: IMMEDIATE on SQLite, ordinary on PostgreSQL."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def for_update(query: Any) -> Any:
    """Lock the selected rows until the transaction ends (PostgreSQL); SQLite's IMMEDIATE
    transaction already excludes other writers, and it has no FOR UPDATE."""
    if is_sqlite():
        return query
    return query.lock_rows()


async def start() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)
    else:
        # WAL lets readers go on while one writer commits; it is a property of the file, set once.
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


def is_unique_violation(error: BaseException) -> bool:
    """True when a database error says a unique constraint or index was broken (both engines)."""
    import sqlite3

    import asyncpg

    if isinstance(error, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


def index_migration(migration_id: str, description: str, indexes: dict[str, str], then: Any = None) -> Any:
    """The migration manager of a raw migration that creates indexes (multi-column unique ones, which
    SQLite cannot add as constraints) and drops them going backwards; ``then`` runs after creating."""
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.engine import engine_finder

    manager = MigrationManager(migration_id=migration_id, app_name="volunteer_hub", description=description)

    async def create() -> None:
        for statement in indexes.values():
            await engine_finder().run_ddl(statement)
        if then is not None:
            await then()

    async def drop() -> None:
        for name in indexes:
            await engine_finder().run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
