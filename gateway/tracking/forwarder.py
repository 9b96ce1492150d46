"""Sends allowed hits to vendors from a bounded background queue, never on the request path.

A full queue drops the hit and counts it (tracking fails closed; a visitor never waits). The
pooled HTTP client follows no redirects, keeps no cookies, and nothing a vendor answers is
relayed to the visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from gateway.tracking.hits import OutboundHit

log = logging.getLogger("gateway.forwarder")
_MAX_RESPONSE_BYTES = 65536


class Forwarder:
    def __init__(
        self,
        *,
        queue_size: int = 10_000,
        workers: int = 16,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.queue: asyncio.Queue[OutboundHit] = asyncio.Queue(maxsize=queue_size)
        self.workers = workers
        self.sent = self.failed = self.dropped = 0
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(2.0, timeout_seconds))
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # accepts none
            limits=httpx.Limits(
                max_connections=self.workers, max_keepalive_connections=self.workers
            ),
            transport=self._transport,
            trust_env=False,
        )
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
        if self._client is not None:
            await self._client.aclose()

    async def _work(self) -> None:
        while True:
            hit = await self.queue.get()
            try:
                await self._send(hit)
            finally:
                self.queue.task_done()

    async def _send(self, hit: OutboundHit) -> None:
        assert self._client is not None
        request = self._client.build_request(
            hit.method, hit.url, headers=list(hit.headers), content=hit.body or None
        )
        try:
            response = await self._client.send(request, stream=True)
            try:
                received = 0
                async for chunk in response.aiter_raw():  # drained for keep-alive, never relayed
                    received += len(chunk)
                    if received > _MAX_RESPONSE_BYTES:
                        break
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            self.failed += 1
            log.warning("forwarding to %s failed: %s", hit.vendor, type(error).__name__)
            return
        if response.status_code >= 400:
            self.failed += 1
            log.warning("vendor %s answered %d", hit.vendor, response.status_code)
        else:
            self.sent += 1
