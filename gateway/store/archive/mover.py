"""The mover: receipts and email events older than the hot window go from Redis to the
archive, in batches, idempotently.

One batch is three steps: read it from Redis, write it to PostgreSQL in one transaction
(rows already there are left as they are), then take it out of Redis by its exact JSON. A
crash before the commit leaves the batch in Redis for the next round; a crash after it leaves
it in both, and the next round writes nothing new and takes it out: nothing lost, nothing
doubled. Records past their retention are taken out without being archived.

One instance moves at a time (a lease in the store). When the archive is down a round ends
with `StoreUnavailable` and the records wait in Redis; when an export or an erasure holds the
archive's move lock the round ends early and the next one goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.background import Repeating
from gateway.errors import StoreUnavailable
from gateway.store import retention_rules
from gateway.store.archive import hot
from gateway.store.archive.store import ArchivedRedisStore

log = logging.getLogger("gateway.archive")

LEASE = "archive-move"
MOVE_SECONDS = 60.0  # between rounds
BATCH = 100  # records per transaction: small, so each step holds the event loop briefly
MAX_BATCHES = 1000  # per round, so that one round ends (100,000 records) and others may run


@dataclass
class MoveRound:
    """What one round did, for logs, `/readyz` and tests."""

    receipts: int = 0  # newly archived
    events: int = 0
    expired: int = 0  # past retention: taken out of Redis, not archived
    busy: bool = False  # the archive's move lock was held: the round ended early


class ArchiveMover:
    """Moves what is older than `hot_days` every `seconds` (or at once with `run_once`)."""

    def __init__(
        self,
        store: ArchivedRedisStore,
        clock: Callable[[], float] = time.time,
        seconds: float = MOVE_SECONDS,
        batch: int = BATCH,
    ) -> None:
        self.store, self.clock, self.seconds, self.batch = store, clock, seconds, batch
        self.last_round: MoveRound | None = None
        self._loop = Repeating("archive-move", seconds, self.run_once, run_first=True)

    def hot_cutoff(self, now: float) -> float:
        return now - self.store.settings.archive.hot_days * retention_rules.DAY_SECONDS

    async def run_once(self, *, lease: bool = True) -> MoveRound | None:
        """One round, unless another instance holds the lease (then None)."""
        now = self.clock()
        if lease and not await self.store.shared.claim(LEASE, self.seconds * 0.9, now):
            return None
        done = MoveRound()
        await self._move_receipts(now, done)
        if not done.busy:
            await self._move_events(now, done)
        self.last_round = done
        if done.receipts or done.events or done.expired:
            log.info(
                "archive: moved %d receipts and %d email events (%d expired)",
                done.receipts,
                done.events,
                done.expired,
            )
        return done

    async def _move_receipts(self, now: float, done: MoveRound) -> None:
        client, keep_after = (
            self.store.hot_client,
            retention_rules.receipts_cutoff(self.store.settings, now),
        )
        for _ in range(MAX_BATCHES):
            batch = await hot.old_receipts(client, self.hot_cutoff(now), self.batch)
            if not batch:
                return
            kept = [record for record in batch if record.created_at >= keep_after]
            written = await self.store.archive.add_receipts(kept)
            if written is None:
                done.busy = True
                return
            await hot.forget_receipts(client, batch)
            done.receipts += written
            done.expired += len(batch) - len(kept)

    async def _move_events(self, now: float, done: MoveRound) -> None:
        client, keep_after = (
            self.store.hot_client,
            retention_rules.events_cutoff(self.store.settings, now),
        )
        async for batch in hot.old_event_batches(client, self.hot_cutoff(now), self.batch):
            kept = [record for record in batch if record.created_at >= keep_after]
            written = await self.store.archive.add_email_events(kept)
            if written is None:
                done.busy = True
                return
            await hot.forget_events(client, batch)
            done.events += written
            done.expired += len(batch) - len(kept)

    async def lag_seconds(self) -> float:
        """How long the oldest receipt still in Redis has been due for the archive (0: none)."""
        oldest = await hot.oldest_receipt_at(self.store.hot_client)
        if oldest is None:
            return 0.0
        return max(0.0, self.hot_cutoff(self.clock()) - oldest)

    async def health(self, within: float) -> dict[str, object]:
        """The archive's part of `/readyz` and the dashboard: whether it answers within
        `within` seconds, and the lag. An archive down does not make the gateway unready:
        receipts wait in Redis."""
        report: dict[str, object] = {"status": "ok"}
        try:
            await asyncio.wait_for(self.store.archive.ping(), within)
        except (StoreUnavailable, TimeoutError) as error:
            report = {"status": "unavailable", "reason": str(error) or "no answer in time"}
        try:
            report["lag_seconds"] = round(await asyncio.wait_for(self.lag_seconds(), within), 3)
        except (StoreUnavailable, TimeoutError):
            report["lag_seconds"] = None  # Redis did not say: /readyz reports the store itself
        if self.last_round is not None:
            report["last_round"] = dataclasses.asdict(self.last_round)
        return report

    async def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()
