"""What the Redis hit queue reports for monitoring: depth, oldest hit and size per vendor,
and the newest dead letters (both summed or gathered over the vendor's shards)."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.delivery.queue import QueueDepth
from gateway.store.hit_queue_layout import dead_key, stream_key
from gateway.store.redis_connection import REDIS_FAULTS, Client, Reply, unavailable


async def read_depths(client: Client, vendors: Sequence[str], shards: int) -> dict[str, QueueDepth]:
    found = {}
    try:
        for vendor in vendors:
            depth, oldest, size = 0, None, 0
            for shard in range(shards):
                key = stream_key(vendor, shard)
                depth += int(await client.xlen(key))
                size += int(await client.memory_usage(key) or 0)
                first: Reply = await client.xrange(key, "-", "+", count=1)
                if first:
                    at = int(first[0][0].split("-")[0]) / 1000
                    oldest = at if oldest is None else min(oldest, at)
            found[vendor] = QueueDepth(depth, oldest, size)
    except REDIS_FAULTS as error:
        raise unavailable(error) from error
    return found


async def read_dead_letters(
    client: Client, vendor: str, shards: int, limit: int
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    try:
        for shard in range(shards):
            letters: Reply = await client.xrevrange(dead_key(vendor, shard), "+", "-", count=limit)
            for _, fields in letters:
                found.append((fields["r"], fields["h"]))
    except REDIS_FAULTS as error:
        raise unavailable(error) from error
    return found[:limit]
