"""`consent-gateway forward`: delivery workers as their own process, apart from the edge.

Runs until SIGTERM or SIGINT, then stops taking hits, leaves what is undelivered in the queue
and exits within 10 s whatever the vendors do.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from gateway.delivery.queue import open_hit_queue
from gateway.delivery.worker import DeliveryWorker
from gateway.rules.loader import load_rules
from gateway.settings import Settings
from gateway.store import open_store

log = logging.getLogger("gateway.delivery")
REPORT_SECONDS = 30.0


async def run_forwarder(settings: Settings, stop: asyncio.Event | None = None) -> None:
    rules = load_rules(
        settings.rules,
        categories=settings.categories,
        allow_insecure_upstreams=settings.allow_insecure_upstreams,
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    store, queue = open_store(settings), open_hit_queue(settings)
    await store.open()
    await queue.open()
    worker = DeliveryWorker(queue, store, rules, settings)
    await worker.start()
    log.info(
        "delivering hits for %s as %s", ", ".join(worker.lanes) or "no vendor", worker.consumer
    )
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), REPORT_SECONDS)
            except TimeoutError:
                for vendor, counts in worker.counts().items():
                    log.info("delivery to %s: %s", vendor, counts)
    finally:
        await worker.stop(deadline_seconds=6.0)
        await queue.close()
        await store.close()
