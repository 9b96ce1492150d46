"""Whether the store answers, and how full it is, for `/metrics` (and so for the alerts).

Read in the background every few seconds, like the delivery queue's depth, so that a scrape
never waits on the store: a scrape during an outage still answers, with `cg_store_up 0`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gateway.background import Repeating
from gateway.errors import StoreUnavailable
from gateway.store import Store

REFRESH_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store itself as a reader of its health sees it: its name, whether it answers
    (`ping`) and how full it is (`usage`) — and none of its facets, so what is given this
    reaches no receipt, right or shared state through it (the dashboard is).

    >>> from gateway.settings import Settings
    >>> from gateway.store import open_store
    >>> status = StoreStatus.of(open_store(Settings()))
    >>> status.name, hasattr(status, "rights")
    ('sqlite', False)
    """

    name: str
    ping: Callable[[], Awaitable[None]]  # raises `StoreUnavailable` when it does not answer
    usage: Callable[[], Awaitable[dict[str, int]]]  # used_bytes, limit_bytes (0: no limit)

    @classmethod
    def of(cls, store: Store) -> StoreStatus:
        return cls(store.name, store.ping, store.usage)


class StoreHealth:
    """The latest reading: `up` (None until the first round), used and limit bytes."""

    def __init__(
        self, store: Store, timeout_seconds: float, seconds: float = REFRESH_SECONDS
    ) -> None:
        self.store, self.timeout_seconds = store, timeout_seconds
        self.up: bool | None = None
        self.used_bytes = 0
        self.limit_bytes = 0  # 0: the store has no limit set (SQLite, Redis without maxmemory)
        self._refresher = Repeating("store-health", seconds, self.refresh, run_first=True)

    async def refresh(self) -> None:
        try:
            await asyncio.wait_for(self.store.ping(), self.timeout_seconds)
            usage = await asyncio.wait_for(self.store.usage(), self.timeout_seconds)
        except (StoreUnavailable, TimeoutError):
            self.up = False
            return
        self.up = True
        self.used_bytes, self.limit_bytes = usage["used_bytes"], usage["limit_bytes"]

    def figures(self) -> dict[str, float]:
        """What `/metrics` shows: nothing before the first reading (no false alarm at start)."""
        if self.up is None:
            return {}
        return {
            "up": 1.0 if self.up else 0.0,
            "used_bytes": float(self.used_bytes),
            "limit_bytes": float(self.limit_bytes),
        }

    def start(self) -> None:
        self._refresher.start()

    async def stop(self) -> None:
        await self._refresher.stop()
