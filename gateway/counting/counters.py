"""Aggregate counts (day × metric × label), added up in memory and written in batches.

The hot paths only add to a dict; a background task writes the sums to the store every
`flush_seconds`. If the store is down the sums are kept (up to `max_keys` distinct keys) and
written later, so a short outage loses nothing and a long one costs bounded memory; with a
`PendingCountsFile` they are also kept on disk meanwhile, so a crash during the outage loses
none either (the next process to start takes them over).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from gateway.background import Repeating
from gateway.counting.pending_counts import PendingCountsFile
from gateway.errors import StoreUnavailable
from gateway.metrics import Metrics
from gateway.model.counts import Counted, CountKey
from gateway.model.days import day_of
from gateway.store.base import Counts

log = logging.getLogger("gateway.counters")
_new_key = tuple.__new__


class EventCounter:
    def __init__(
        self,
        counts: Counts,
        flush_seconds: float = 1.0,
        max_keys: int = 100_000,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        pending_file: PendingCountsFile | None = None,
    ) -> None:
        self.counts, self.clock, self.pending_file = counts, clock, pending_file
        self._on_disk = False
        self.metrics = metrics or Metrics()
        self.flush_seconds = flush_seconds
        self.max_keys = max_keys
        self.lost = 0
        self._pending: Counter[CountKey] = Counter()
        self._day_number = -1
        self._day = ""
        self._flusher = Repeating("counter-flush", flush_seconds, self.flush)

    def today(self) -> str:
        now = self.clock()
        number = int(now // 86400)
        if number != self._day_number:  # formatting a date per hit would cost more than the rest
            self._day_number, self._day = number, day_of(now)
        return self._day

    def add(self, counted: Counted, amount: int = 1, day: str | None = None) -> None:
        """Count `amount` of `counted` today (UTC), e.g. `add(PixelCount("ga4", "forward"))`,
        or on `day` (YYYY-MM-DD) for what happened earlier (a replayed receipt)."""
        # `tuple.__new__`: a NamedTuple's own constructor costs twice as much, per hit.
        key = _new_key(CountKey, (day or self.today(), counted.metric, counted.label()))
        pending = self._pending
        held = pending.get(key)  # a plain dict read: `Counter.__missing__` is Python code
        if held is not None:
            pending[key] = held + amount
        elif len(pending) < self.max_keys:
            pending[key] = amount
        else:
            self.lost += amount

    async def start(self) -> None:
        if self.pending_file is not None:
            adopted = await asyncio.to_thread(self.pending_file.adopt)
            if adopted:
                self._keep(adopted)
                await self._save()  # under this process's name at once
        self._flusher.start()

    async def close(self) -> None:
        await self._flusher.stop()
        await self.flush()
        if self.pending_file is not None:
            self.pending_file.close()

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, Counter()
        try:
            with self.metrics.store_call("add_counts"):
                await self.counts.add_counts(batch)
        except StoreUnavailable:
            self._keep(batch)  # for the next flush
            await self._save()
            return
        if self._on_disk and self.pending_file is not None:
            self.pending_file.clear()  # what it held is in the store now
            self._on_disk = False

    def _keep(self, counts: Counter[CountKey]) -> None:
        for key, amount in counts.items():
            if key in self._pending or len(self._pending) < self.max_keys:
                self._pending[key] += amount
            else:
                self.lost += amount

    async def _save(self) -> None:
        if self.pending_file is not None:
            await asyncio.to_thread(self.pending_file.save, Counter(self._pending))
            self._on_disk = True
