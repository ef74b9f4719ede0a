"""Login throttling: after repeated failures, further attempts for that login or from that
address are refused for a while. Counts live in a Litestar store (file-backed by default, Redis
when REDIS_URL is set) so they survive a restart and several app processes share them (Redis).

Counts move by atomic increments (Redis INCRBY in a transaction; otherwise a lock per store, which
serialises the read-then-write within the one app process that uses a file store), so simultaneous
failures are never undercounted. A login's attempts are counted *before* the password is checked,
so a burst of parallel guesses at one account cannot slip past its limit before the first failure
is written; a success clears them. An address counts failures only (many people behind one address
may log in at once), after the password check, so a burst of parallel guesses at many logins from one
address can pass its limit by the size of the burst; each login stays capped at its own limit."""

from __future__ import annotations

import asyncio
import weakref

from litestar.stores.base import Store

MAX_FAILURES_PER_LOGIN = 5
MAX_FAILURES_PER_ADDRESS = 30
LOCKOUT_SECONDS = 15 * 60

# One lock per store and event loop (stores use __slots__, so they are named by their folder or id).
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[object, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _lock_for(store: Store) -> asyncio.Lock:
    name = str(getattr(store, "path", "")) or id(store)
    return _locks.setdefault(asyncio.get_running_loop(), {}).setdefault(name, asyncio.Lock())


async def add(store: Store, key: str, delta: int) -> int:
    """Add ``delta`` to the count under ``key`` (missing counts as 0) in one atomic step; the new count.
    A count expires LOCKOUT_SECONDS after it was first made; later changes never move that, so a
    lock-out ends when its message says however often someone retries."""
    from litestar.stores.redis import RedisStore

    if isinstance(store, RedisStore):
        async with store._redis.pipeline(transaction=True) as pipe:  # MULTI ... EXEC
            pipe.incrby(store._make_key(key), delta)
            pipe.expire(store._make_key(key), LOCKOUT_SECONDS, nx=True)  # only a new count gets an expiry
            count = (await pipe.execute())[0]
        return int(count)
    async with _lock_for(store):
        value = await store.get(key)
        count = (int(value) if value is not None else 0) + delta
        remaining = await store.expires_in(key) if value is not None else None
        await store.set(key, str(count), expires_in=remaining or LOCKOUT_SECONDS)
        return count


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def count(self, key: str) -> int:
        value = await self.store.get(key)
        return int(value) if value is not None else 0

    async def begin_attempt(self, login: str, address: str) -> bool:
        """False when this address has failed too often, or this login has used up its attempts.
        Otherwise the attempt is counted for the login straight away (before the password is checked),
        so parallel guesses at one account cannot outrun its limit."""
        if await self.count(f"address:{address}") >= MAX_FAILURES_PER_ADDRESS:
            return False
        if await add(self.store, f"login:{login}", 1) > MAX_FAILURES_PER_LOGIN:
            await add(self.store, f"login:{login}", -1)  # a refused attempt is not counted
            return False
        return True

    async def failed(self, address: str) -> None:
        """The attempt was wrong: it counts against the address too (the login counted it already)."""
        await add(self.store, f"address:{address}", 1)

    async def succeeded(self, login: str) -> None:
        """The attempt was right: the login starts afresh."""
        await self.store.delete(f"login:{login}")
