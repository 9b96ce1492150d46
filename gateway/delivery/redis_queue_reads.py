"""What the Redis hit queue reports for monitoring: depth, oldest hit and size per vendor,
and the newest dead letters (both summed or gathered over the vendor's shards)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.delivery.queue import QueueDepth
from gateway.errors import StoreUnavailable
from gateway.store.hit_queue_layout import dead_key, stream_key
from gateway.store.redis_clients import REDIS_FAULTS


async def read_depths(client: Any, vendors: Sequence[str], shards: int) -> dict[str, QueueDepth]:
    found = {}
    try:
        for vendor in vendors:
            depth, oldest, size = 0, None, 0
            for shard in range(shards):
                key = stream_key(vendor, shard)
                depth += int(await client.xlen(key))
                size += int(await client.memory_usage(key) or 0)
                first = await client.xrange(key, "-", "+", count=1)
                if first:
                    at = int(first[0][0].split("-")[0]) / 1000
                    oldest = at if oldest is None else min(oldest, at)
            found[vendor] = QueueDepth(depth, oldest, size)
    except REDIS_FAULTS as error:
        raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
    return found


async def read_dead_letters(
    client: Any, vendor: str, shards: int, limit: int
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        for shard in range(shards):
            for _, fields in await client.xrevrange(dead_key(vendor, shard), "+", "-", count=limit):
                found.append((fields["r"], fields["h"]))
    except REDIS_FAULTS as error:
        raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
    return found[:limit]
