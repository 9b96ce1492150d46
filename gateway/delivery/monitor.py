"""Delivery figures per vendor for `/readyz`, `/metrics` and the dashboard.

Queue depth and the oldest hit's age come from the store (shared by every process), read in
the background every few seconds so a scrape never waits on the store; the counters are this
process's: what its edge queued or refused, what its delivery worker did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Protocol

from gateway.background import Repeating
from gateway.delivery.edge_counts import EdgeCounts
from gateway.delivery.queue import HitQueue, QueueCap, QueueDepth
from gateway.delivery.worker import DeliveryCounts, DeliveryWorker

REFRESH_SECONDS = 2.0
_NOT_SUMMED = frozenset({"oldest_age_seconds", "cap", "cap_bytes", "breaker_open"})
VendorReport = dict[str, float]


class EdgeFigures(Protocol):
    """What the monitor reads of this process's edge (`gateway.tracking.appender.HitAppender`): its
    counts per vendor and how many hits wait in its buffer. Given, not imported: delivery
    sits below the edge."""

    @property
    def counts(self) -> Mapping[str, EdgeCounts]: ...

    @property
    def buffered(self) -> int: ...


class DeliveryMonitor:
    def __init__(
        self,
        queue: HitQueue,
        appender: EdgeFigures,
        worker: DeliveryWorker | None,
        vendors: Sequence[str],
        clock: Callable[[], float] = time.time,
        cap: QueueCap | None = None,
    ) -> None:
        self.queue, self.appender, self.worker, self.clock = queue, appender, worker, clock
        self.cap = cap or QueueCap(0, 0)
        self.vendors = list(vendors)
        self.depths: dict[str, QueueDepth] = {}
        self._refresher = Repeating(
            "delivery-depths", REFRESH_SECONDS, self.refresh, run_first=True
        )

    async def refresh(self) -> None:
        self.depths = await self.queue.depths(self.vendors)

    def start(self) -> None:
        self._refresher.start()

    async def stop(self) -> None:
        await self._refresher.stop()

    def report(self) -> dict[str, VendorReport]:
        """Per vendor: depth, oldest_age_seconds, bytes and the caps (`cap` in entries,
        `cap_bytes`), then every edge and delivery counter."""
        now = self.clock()
        delivered = self.worker.counts() if self.worker else {}
        tripped = self.worker.open_breakers() if self.worker else set()
        report: dict[str, VendorReport] = {}
        for vendor in self.vendors:
            depth = self.depths.get(vendor, QueueDepth(0, None))
            age = round(max(0.0, now - depth.oldest_at), 3) if depth.oldest_at else 0.0
            figures: VendorReport = {
                "depth": depth.depth,
                "oldest_age_seconds": age,
                "bytes": depth.bytes,
                "cap": self.cap.entries,
                "cap_bytes": self.cap.bytes,
                "breaker_open": 1.0 if vendor in tripped else 0.0,
            }
            figures.update(asdict(self.appender.counts.get(vendor) or EdgeCounts()))
            figures.update(asdict(delivered.get(vendor) or DeliveryCounts()))
            report[vendor] = figures
        return report

    def totals(self) -> dict[str, int]:
        """The whole of `report()` summed over vendors (integers), plus hits still in memory."""
        # Every figure, zero when no vendor forwards (a site with no vendor chosen).
        sums: dict[str, int] = dict.fromkeys(
            ("depth", *asdict(EdgeCounts()), *asdict(DeliveryCounts())), 0
        )
        for figures in self.report().values():
            for name, value in figures.items():
                if name not in _NOT_SUMMED:
                    sums[name] = sums.get(name, 0) + int(value)
        sums["buffered"] = self.appender.buffered
        return sums
