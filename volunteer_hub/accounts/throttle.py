"""Login throttling: after repeated failures, further attempts for that login or from that
address are refused for a while. Counts live in a Litestar store (file-backed by default, Redis
when REDIS_URL is set) so several app processes share them."""

from __future__ import annotations

from litestar.stores.base import Store

MAX_FAILURES_PER_LOGIN = 5
MAX_FAILURES_PER_ADDRESS = 30
LOCKOUT_SECONDS = 15 * 60


class LoginThrottle:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _keys(login: str, address: str) -> list[tuple[str, int]]:
        return [(f"login:{login}", MAX_FAILURES_PER_LOGIN), (f"address:{address}", MAX_FAILURES_PER_ADDRESS)]

    async def is_locked(self, login: str, address: str) -> bool:
        for key, limit in self._keys(login, address):
            value = await self.store.get(key)
            if value is not None and int(value) >= limit:
                return True
        return False

    async def record_failure(self, login: str, address: str) -> None:
        for key, _limit in self._keys(login, address):
            value = await self.store.get(key)
            count = int(value) + 1 if value is not None else 1
            await self.store.set(key, str(count), expires_in=LOCKOUT_SECONDS)

    async def reset(self, login: str) -> None:
        await self.store.delete(f"login:{login}")
