"""`consent-gateway forward`: delivery workers as their own process, apart from the edge.

Runs until SIGTERM or SIGINT, then stops taking hits, leaves what is undelivered in the queue
and exits within 10 s whatever the vendors do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from contextlib import AsyncExitStack

from gateway.configured_rules import configured_rules
from gateway.delivery.queue import open_hit_queue
from gateway.delivery.worker import DeliveryWorker
from gateway.instances import InstanceHeartbeat
from gateway.settings import Settings
from gateway.store import open_store

log = logging.getLogger("gateway.delivery")
REPORT_SECONDS = 30.0


async def run_delivery_process(settings: Settings, stop: asyncio.Event | None = None) -> None:
    rules = configured_rules(settings).routed  # as `serve` reads them: the enabled vendors
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    store = open_store(settings)
    queue = open_hit_queue(store, settings.delivery.shards)  # on the store's connection
    worker = DeliveryWorker(queue, store, rules, settings.delivery)
    # The dashboard lists this process with the edges.
    heartbeat = InstanceHeartbeat(store.shared, figures=lambda: _figures(worker))
    async with AsyncExitStack() as stack:  # a start that fails closes what was opened
        await store.open()
        stack.push_async_callback(store.close)
        await worker.start()
        stack.push_async_callback(worker.stop, 6.0)
        await heartbeat.start()
        stack.push_async_callback(heartbeat.close)
        log.info(
            "delivering hits for %s as %s", ", ".join(worker.lanes) or "no vendor", worker.consumer
        )
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), REPORT_SECONDS)
            except TimeoutError:
                for vendor, counts in worker.counts().items():
                    log.info("delivery to %s: %s", vendor, counts)


def _figures(worker: DeliveryWorker) -> dict[str, object]:
    """This process's heartbeat: what it delivered, in the shape the edges publish."""
    totals: dict[str, int] = {"buffered": 0, "dropped": 0}
    for counts in worker.counts().values():
        for name, value in dataclasses.asdict(counts).items():
            totals[name] = totals.get(name, 0) + value
    return {
        "role": "forward",
        "forwarder": totals,
        "spool_depth": 0,
        "counts_lost": 0,
        "email_events_dropped": 0,
    }
