"""Waiting for hit delivery in tests: with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time

from gateway.runtime import Gateway


async def drained(gateway: Gateway, timeout: float = 15.0) -> None:
    """Until every hit this gateway's edge took has left the queue (delivered or settled)."""
    vendors = gateway.delivery_monitor.vendors
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.appender.buffered == 0:
            depths = await gateway.hit_queue.depths(vendors)
            if all(depth.depth == 0 for depth in depths.values()):
                return
        await asyncio.sleep(0.02)
    raise TimeoutError("hits still queued")
