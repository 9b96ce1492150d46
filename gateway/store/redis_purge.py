"""The Redis backend's purge of expired data (part of its rights facet).

Retention is mostly Redis expiry (set on every write); `purge(now)` removes what expiry cannot
reach: old receipts and events in the keys of subjects who are still active (their keys'
expiry moves on with every write), the tail of a day set, counters of days past the event
retention, choices made again before any living consent token, and the delivery queue's dead
letters past their week. An erasure found cut short is finished on the way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gateway.store import retention_rules
from gateway.store.base import PurgeProgress
from gateway.store.hit_queue_layout import DEAD_LETTER_SECONDS, STREAMS_KEY, dead_key_of
from gateway.store.redis_connection import REDIS_FAULTS, RedisConnection, Reply, unavailable
from gateway.store.redis_keys import CHOICE_CHANGES_KEY, DAYS_KEY, day_receipts_key, suppression_key
from gateway.store.redis_rights import RedisRights
from gateway.store.store_settings import StoreSettings

SCAN_CHUNK = 500


class RedisPurge:
    def __init__(
        self, redis: RedisConnection, settings: StoreSettings, rights: RedisRights
    ) -> None:
        self._redis, self.settings, self._rights = redis, settings, rights

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        try:
            return await self._purge(now, progress)
        except REDIS_FAULTS as error:  # from a SCAN; pipelines raise StoreUnavailable
            raise unavailable(error) from error

    async def _purge(self, now: float, progress: PurgeProgress | None) -> dict[str, int]:
        receipts_before = retention_rules.receipts_cutoff(self.settings, now)
        events_before = retention_rules.events_cutoff(self.settings, now)
        removed = {"receipts": 0, "email_events": 0, "counts": 0}
        await self._purge_receipt_days(receipts_before)
        # Choices made again longer ago than any consent token lives supersede no token.
        tokens_before = retention_rules.tokens_cutoff(self.settings, now)
        await self._redis.client.zremrangebyscore(CHOICE_CHANGES_KEY, "-inf", f"({tokens_before}")
        # Working data, not a kind to count: the delivery queue's dead letters past their week.
        oldest_kept = max(0, int((now - DEAD_LETTER_SECONDS) * 1000))
        streams: Reply = await self._redis.client.smembers(STREAMS_KEY)
        for stream in streams:
            await self._redis.client.xtrim(dead_key_of(stream), minid=oldest_kept)
        chunk: list[str] = []
        async for key in self._redis.client.scan_iter(match="cg:subject:*", count=1000):
            chunk.append(key)
            if len(chunk) >= SCAN_CHUNK:
                await self._purge_subjects(chunk, receipts_before, events_before, removed)
                chunk = []
                if progress is not None:
                    progress("receipts", removed["receipts"])
        await self._purge_subjects(chunk, receipts_before, events_before, removed)
        last_day = retention_rules.counts_first_kept_day(self.settings, now)
        old_days = [
            key
            async for key in self._redis.client.scan_iter(match="cg:counts:*", count=1000)
            if key.removeprefix("cg:counts:{").rstrip("}") < last_day
        ]
        if old_days:
            pipeline = self._redis.pipeline()
            for key in old_days:
                pipeline.hlen(key)
                pipeline.delete(key)
            replies = await self._redis.execute(pipeline)
            removed["counts"] = sum(int(n) for n in replies[::2])
        return removed

    async def _purge_receipt_days(self, before: float) -> None:
        """Trim the day sets (the time index of receipts) to the retention."""
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(DAYS_KEY, "-inf", f"({before}", withscores=True)
        (days,) = await self._redis.execute(pipeline)
        if not days:
            return
        pipeline = self._redis.pipeline()
        for day, start in days:
            pipeline.zremrangebyscore(day_receipts_key(day), "-inf", f"({before}")
            if float(start) + 86400 <= before:
                pipeline.delete(day_receipts_key(day))
                pipeline.zrem(DAYS_KEY, day)
        await self._redis.execute(pipeline)

    async def _purge_subjects(
        self,
        keys: Sequence[str],
        receipts_before: float,
        events_before: float,
        removed: dict[str, int],
    ) -> None:
        receipt_keys = [key for key in keys if key.endswith(":receipts")]
        event_keys = [key for key in keys if key.endswith(":email-events")]
        if not (receipt_keys or event_keys):
            return
        subjects = [_subject_of(key) for key in receipt_keys]
        pipeline = self._redis.pipeline()
        for key, subject in zip(receipt_keys, subjects, strict=True):
            pipeline.hgetall(key)
            pipeline.get(suppression_key(subject))
        for key in event_keys:
            pipeline.zremrangebyscore(key, "-inf", f"({events_before}")
        replies = await self._redis.execute(pipeline)
        removed["email_events"] += sum(int(n) for n in replies[2 * len(receipt_keys) :])
        pipeline = self._redis.pipeline()
        expired_any = False
        for index, key in enumerate(receipt_keys):
            receipts, erased_at = replies[2 * index], replies[2 * index + 1]
            if erased_at is not None:  # an erasure cut short after its first step: finish it
                await self._rights.forget_receipts(
                    subjects[index], list(receipts.values()), float(erased_at)
                )
                continue
            old = [rid for rid, body in receipts.items() if _created(body) < receipts_before]
            if old:
                pipeline.hdel(key, *old)
                removed["receipts"] += len(old)
                expired_any = True
        if expired_any:
            await self._redis.execute(pipeline)


def _subject_of(receipts_key: str) -> str:
    """`cg:subject:{<id>}:receipts` → `<id>`."""
    return receipts_key.removeprefix("cg:subject:{").removesuffix("}:receipts")


def _created(body: str) -> float:
    return float(json.loads(body)["created_at"])
