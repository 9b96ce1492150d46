"""Durable receipt writing with group commit.

`record()` returns once the receipt is in the store, or, when the store is unreachable, fsync'd
in the local spool. Concurrent receipts are written together in one round trip, which is what
makes thousands of durable receipts a second possible on one worker. A background task replays
the spool once the store answers again, one batch at a time: new receipts go straight to the
store as soon as it answers, and wait on the replay for one batch at most.

`on_stored` hears of every receipt the store newly stored — written now or replayed later, each
once, never one the store refused (its subject erased) — so the dashboard's counts are made
from what is durable: a crash while the store is down loses no count, the spool holds them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Literal

from gateway.background import Repeating
from gateway.errors import StoreUnavailable
from gateway.metrics import Metrics
from gateway.model.receipts import Receipt
from gateway.receipts.spool import ReceiptSpool
from gateway.store.base import Store

log = logging.getLogger("gateway.receipts")

Outcome = Literal["stored", "spooled"]
_Pending = tuple[Receipt, "asyncio.Future[Outcome]"]


class ReceiptWriter:
    def __init__(
        self,
        store: Store,
        spool: ReceiptSpool,
        replay_seconds: float,
        batch_size: int = 512,
        metrics: Metrics | None = None,
        on_stored: Callable[[Sequence[Receipt]], None] = lambda receipts: None,
    ) -> None:
        self.store = store
        self.on_stored = on_stored
        self.replayed = 0
        self.metrics = metrics or Metrics()
        self.spool = spool
        self.replay_seconds = replay_seconds
        self.batch_size = batch_size
        self.store_down = False
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()  # None: stop
        self._committer: asyncio.Task[None] | None = None
        self._replayer = Repeating("receipt-replay", replay_seconds, self.replay_once)

    async def start(self, replay_now: bool = False) -> None:
        """Start committing; the spool is replayed in the background (at once with
        `replay_now`, as at start-up, else after `replay_seconds`), never before serving."""
        self._committer = asyncio.create_task(self._commit_loop(), name="receipt-commit")
        self._replayer.run_first = replay_now
        self._replayer.start()

    async def close(self) -> None:
        """Write everything queued (to the store or the spool), then stop."""
        await self._replayer.stop()
        if self._committer is not None:
            self._queue.put_nowait(None)
            await self._committer
            self._committer = None

    async def record(self, receipt: Receipt) -> Outcome:
        if self._committer is None:
            raise RuntimeError("the receipt writer is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((receipt, future))
        return await future

    async def _commit_loop(self) -> None:
        stop = False
        while not stop:
            item = await self._queue.get()
            batch: list[_Pending] = []
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch_size or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            stop = item is None
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            outcome = await self._write([receipt for receipt, _ in batch])
        except BaseException as error:  # every waiting request gets an answer, whatever happens
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            log.error("receipts could not be written: %s", type(error).__name__)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(outcome)

    async def _write(self, receipts: list[Receipt]) -> Outcome:
        if not self.store_down:
            try:
                with self.metrics.store_call("add_receipts"):
                    stored = await self.store.receipts.add_receipts(receipts)
                self.on_stored(stored)
                return "stored"
            except StoreUnavailable as error:
                log.warning("store unavailable (%s): spooling receipts", error)
                self.store_down = True
        await self.spool.append(receipts)
        return "spooled"

    async def replay_once(self) -> int:
        """Replay the spool if the store answers; returns how many receipts were replayed."""
        if not (self.store_down or self.spool.has_pending()):
            return 0
        try:
            await self.store.ping()
        except StoreUnavailable:
            return 0
        was_down, self.store_down = self.store_down, False  # new receipts: to the store again
        try:
            count = await self.spool.replay(self._replay_batch, self.batch_size)
        except StoreUnavailable as error:
            log.warning("store unavailable during the replay (%s): spooling receipts", error)
            self.store_down = True
            return 0
        if was_down or count:
            log.info("store reachable again: replayed %d spooled receipt(s)", count)
        return count

    async def _replay_batch(self, receipts: list[Receipt]) -> None:
        with self.metrics.store_call("add_receipts"):
            stored = await self.store.receipts.add_receipts(receipts)
        self.replayed += len(stored)
        for receipt in stored:
            self.metrics.receipts.labels(receipt.action, "replayed").inc()
        self.on_stored(stored)
