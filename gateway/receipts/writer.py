"""Durable receipt writing with group commit.

`record()` returns once the receipt is in the store, or, when the store is unreachable, fsync'd
in the local spool. Concurrent receipts are written together in one round trip, which is what
makes thousands of durable receipts a second possible on one worker. A background task replays
the spool once the store answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal

from gateway.errors import StoreUnavailable
from gateway.receipts.model import Receipt
from gateway.receipts.spool import ReceiptSpool
from gateway.store.base import Store

log = logging.getLogger("gateway.receipts")

Outcome = Literal["stored", "spooled"]
_Pending = tuple[Receipt, "asyncio.Future[Outcome]"]


class ReceiptWriter:
    def __init__(
        self, store: Store, spool: ReceiptSpool, replay_seconds: float, batch_size: int = 512
    ) -> None:
        self.store = store
        self.spool = spool
        self.replay_seconds = replay_seconds
        self.batch_size = batch_size
        self.store_down = False
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._commit_loop(), name="receipt-commit"),
            asyncio.create_task(self._replay_loop(), name="receipt-replay"),
        ]

    async def close(self) -> None:
        """Write what is queued (to the store or the spool), then stop."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._queue.empty():
            await self._commit(self._take_batch())

    async def record(self, receipt: Receipt) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((receipt, future))
        return await future

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while len(batch) < self.batch_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def _commit_loop(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first, *self._take_batch()]
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        receipts = [receipt for receipt, _ in batch]
        outcome: Outcome = "stored"
        try:
            if self.store_down:
                raise StoreUnavailable("store marked down")
            await self.store.add_receipts(receipts)
        except StoreUnavailable as error:
            if not self.store_down:
                log.warning("store unavailable (%s): spooling receipts", error)
            self.store_down = True
            outcome = "spooled"
            try:
                await self.spool.append(receipts)
            except OSError as spool_error:
                log.error("cannot spool receipts: %s", spool_error)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(spool_error)
                return
        for _, future in batch:
            if not future.done():
                future.set_result(outcome)

    async def _replay_loop(self) -> None:
        while True:
            await asyncio.sleep(self.replay_seconds)
            await self.replay_once()

    async def replay_once(self) -> int:
        """Replay the spool if the store answers; returns how many receipts were replayed."""
        if not (self.store_down or self.spool.has_pending()):
            return 0
        try:
            await self.store.ping()
            count = await self.spool.replay(self.store.add_receipts)
        except StoreUnavailable:
            return 0
        if self.store_down or count:
            log.info("store reachable again: replayed %d spooled receipt(s)", count)
        self.store_down = False
        return count
