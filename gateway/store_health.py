"""Whether the store answers, and how full it is, for `/metrics` (and so for the alerts).

Read in the background every few seconds, like the delivery queue's depth, so that a scrape
never waits on the store: a scrape during an outage still answers, with `cg_store_up 0`.
"""

from __future__ import annotations

import asyncio

from gateway.background import Repeating
from gateway.errors import StoreUnavailable
from gateway.store import Store

REFRESH_SECONDS = 5.0


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
