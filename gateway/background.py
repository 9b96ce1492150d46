"""Work the gateway repeats in the background, written once so that every loop outlives a bad
round: a store outage just waits for the next round, anything else is logged with its
traceback and the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from gateway.errors import StoreUnavailable

log = logging.getLogger("gateway.background")


class Repeating:
    """Runs `work` every `seconds` (first after one interval, or at once with `run_first`)."""

    def __init__(
        self,
        name: str,
        seconds: float,
        work: Callable[[], Awaitable[object]],
        *,
        run_first: bool = False,
    ) -> None:
        self.name, self.seconds, self.work, self.run_first = name, seconds, work, run_first
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        # Cancel until it ends: on Python 3.11 `asyncio.wait_for` may swallow a cancellation
        # that lands as its inner call finishes (CPython gh-86296), and the loop would go on.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        if not self.run_first:
            await asyncio.sleep(self.seconds)
        while True:
            try:
                await self.work()
            except StoreUnavailable:
                log.debug("%s: the store is unavailable; trying again next round", self.name)
            except Exception:
                log.exception("%s: a round failed", self.name)
            await asyncio.sleep(self.seconds)
