"""The job queue that carries solver runs from the web process to the worker (huey).

The queue lives where the data lives, so the embedded default needs nothing more: a SQLite file under
``var/`` beside the SQLite database, tables in the same PostgreSQL database when ``DATABASE_URL`` is
PostgreSQL (workers on other machines reach it), or Redis when ``REDIS_URL`` is set.
``python -m volunteer_hub worker`` runs the consumer; ``make run`` starts one beside the web server.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey

from volunteer_hub.settings import get_settings

QUEUE_NAME = "volunteer_hub"
# An idle worker looks for new runs at least this often (seconds): a manager waits at most this long
# before the run starts.
MAX_POLL_DELAY_S = 0.5


@lru_cache(maxsize=1)
def get_queue() -> Huey:
    settings = get_settings()
    if settings.redis_url:
        queue: Huey = RedisHuey(QUEUE_NAME, url=settings.redis_url)
    elif settings.is_postgres:
        queue = PostgresHuey(QUEUE_NAME, dsn=settings.database_url)
    else:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey(QUEUE_NAME, filename=str(settings.var_dir / "queue.sqlite3"))
    _TASKS["plan_run"] = queue.task(name="plan_run")(_plan_run_task)
    return queue


_TASKS: dict = {}


def _plan_run_task(run_id: int) -> None:
    from volunteer_hub import db
    from volunteer_hub.planning.worker import execute_run

    async def main() -> None:
        await db.start()
        try:
            await execute_run(run_id)
        finally:
            await db.stop()

    asyncio.run(main())


def enqueue_run(run_id: int) -> None:
    get_queue()
    _TASKS["plan_run"](run_id)


def run_worker(workers: int = 1) -> None:
    """The consumer, until interrupted. Each solve uses ``SOLVER_WORKERS`` threads of its own."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from volunteer_hub.planning.worker import fail_stale_runs_now

    asyncio.run(fail_stale_runs_now(queued=False))  # the queued ones are this worker's to take
    consumer = get_queue().create_consumer(workers=workers, worker_type="thread", periodic=False,
                                           initial_delay=0.1, backoff=1.15, max_delay=MAX_POLL_DELAY_S)
    consumer.run()
