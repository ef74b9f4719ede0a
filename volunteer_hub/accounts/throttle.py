"""Login throttling: after repeated failures, further attempts for that login or from that
address are refused for a while. Counts live in a Litestar store (file-backed by default, Redis
when REDIS_URL is set) so they survive a restart and several app processes share them (Redis).

Every attempt is counted *before* the password is checked, with an atomic increment (Redis INCRBY
in a transaction; otherwise a lock per store, which serialises the read-then-write within the one
app process that uses a file store). So simultaneous attempts are never undercounted, and a burst of
parallel guesses cannot all slip past the limit before the first failure is written. A refused
attempt is taken back (it does not prolong the lock-out); a success clears the login's count and
takes its attempt back from the address's count."""

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


async def add(store: Store, key: str, delta: int, expires_in: int = LOCKOUT_SECONDS) -> int:
    """Add ``delta`` to the count under ``key`` (missing counts as 0) in one atomic step; the new count."""
    from litestar.stores.redis import RedisStore

    if isinstance(store, RedisStore):
        async with store._redis.pipeline(transaction=True) as pipe:  # MULTI ... EXEC
            pipe.incrby(store._make_key(key), delta)
            pipe.expire(store._make_key(key), expires_in)
            count, _ = await pipe.execute()
        return int(count)
    async with _lock_for(store):
        value = await store.get(key)
        count = (int(value) if value is not None else 0) + delta
        await store.set(key, str(count), expires_in=expires_in)
        return count


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _keys(login: str, address: str) -> list[tuple[str, int]]:
        return [(f"login:{login}", MAX_FAILURES_PER_LOGIN), (f"address:{address}", MAX_FAILURES_PER_ADDRESS)]

    async def count(self, key: str) -> int:
        value = await self.store.get(key)
        return int(value) if value is not None else 0

    async def begin_attempt(self, login: str, address: str) -> bool:
        """Count one attempt for this login and this address; False (and nothing counted) when either
        has already used up its failures."""
        counted: list[str] = []
        allowed = True
        for key, limit in self._keys(login, address):
            counted.append(key)
            if await add(self.store, key, 1) > limit:
                allowed = False
                break
        if not allowed:
            for key in counted:
                await add(self.store, key, -1)
        return allowed

    async def succeeded(self, login: str, address: str) -> None:
        """The attempt was right: the login starts afresh and the address gets its attempt back."""
        await self.store.delete(f"login:{login}")
        await add(self.store, f"address:{address}", -1)

    async def is_locked(self, login: str, address: str) -> bool:
        for key, limit in self._keys(login, address):
            if await self.count(key) >= limit:
                return True
        return False
