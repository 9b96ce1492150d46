"""Marking hits `sending` the moment their request is about to be written, in batches.

Each request asks `mark(entry_id)` from the sender's `before_write` hook, once its connection
is open. The requests of one turn of the event loop share one store call. A request cancelled
while its mark was on the way (a shutdown) has its mark taken back, so a hit never written is
never left looking `uncertain`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from gateway.delivery.queue import HitQueue
from gateway.errors import StoreUnavailable


class SendingMarks:
    def __init__(
        self,
        queue: HitQueue,
        vendor: str,
        consumer: str,
        lease_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self.queue, self.vendor, self.consumer = queue, vendor, consumer
        self.lease, self.clock = lease_seconds, clock
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    async def mark(self, entry_id: str) -> bool:
        """True once `entry_id` is marked; False if this worker no longer holds it."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[entry_id] = future
        if len(self._waiting) == 1:
            task = asyncio.create_task(self._flush())
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let this turn's other requests join the batch
        batch, self._waiting = self._waiting, {}
        try:
            marked = set(
                await self.queue.mark_sending(
                    self.vendor, self.consumer, list(batch), self.lease, self.clock()
                )
            )
        except BaseException as error:
            for future in batch.values():
                if future.done():
                    continue
                if isinstance(error, Exception):
                    future.set_exception(error)
                else:
                    future.cancel()
            if not isinstance(error, Exception):
                raise
            return
        abandoned = [i for i, future in batch.items() if future.cancelled() and i in marked]
        for entry_id, future in batch.items():
            if not future.done():
                future.set_result(entry_id in marked)
        if abandoned:  # never written: a normal retry, not `uncertain`
            with contextlib.suppress(StoreUnavailable):
                await self.queue.unmark_sending(self.vendor, abandoned)

    async def settle(self) -> None:
        """Wait for the batches on the way (at shutdown, before the store closes)."""
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
