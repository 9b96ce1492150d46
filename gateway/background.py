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
STOP_AGAIN_SECONDS = 0.5  # how long `stop` waits for a cancelled loop before cancelling again


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
        """Cancel the loop and wait for it to end. A cancellation can be lost inside a round
        (seen with redis-py 8: a Redis call cancelled at shutdown returned normally and the
        loop slept on): the loop is then cancelled again until it ends, so a shutdown never
        waits on it forever."""
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=STOP_AGAIN_SECONDS)
        if task is not None:
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
