"""The hit queue on Redis: one stream per vendor and shard, read by a consumer group.

    cg:hits:{hits.<vendor>.<shard>}          stream   `h`: the hit's JSON, `s`: its subject's
                                                      tombstone hash (erasure deletes by it)
    cg:hits-sending:{hits.<vendor>.<shard>}  set      ids being sent (written, maybe delivered)
    cg:hits-dead:{hits.<vendor>.<shard>}     stream   dead letters (`h` parameter names, `r`
                                                      reason), capped, trimmed by the purge
    cg:hit-streams                           set      every stream's key (for erasure, purge)

The three keys of one stream share a hash tag, so each script below touches one slot; on a
Cluster the vendors' (and shards') streams spread over the slots. Acknowledged entries are
deleted (`XACK` + `XDEL`), so `XLEN` is the depth, pending entries included. A dead worker's
entries are reclaimed with `XAUTOCLAIM` once idle for the lease; a live worker renews what it
still holds (waiting out a backoff) with `XCLAIM … JUSTID`, after checking it still holds them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from gateway.delivery.queue import (
    DEAD_LETTERS_KEPT,
    REFUSAL_REASONS,
    HitQueue,
    PartlyAppended,
    QueueCap,
    QueueDepth,
    QueuedHit,
    Refused,
    Taken,
    cap_of,
)
from gateway.errors import StoreUnavailable
from gateway.settings import Settings
from gateway.store.hit_queue_layout import (
    STREAMS_KEY,
    dead_key,
    sending_key,
    share_key,
    stream_key,
)
from gateway.store.redis_clients import REDIS_FAULTS, redis_client
from gateway.store.redis_schema import migrate

GROUP = "delivery"
MAX_CONCURRENT_CALLS = 32
LIST_AGAIN_SECONDS = 60.0

# KEYS: stream, share hash. ARGV: cap in entries, cap in bytes, most anonymous entries, most
# entries per client, then (the hit's JSON, its subject hash or '', its client or '') triples.
# The stream's size is `MEMORY USAGE` (sampled: an estimate within a few %); each hit appended
# counts its own length until the next call measures again. A client's share applies once the
# stream is half full. Returns {appended, refused: cap, anonymous share, client share}.
_APPEND = """
local depth = redis.call('XLEN', KEYS[1])
local bytes = tonumber(ARGV[2]) - (redis.call('MEMORY', 'USAGE', KEYS[1]) or 0)
local cap = tonumber(ARGV[1])
local anon = tonumber(redis.call('HGET', KEYS[2], 'anon') or '0')
local result = {0, 0, 0, 0}
for i = 5, #ARGV, 3 do
  local json, subject, client = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local size = #json + #subject + #client
  local held = 0
  if client ~= '' and depth * 2 >= cap then
    held = tonumber(redis.call('HGET', KEYS[2], 'a:' .. client) or '0')
  end
  if depth >= cap or size > bytes then
    result[2] = result[2] + 1
  elseif subject == '' and anon >= tonumber(ARGV[3]) then
    result[3] = result[3] + 1
  elseif held >= tonumber(ARGV[4]) then
    result[4] = result[4] + 1
  else
    local fields = {'h', json}
    if subject ~= '' then
      fields[#fields + 1] = 's'; fields[#fields + 1] = subject
    else
      anon = anon + 1
      redis.call('HINCRBY', KEYS[2], 'anon', 1)
    end
    if client ~= '' then
      fields[#fields + 1] = 'a'; fields[#fields + 1] = client
      redis.call('HINCRBY', KEYS[2], 'a:' .. client, 1)
    end
    redis.call('XADD', KEYS[1], '*', unpack(fields))
    depth = depth + 1
    bytes = bytes - size
    result[1] = result[1] + 1
  end
end
return result
"""

# Lua shared by the scripts that delete entries: their share counts go down with them (an
# emptied stream drops its share hash, which also ends any drift from erasure's own XDEL).
_FORGET = """
local function forget(stream, share, id)
  local entry = redis.call('XRANGE', stream, id, id)[1]
  if not entry then return end
  local fields, subject, client = entry[2], nil, nil
  for k = 1, #fields, 2 do
    if fields[k] == 's' then subject = fields[k + 1] end
    if fields[k] == 'a' then client = fields[k + 1] end
  end
  if not subject then redis.call('HINCRBY', share, 'anon', -1) end
  if client then redis.call('HINCRBY', share, 'a:' .. client, -1) end
end
local function tidy(stream, share)
  if redis.call('XLEN', stream) == 0 then redis.call('DEL', share) end
end
"""

# KEYS: stream, sending set. ARGV: consumer, lease in ms, then the ids. Marks (and renews) the
# entries the consumer still holds within its lease, not already marked; returns their ids.
_MARK = """
local marked = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] and tonumber(p[1][3]) < tonumber(ARGV[2])
      and redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'JUSTID')
    redis.call('SADD', KEYS[2], ARGV[i])
    marked[#marked + 1] = ARGV[i]
  end
end
return marked
"""

# KEYS: stream. ARGV: consumer, then the ids. Renews the entries the consumer still holds
# (`XCLAIM` alone would take back one another worker has reclaimed meanwhile).
_RENEW = """
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'JUSTID')
  end
end
return 1
"""

# KEYS: stream, sending set. ARGV: consumer, then the ids. Gives back the entries the consumer
# holds and has not marked: idle since the epoch, so the next `XAUTOCLAIM` takes them at once.
_RELEASE = """
local now = redis.call('TIME')
local idle = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - 1
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] and redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'IDLE', idle, 'JUSTID')
  end
end
return 1
"""

# KEYS: stream, sending set, share hash. ARGV: the ids.
_ACK = (
    _FORGET
    + """
for i = 1, #ARGV do forget(KEYS[1], KEYS[3], ARGV[i]) end
redis.call('XACK', KEYS[1], 'delivery', unpack(ARGV))
redis.call('XDEL', KEYS[1], unpack(ARGV))
redis.call('SREM', KEYS[2], unpack(ARGV))
tidy(KEYS[1], KEYS[3])
return #ARGV
"""
)

# KEYS: stream, sending set, dead-letter stream, share hash. ARGV: kept, reason, the gateway's time in ms,
# then id, body pairs. A dead letter's id carries the gateway's time, not the server's: the purge
# trims by the gateway's clock (`XTRIM MINID`), so both must be the same clock (never going back
# in one stream, whatever the instances' clocks say).
_DEAD_LETTER = (
    _FORGET
    + """
local ms = tonumber(ARGV[3])
local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if top then
  local top_ms = tonumber(string.match(top[1], '^(%d+)'))
  if top_ms > ms then ms = top_ms end
end
local id = string.format('%.0f-*', ms)
for i = 4, #ARGV, 2 do
  forget(KEYS[1], KEYS[4], ARGV[i])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], id, 'h', ARGV[i + 1], 'r', ARGV[2])
  redis.call('XACK', KEYS[1], 'delivery', ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
  redis.call('SREM', KEYS[2], ARGV[i])
end
tidy(KEYS[1], KEYS[4])
return 1
"""
)


class RedisHitQueue(HitQueue):
    name = "redis"

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.timeout = settings.store_timeout_seconds
        self.shards = settings.delivery_shards
        self._client: Any = None
        self._scripts: dict[str, Any] = {}
        self._groups: set[str] = set()
        # Streams known to be in STREAMS_KEY, and when that was written: written again after a
        # minute (a store restarted without its data loses the registry with the streams).
        self._listed: dict[str, float] = {}
        self._next_shard = itertools.count()
        self._reclaimed_at: dict[str, float] = {}
        self._migrated = False
        # Hundreds of hits in flight must not open hundreds of connections (the pool would
        # refuse past 100): store calls wait their turn instead.
        self._gate = asyncio.Semaphore(MAX_CONCURRENT_CALLS)

    async def open(self) -> None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "retry": Retry(NoBackoff(), 1),
        }
        self._client = redis_client(self.url, options)  # one server, Cluster or Sentinel
        for name, source in (
            ("append", _APPEND),
            ("ack", _ACK),
            ("dead", _DEAD_LETTER),
            ("mark", _MARK),
            ("renew", _RENEW),
            ("release", _RELEASE),
        ):
            self._scripts[name] = self._client.register_script(source)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ------------------------------------------------------------ the contract, gated

    async def append(self, hits: Sequence[QueuedHit], cap: int | QueueCap) -> Refused:
        async with self._gate:
            await self._migrate()
            return await self._append(hits, cap_of(cap))

    async def take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
        async with self._gate:
            await self._migrate()
            return await self._take(vendor, consumer, count, lease_seconds, now)

    async def mark_sending(
        self,
        vendor: str,
        consumer: str,
        entry_ids: Sequence[str],
        lease_seconds: float,
        now: float,
    ) -> list[str]:
        async with self._gate:
            return await self._mark_sending(vendor, consumer, entry_ids, lease_seconds)

    async def unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        async with self._gate:
            await self._unmark_sending(vendor, entry_ids)

    async def release(self, vendor: str, consumer: str, entry_ids: Sequence[str]) -> None:
        async with self._gate:
            for shard, ids in (await self._by_shard(entry_ids)).items():
                keys = [stream_key(vendor, shard), sending_key(vendor, shard)]
                await self._call("release", keys, [consumer, *ids])
                self._reclaimed_at.pop(keys[0], None)  # the next take looks for them at once

    async def renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        async with self._gate:
            await self._renew(vendor, consumer, entry_ids, lease_seconds, now)

    async def ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        async with self._gate:
            await self._ack(vendor, entry_ids)

    async def dead_letter(
        self, vendor: str, entries: Sequence[tuple[str, str]], reason: str, now: float
    ) -> None:
        async with self._gate:
            await self._dead_letter(vendor, entries, reason, now)

    async def depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        async with self._gate:
            return await self._depths(vendors)

    async def dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        async with self._gate:
            return await self._dead_letters(vendor, limit)

    async def _migrate(self) -> None:
        """Once per process, before the first read or write (`gateway.store.redis_schema`)."""
        if self._migrated:
            return
        try:
            await migrate(self._client)
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        self._migrated = True

    async def _call(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._scripts[name](keys=keys, args=args)
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def _list(self, key: str) -> None:
        """Before a stream's first entry: in the registry erasure and purge read."""
        clock = time.monotonic()
        if clock - self._listed.get(key, float("-inf")) < LIST_AGAIN_SECONDS:
            return
        try:
            await self._client.sadd(STREAMS_KEY, key)
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        self._listed[key] = clock

    async def _ensure_group(self, key: str) -> None:
        if key in self._groups:
            return
        try:
            await self._client.xgroup_create(key, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._groups.add(key)

    async def _append(self, hits: Sequence[QueuedHit], cap: QueueCap) -> Refused:
        """One script per vendor (each its own slot): atomic per vendor, not across vendors,
        so a failure after some vendors raises `PartlyAppended` naming them."""
        by_vendor: dict[str, list[str]] = {}
        for queued in hits:
            by_vendor.setdefault(queued.hit.vendor, []).extend(
                (queued.to_json(), queued.subject_hash or "", queued.client or "")
            )
        refused: Refused = {}
        shard = next(self._next_shard) % self.shards
        shares = self.shards
        limits = [
            max(1, cap.entries // shares),
            max(1, cap.bytes // shares),
            cap.anonymous_most // shares,
            max(1, cap.client_most // shares),
        ]
        for vendor, triples in by_vendor.items():
            keys = [stream_key(vendor, shard), share_key(vendor, shard)]
            try:
                await self._list(keys[0])
                result = await self._call("append", keys, [*limits, *triples])
            except StoreUnavailable as error:
                if not refused:
                    raise
                raise PartlyAppended(str(error), refused) from error
            counts = dict(zip(REFUSAL_REASONS, (int(n) for n in result[1:]), strict=True))
            refused[vendor] = {reason: n for reason, n in counts.items() if n}
        return {vendor: counts for vendor, counts in refused.items() if counts}

    async def _take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
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
                    reply = await self._client.xreadgroup(
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
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        return taken

    async def _reclaim(
        self, vendor: str, shard: int, consumer: str, count: int, lease_seconds: float
    ) -> list[Taken]:
        key = stream_key(vendor, shard)
        clock = time.monotonic()
        if clock - self._reclaimed_at.get(key, float("-inf")) < lease_seconds / 4:
            return []
        self._reclaimed_at[key] = clock
        reply = await self._client.xautoclaim(
            key, GROUP, consumer, int(lease_seconds * 1000), "0-0", count=count
        )
        entries = [(entry_id, fields) for entry_id, fields in reply[1] if fields]
        if not entries:
            return []
        sending = await self._client.smismember(sending_key(vendor, shard), [i for i, _ in entries])
        return [
            Taken(f"{shard}:{entry_id}", _decode(fields), bool(mark))
            for (entry_id, fields), mark in zip(entries, sending, strict=True)
        ]

    async def _by_shard(self, entry_ids: Sequence[str]) -> dict[int, list[str]]:
        shards: dict[int, list[str]] = {}
        for entry in entry_ids:
            shard, _, entry_id = entry.partition(":")
            shards.setdefault(int(shard), []).append(entry_id)
        return shards

    async def _mark_sending(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float
    ) -> list[str]:
        marked: list[str] = []
        for shard, ids in (await self._by_shard(entry_ids)).items():
            keys = [stream_key(vendor, shard), sending_key(vendor, shard)]
            confirmed = await self._call("mark", keys, [consumer, int(lease_seconds * 1000), *ids])
            marked += [f"{shard}:{entry_id}" for entry_id in confirmed]
        return marked

    async def _unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            try:
                await self._client.srem(sending_key(vendor, shard), *ids)
            except REDIS_FAULTS as error:
                raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def _renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            await self._call("renew", [stream_key(vendor, shard)], [consumer, *ids])

    async def _ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        for shard, ids in (await self._by_shard(entry_ids)).items():
            keys = [stream_key(vendor, shard), sending_key(vendor, shard), share_key(vendor, shard)]
            await self._call("ack", keys, ids)

    async def _dead_letter(
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
            await self._call("dead", keys, [DEAD_LETTERS_KEPT, reason, moment, *pairs])

    async def _depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        found = {}
        try:
            for vendor in vendors:
                depth, oldest, size = 0, None, 0
                for shard in range(self.shards):
                    key = stream_key(vendor, shard)
                    depth += int(await self._client.xlen(key))
                    size += int(await self._client.memory_usage(key) or 0)
                    first = await self._client.xrange(key, "-", "+", count=1)
                    if first:
                        at = int(first[0][0].split("-")[0]) / 1000
                        oldest = at if oldest is None else min(oldest, at)
                found[vendor] = QueueDepth(depth, oldest, size)
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        return found

    async def _dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        try:
            for shard in range(self.shards):
                for _, fields in await self._client.xrevrange(
                    dead_key(vendor, shard), "+", "-", count=limit
                ):
                    found.append((fields["r"], fields["h"]))
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        return found[:limit]


def _decode(fields: dict[str, str] | None) -> QueuedHit | None:
    try:
        return QueuedHit.from_json(fields["h"]) if fields else None
    except (ValueError, KeyError, TypeError):
        return None
