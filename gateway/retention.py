"""Retention: what has outlived its retention period is deleted, in-process, every so often.

Events (email opens and clicks) and the daily counters are kept `event_retention_days`
(13 months by default), receipts `receipt_retention_days` (5 years). On Redis every key
already carries its expiry; `Retention.purge` removes what expiry cannot reach. On SQLite the purge
does all of it. One instance purges per period: the run takes a lease in the store first, so
many workers or instances do not repeat the work. `consent-gateway purge` runs it by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from gateway.background import Repeating
from gateway.store.base import Store

log = logging.getLogger("gateway.retention")

LEASE = "purge"


class PeriodicPurge:
    """Runs `store.retention.purge(now)` every `interval_seconds` (0: never) in a background task."""

    def __init__(
        self, store: Store, interval_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.interval_seconds, self.clock = store, interval_seconds, clock
        self.last_run: dict[str, int] | None = None
        self._purger = Repeating("retention-purge", interval_seconds, self.run_once, run_first=True)

    async def run_once(self) -> dict[str, int] | None:
        """Purge if no other instance did in this period; returns the counts, or None if the
        lease was held elsewhere."""
        now = self.clock()
        # A little shorter than the period, so the next run is not refused by its own lease.
        if not await self.store.shared.claim(LEASE, self.interval_seconds * 0.9, now):
            return None
        removed = await self.store.retention.purge(now)
        self.last_run = removed
        if any(removed.values()):
            log.info(
                "retention: purged %s", ", ".join(f"{n} {kind}" for kind, n in removed.items())
            )
        return removed

    async def start(self) -> None:
        if self.interval_seconds > 0:
            self._purger.start()  # a store outage waits for the next period

    async def close(self) -> None:
        await self._purger.stop()
