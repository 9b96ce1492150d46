"""Durable receipt writing with group commit.

`record()` returns once the receipt is in the store, or, when the store is unreachable, fsync'd
in the local spool. Concurrent receipts are written together in one round trip, which is what
makes thousands of durable receipts a second possible on one worker: a receipt joins the open
batch (at most `batch_size`) and awaits that batch's one future; the committer writes one batch
at a time, while the next one fills. A background task replays
the spool once the store answers again, one batch at a time: new receipts go straight to the
store as soon as it answers, and wait on the replay for one batch at most.

`on_stored` hears of every receipt the store newly stored — written now or replayed later, each
once, never one the store refused (its subject erased) — so the dashboard's counts are made
from what is durable: a crash while the store is down loses no count, the spool holds them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any, Literal

from gateway.background import Repeating
from gateway.errors import StoreUnavailable
from gateway.metrics import Metrics
from gateway.model.receipts import Receipt
from gateway.receipts.spool import ReceiptSpool
from gateway.store.base import Store

log = logging.getLogger("gateway.receipts")

Outcome = Literal["stored", "spooled"]


class _Written(asyncio.Future[Outcome]):
    """How one batch was written, awaited by each of its receipts' requests. It cannot be
    cancelled: a request cancelled while it waits would otherwise cancel the wait of every
    other receipt of its batch; its own cancellation lands once the batch is written."""

    def cancel(self, msg: Any | None = None) -> bool:
        return False


_Batch = tuple[list[Receipt], _Written]


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
        self._batches: deque[_Batch] = deque()  # the last one is open; each at most batch_size
        self._filled = asyncio.Event()  # a receipt is waiting (or the writer closes)
        self._closing = False
        self._committer: asyncio.Task[None] | None = None
        self._replayer = Repeating("receipt-replay", replay_seconds, self.replay_once)

    async def start(self, replay_now: bool = False) -> None:
        """Start committing; the spool is replayed in the background (at once with
        `replay_now`, as at start-up, else after `replay_seconds`), never before serving."""
        self._closing = False
        self._committer = asyncio.create_task(self._commit_loop(), name="receipt-commit")
        self._replayer.run_first = replay_now
        self._replayer.start()

    async def close(self) -> None:
        """Write everything queued (to the store or the spool), then stop."""
        await self._replayer.stop()
        if self._committer is not None:
            self._closing = True
            self._filled.set()
            await self._committer
            self._committer = None

    async def record(self, receipt: Receipt) -> Outcome:
        if self._committer is None or self._closing:  # after its last batch: it would wait forever
            raise RuntimeError("the receipt writer is not running")
        batches = self._batches
        if not batches or len(batches[-1][0]) >= self.batch_size:
            batches.append(([], _Written(loop=asyncio.get_running_loop())))
        receipts, written = batches[-1]
        receipts.append(receipt)
        self._filled.set()
        return await written

    async def _commit_loop(self) -> None:
        while True:
            await self._filled.wait()
            self._filled.clear()
            while self._batches:  # the batch taken is closed: new receipts open the next
                await self._commit(*self._batches.popleft())
            if self._closing:
                return

    async def _commit(self, receipts: list[Receipt], written: _Written) -> None:
        try:
            outcome = await self._write(receipts)
        except BaseException as error:  # every waiting request gets an answer, whatever happens
            written.set_exception(error)
            if not isinstance(error, Exception):
                raise
            log.error("receipts could not be written: %s", type(error).__name__)
            return
        for action, count in Counter(receipt.action for receipt in receipts).items():
            self.metrics.receipts.labels(action, outcome).inc(count)
        written.set_result(outcome)

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
