"""The hit queue on Redis: one stream per vendor and shard, read by a consumer group, on the
store's client (`gateway.store.redis_connection`). The keys and the scripts that keep them:
`gateway.delivery.redis_queue_scripts`; the reads for monitoring:
`gateway.delivery.redis_queue_reads`.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Concatenate, ParamSpec, TypeVar

from redis.exceptions import ResponseError

from gateway.delivery.queue import (
    DEAD_LETTERS_KEPT,
    REFUSAL_REASONS,
    PartlyAppended,
    QueueCap,
    QueueDepth,
    QueuedHit,
    Refused,
    Taken,
    cap_of,
)
from gateway.delivery.redis_queue_reads import read_dead_letters, read_depths
from gateway.delivery.redis_queue_scripts import (
    ACK,
    APPEND,
    DEAD_LETTER,
    MARK,
    RELEASE,
    RENEW,
)
from gateway.errors import StoreUnavailable
from gateway.store.hit_queue_layout import (
    STREAMS_KEY,
    dead_key,
    sending_key,
    share_key,
    stream_key,
)
from gateway.store.redis_connection import REDIS_FAULTS, Arg, RedisConnection, Reply, unavailable
from gateway.store.redis_schema import migrate

GROUP = "delivery"
MAX_CONCURRENT_CALLS = 32
LIST_AGAIN_SECONDS = 60.0


Q = TypeVar("Q", bound="RedisHitQueue")
P = ParamSpec("P")
R = TypeVar("R")


def _gated(
    method: Callable[Concatenate[Q, P], Coroutine[object, object, R]],
) -> Callable[Concatenate[Q, P], Coroutine[object, object, R]]:
    """A contract method, at most MAX_CONCURRENT_CALLS at once: hundreds of hits in flight
    must not open hundreds of connections (the pool would refuse past 100)."""

    @functools.wraps(method)
    async def gated(self: Q, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with self._gate:
            return await method(self, *args, **kwargs)

    return gated


class RedisHitQueue:
    def __init__(self, redis: RedisConnection, shards: int) -> None:
        self._redis = redis
        self.shards = shards
        self._groups: set[str] = set()
        # Streams known to be in STREAMS_KEY, and when that was written: written again after a
        # minute (a store restarted without its data loses the registry with the streams).
        self._listed: dict[str, float] = {}
        self._next_shard = itertools.count()
        self._reclaimed_at: dict[str, float] = {}
        self._migrated = False
        self._gate = asyncio.Semaphore(MAX_CONCURRENT_CALLS)

    # Every method of the contract runs `_gated`: at most MAX_CONCURRENT_CALLS at once.

    async def _migrate(self) -> None:
        """Once per process, before the first read or write (`gateway.store.redis_schema`)."""
        if self._migrated:
            return
        try:
            await migrate(self._redis.client)
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
        self._migrated = True

    async def _call(self, source: str, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        return await self._redis.script(source, keys, args)

    async def _list(self, key: str) -> None:
        """Before a stream's first entry: in the registry erasure and purge read."""
        clock = time.monotonic()
        if clock - self._listed.get(key, float("-inf")) < LIST_AGAIN_SECONDS:
            return
        try:
            await self._redis.client.sadd(STREAMS_KEY, key)
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
        self._listed[key] = clock

    async def _ensure_group(self, key: str) -> None:
        if key in self._groups:
            return
        try:
            await self._redis.client.xgroup_create(key, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._groups.add(key)

    @_gated
    async def append(self, hits: Sequence[QueuedHit], cap: int | QueueCap) -> Refused:
        """One script per vendor (each its own slot): atomic per vendor, not across vendors,
        so a failure after some vendors raises `PartlyAppended` naming them."""
        await self._migrate()
        most = cap_of(cap)
        by_vendor: dict[str, list[str]] = {}
        for queued in hits:
            by_vendor.setdefault(queued.hit.vendor, []).extend(
                (queued.to_json(), queued.subject_hash or "", queued.client or "")
            )
        refused: Refused = {}
        shard = next(self._next_shard) % self.shards
        shares = self.shards
        limits = [
            max(1, most.entries // shares),
            max(1, most.bytes // shares),
            most.anonymous_most // shares,
            max(1, most.client_most // shares),
        ]
        for vendor, triples in by_vendor.items():
            keys = [stream_key(vendor, shard), share_key(vendor, shard)]
            try:
                await self._list(keys[0])
                result = await self._call(APPEND, keys, [*limits, *triples])
            except StoreUnavailable as error:
                if not refused:
                    raise
                raise PartlyAppended(str(error), refused) from error
            counts = dict(zip(REFUSAL_REASONS, (int(n) for n in result[1:]), strict=True))
            refused[vendor] = {reason: n for reason, n in counts.items() if n}
        return {vendor: counts for vendor, counts in refused.items() if counts}

    @_gated
    async def take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
        await self._migrate()
        taken: list[Taken] = []
        try:
            for shard in range(self.shards):
                if len(taken) >= count:
                    break
                key = stream_key(vendor, shard)
                await self._ensure_group(key)
                taken += await self._reclaim(
                    vendor, shard, consumer, count - len(taken), lease_seconds
                )
                if len(taken) >= count:
                    break
                try:
                    reply: Reply = await self._redis.client.xreadgroup(
                        GROUP, consumer, {key: ">"}, count=count - len(taken)
                    )
                except ResponseError as error:
                    if "NOGROUP" not in str(error):
                        raise
                    self._groups.discard(key)  # the store lost it (a restart without AOF)
                    continue
                for _, entries in reply or ():
                    taken += [
                        Taken(f"{shard}:{entry_id}", _decode(fields), False)
                        for entry_id, fields in entries
                    ]
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
        return taken

    async def _reclaim(
        self, vendor: str, shard: int, consumer: str, count: int, lease_seconds: float
    ) -> list[Taken]:
        key = stream_key(vendor, shard)
        clock = time.monotonic()
        if clock - self._reclaimed_at.get(key, float("-inf")) < lease_seconds / 4:
            return []
        self._reclaimed_at[key] = clock
        reply = await self._redis.client.xautoclaim(
            key, GROUP, consumer, int(lease_seconds * 1000), "0-0", count=count
        )
        entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if not entries:
            return []
        sending = await self._redis.client.smismember(
            sending_key(vendor, shard), [i for i, _ in entries]
        )
        return [
            Taken(f"{shard}:{entry_id}", _decode(fields), bool(mark))
            for (entry_id, fields), mark in zip(entries, sending, strict=True)
        ]

    @_gated
    async def release(self, vendor: str, consumer: str, entry_ids: Sequence[str]) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            keys = [stream_key(vendor, shard), sending_key(vendor, shard)]
            await self._call(RELEASE, keys, [consumer, *ids])
            self._reclaimed_at.pop(keys[0], None)  # the next take looks for them at once

    async def _by_shard(self, entry_ids: Sequence[str]) -> dict[int, list[str]]:
        shards: dict[int, list[str]] = {}
        for entry in entry_ids:
            shard, _, entry_id = entry.partition(":")
            shards.setdefault(int(shard), []).append(entry_id)
        return shards

    @_gated
    async def mark_sending(
        self,
        vendor: str,
        consumer: str,
        entry_ids: Sequence[str],
        lease_seconds: float,
        now: float,
    ) -> list[str]:
        marked: list[str] = []
        for shard, ids in (await self._by_shard(entry_ids)).items():
            keys = [stream_key(vendor, shard), sending_key(vendor, shard)]
            confirmed = await self._call(MARK, keys, [consumer, int(lease_seconds * 1000), *ids])
            marked += [f"{shard}:{entry_id}" for entry_id in confirmed]
        return marked

    @_gated
    async def unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            try:
                await self._redis.client.srem(sending_key(vendor, shard), *ids)
            except REDIS_FAULTS as error:
                raise unavailable(error) from error

    @_gated
    async def renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            await self._call(RENEW, [stream_key(vendor, shard)], [consumer, *ids])

    @_gated
    async def ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            keys = [stream_key(vendor, shard), sending_key(vendor, shard), share_key(vendor, shard)]
            await self._call(ACK, keys, ids)

    @_gated
    async def dead_letter(
        self, vendor: str, entries: Sequence[tuple[str, str]], reason: str, now: float
    ) -> None:
        bodies = dict(entries)
        for shard, ids in (await self._by_shard([i for i, _ in entries])).items():
            pairs: list[str] = []
            for entry_id in ids:
                pairs += (entry_id, bodies[f"{shard}:{entry_id}"])
            keys = [
                stream_key(vendor, shard),
                sending_key(vendor, shard),
                dead_key(vendor, shard),
                share_key(vendor, shard),
            ]
            moment = int(now * 1000)
            await self._call(DEAD_LETTER, keys, [DEAD_LETTERS_KEPT, reason, moment, *pairs])

    @_gated
    async def depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        return await read_depths(self._redis.client, vendors, self.shards)

    @_gated
    async def dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        return await read_dead_letters(self._redis.client, vendor, self.shards, limit)


def _decode(fields: dict[str, str] | None) -> QueuedHit | None:
    try:
        return QueuedHit.from_json(fields["h"]) if fields else None
    except (ValueError, KeyError, TypeError):
        return None
