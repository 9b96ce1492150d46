"""The edge's side of delivery: decided hits go to the durable queue in the store.

`submit` never waits: it adds the hit to a buffer that one background task appends to the
store in batches (group commit: hits of concurrent requests share one round trip, ~ms after
the answer). Delivery is the `DeliveryWorker`'s job, in this process or another.

What can still be lost, counted: hits in the buffer if the process is killed (-9) within the
few milliseconds before their batch is written; hits refused because the buffer is full while
the store is down (`dropped`); the newest hits of a vendor whose queue is at its cap
(`overflowed`). On SIGTERM the buffer is written before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from functools import lru_cache

from gateway.delivery.edge_counts import EdgeCounts
from gateway.delivery.queue import HitQueue, PartlyAppended, QueueCap, QueuedHit, Refused
from gateway.errors import StoreUnavailable
from gateway.model.addresses import IPAddress, truncate_ip
from gateway.model.decided_hits import DecidedHit
from gateway.model.outbound_hits import OutboundHit

log = logging.getLogger("gateway.appender")


@lru_cache(maxsize=4096)
def client_key(ip: IPAddress | None) -> str | None:
    """The key the queue's fair share counts a sender by: its network (/24, /48), hashed, so
    the queue holds no address. None for an unknown sender (not counted)."""
    network = truncate_ip(ip)
    return hashlib.blake2b(network.encode(), digest_size=8).hexdigest() if network else None


BATCH = 500
RETRY_SECONDS = 0.5


_COUNTER_OF_REASON = {
    "cap": "overflowed",
    "anonymous_share": "yielded",
    "client_share": "over_share",
}


class HitAppender:
    def __init__(
        self,
        queue: HitQueue,
        *,
        cap_per_vendor: int | QueueCap = 100_000,
        buffer_limit: int = 20_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue, self.cap, self.buffer_limit, self.clock = (
            queue,
            cap_per_vendor,
            buffer_limit,
            clock,
        )
        self.counts: dict[str, EdgeCounts] = {}
        self._buffer: list[QueuedHit] = []
        self._in_flight = 0  # how many at the buffer's head are being appended
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._appending = asyncio.Lock()

    def submit(
        self,
        hit: DecidedHit | OutboundHit,
        consent_id: str | None = None,
        signalled: frozenset[str] = frozenset(),
        chosen_at: float | None = None,
        client: str | None = None,
    ) -> bool:
        """Queue a decided hit for delivery (`signalled`: what its decision let the vendor be
        told; `chosen_at`: when the choice it was decided with was made; `client`: the
        sender's network key, for the fair share); False (and counted) if it had to be
        dropped."""
        queued = QueuedHit(hit, consent_id, self.clock(), signalled, chosen_at, client)
        return self.submit_queued(queued)

    def submit_queued(self, queued: QueuedHit) -> bool:
        """`submit` for a hit the edge already made a `QueuedHit` (to check its entry's size)."""
        if len(self._buffer) >= self.buffer_limit:
            self._count(queued.hit.vendor).dropped += 1
            return False
        self._buffer.append(queued)
        self._wake.set()
        return True

    def forget_subject(self, subject_id: str) -> None:
        """An erased subject's hits still in the buffer go (those in the store go with the
        store's erasure; a batch being appended right now is withheld at delivery)."""
        start = self._in_flight  # the batch being appended stays as it is
        self._buffer[start:] = [q for q in self._buffer[start:] if q.consent_id != subject_id]

    def _count(self, vendor: str) -> EdgeCounts:
        counts = self.counts.get(vendor)
        if counts is None:
            counts = self.counts[vendor] = EdgeCounts()
        return counts

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hit-append")

    async def flush(self) -> None:
        """Append everything buffered now (raises `StoreUnavailable`, keeping the buffer)."""
        async with self._appending:  # one batch in flight: two flushes would append it twice
            await self._flush()

    async def _flush(self) -> None:
        while self._buffer:
            batch = self._buffer[:BATCH]
            self._in_flight = len(batch)
            try:
                refused = await self.queue.append(batch, self.cap)
            except PartlyAppended as error:
                # Some vendors' hits are in the store: out of the buffer, or they would be
                # appended twice; the others stay for the next try.
                done = error.appended
                self._buffer[: len(batch)] = [q for q in batch if q.hit.vendor not in done]
                self._counted([q for q in batch if q.hit.vendor in done], done)
                raise
            finally:
                self._in_flight = 0
            del self._buffer[: len(batch)]
            self._counted(batch, refused)

    def _counted(self, appended: list[QueuedHit], refused: Refused) -> None:
        for queued in appended:
            self._count(queued.hit.vendor).queued += 1
        for vendor, reasons in refused.items():
            counts = self._count(vendor)
            for reason, count in reasons.items():
                counts.queued -= count
                name = _COUNTER_OF_REASON[reason]
                setattr(counts, name, getattr(counts, name) + count)
                log.warning("hit queue of %s: %d hit(s) refused (%s)", vendor, count, reason)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except StoreUnavailable:
                if self._stopping:
                    return
                log.warning("store unavailable: %d hit(s) wait in memory", len(self._buffer))
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()
            except Exception:
                log.exception("appending hits failed")
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()
            if self._stopping:
                return

    async def close(self, deadline_seconds: float = 3.0) -> None:
        """Stop, writing what is buffered for at most `deadline_seconds`."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):  # wait_for cancels it then
                await asyncio.wait_for(self._task, deadline_seconds)
            self._task = None
        if self._buffer:
            log.warning("%d hit(s) not written to the store at shutdown", len(self._buffer))
            for queued in self._buffer:
                self._count(queued.hit.vendor).dropped += 1
            self._buffer.clear()
