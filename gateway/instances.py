"""Which gateway processes are running, and how each is doing: heartbeats through the store.

Every process (each instance, each worker of `serve --workers N`) publishes its figures —
hits held and dropped, spool depth, events dropped, its last round trip to the store — every
`HEARTBEAT_SECONDS`; a process silent for `STALE_AFTER_SECONDS` drops off the list. `/readyz`
names the answering process; the dashboard lists them all, so a queue growing or a spool
filling on one of them is seen wherever the dashboard is opened.

    >>> instance_name("gw-7", 4242)
    'gw-7:4242'
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from gateway.background import Repeating
from gateway.store.shared import SharedState

log = logging.getLogger("gateway.instances")

HEARTBEAT_SECONDS = 2.0
STALE_AFTER_SECONDS = 10.0

Figures = Mapping[str, Any]


def instance_name(host: str | None = None, pid: int | None = None) -> str:
    """`host:pid`: unique among processes sharing a store, and says where to look."""
    return f"{host or socket.gethostname()}:{pid or os.getpid()}"


class InstanceHeartbeat:
    """Publishes this process's figures and keeps the latest list of every live process."""

    def __init__(
        self,
        store: SharedState,
        *,
        figures: Callable[[], Figures] = dict,
        on_beat: Callable[[], None] = lambda: None,
        seconds: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`figures` is what this process publishes; `on_beat` runs before each beat."""
        self.store, self.clock = store, clock
        self.name = instance_name()
        self.started_at = clock()
        self.figures, self.on_beat = figures, on_beat
        self.peers: list[dict[str, Any]] = []  # the latest read, this process included
        self.store_ms: float | None = None  # the last heartbeat's round trip: store health
        self._beating = Repeating("heartbeat", seconds, self.beat, run_first=True)

    def own(self) -> dict[str, Any]:
        return {
            "instance": self.name,
            "started_at": round(self.started_at, 3),
            "at": round(self.clock(), 3),
            "store_ms": None if self.store_ms is None else round(self.store_ms, 1),
            **self.figures(),
        }

    async def beat(self) -> None:
        """Publish this process's figures, then read everyone's."""
        self.on_beat()
        now = self.clock()
        started = time.perf_counter()
        await self.store.put_heartbeat(
            self.name, json.dumps(self.own(), sort_keys=True), now, STALE_AFTER_SECONDS
        )
        self.store_ms = (time.perf_counter() - started) * 1000
        await self.read(now)

    async def read(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every live process's latest figures, by name (one store round trip)."""
        published = await self.store.heartbeats(self.clock() if now is None else now)
        self.peers = [json.loads(body) for _, body in sorted(published.items())]
        return self.peers

    async def start(self) -> None:
        self._beating.start()

    async def close(self) -> None:
        await self._beating.stop()
