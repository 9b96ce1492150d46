"""Sends allowed hits to vendors from a bounded background queue, never on the request path.

A full queue drops the hit and counts it (tracking fails closed; a visitor never waits). The
sender follows no redirects, keeps no cookies, and nothing a vendor answers is relayed to the
visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

from gateway.tracking.hits import OutboundHit
from gateway.tracking.sender import SendError, VendorSender

log = logging.getLogger("gateway.forwarder")


class Forwarder:
    def __init__(
        self,
        *,
        queue_size: int = 10_000,
        workers: int = 32,
        timeout_seconds: float = 5.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.queue: asyncio.Queue[OutboundHit] = asyncio.Queue(maxsize=queue_size)
        self.workers = workers
        self.sent = self.failed = self.dropped = 0
        # Each worker holds at most one connection, so `workers` bounds the connections.
        self.sender = VendorSender(timeout_seconds, max_idle_per_origin=workers, tls=tls)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"forwarder-{n}") for n in range(self.workers)
        ]

    def submit(self, hit: OutboundHit) -> bool:
        """Queue a hit; False (and counted) if the queue is full."""
        try:
            self.queue.put_nowait(hit)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def close(self, drain_seconds: float = 5.0) -> None:
        """Send what is queued (for at most `drain_seconds`), then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), drain_seconds)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.sender.close()

    async def _work(self) -> None:
        while True:
            hit = await self.queue.get()
            try:
                await self._send(hit)
            finally:
                self.queue.task_done()

    async def _send(self, hit: OutboundHit) -> None:
        try:
            status = await self.sender.send(hit)
        except SendError as error:
            self.failed += 1
            log.warning("forwarding to %s failed: %s", hit.vendor, error)
            return
        if status >= 400:
            self.failed += 1
            log.warning("vendor %s answered %d", hit.vendor, status)
        else:
            self.sent += 1
