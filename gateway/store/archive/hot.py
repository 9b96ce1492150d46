"""The Redis side of a move: what is older than the hot window, found in batches, and taken
out of Redis once the archive holds it. Functions of the Redis client (single node or
Cluster), so the store's own modules stay as they are.

Receipts are found through the day index (`cg:receipt-days` → `cg:receipts:{day}`), oldest
day first. Email events have no day index: they are found by a SCAN over the subjects' event
sets (`cg:subject:{id}:email-events`), which Redis serves in small steps without blocking.
Each record is taken out by its exact JSON, so a record written after it was read is never
taken out unmoved.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, NamedTuple, TypeVar

from gateway.errors import StoreUnavailable
from gateway.model.days import day_of
from gateway.store import retention_rules
from gateway.store.redis_connection import REDIS_FAULTS
from gateway.store.redis_keys import (
    DAYS_KEY,
    day_receipts_key,
    email_events_key,
    subject_receipts_key,
)

EVENT_SETS = "cg:subject:*:email-events"
SCAN_COUNT = 500
T = TypeVar("T")


class HotRecord(NamedTuple):
    """A receipt or email event as Redis holds it: its JSON, and the fields a move needs.
    Read with `json.loads` alone — the full record is not built (five times slower, and the
    mover shares its event loop with the hot paths)."""

    record_id: str
    subject_id: str
    created_at: float
    body: str

    @property
    def day(self) -> str:
        return day_of(self.created_at)


def _receipt(body: str) -> HotRecord:
    fields = json.loads(body)
    return HotRecord(fields["receipt_id"], fields["subject_id"], fields["created_at"], body)


def _event(body: str) -> HotRecord:
    fields = json.loads(body)
    return HotRecord(fields["event_id"], fields["subject_id"], fields["created_at"], body)


async def _redis(call: Awaitable[T]) -> T:
    try:
        return await call
    except REDIS_FAULTS as error:
        raise StoreUnavailable(f"Redis: {type(error).__name__}") from error


async def old_receipts(client: Any, before: float, limit: int) -> list[HotRecord]:
    """Up to `limit` receipts created before `before`, oldest day first, with their JSON."""
    days = await _redis(client.zrangebyscore(DAYS_KEY, "-inf", before))
    found: list[HotRecord] = []
    for day in days:
        bodies = await _redis(
            client.zrangebyscore(
                day_receipts_key(day), "-inf", f"({before}", start=0, num=limit - len(found)
            )
        )
        found += (_receipt(body) for body in bodies)
        if len(found) >= limit:
            break
    return found


async def forget_receipts(client: Any, moved: Sequence[HotRecord]) -> None:
    """Take moved receipts out of their subject's hash and their day's set; a day left empty
    leaves the day index (put back at once if a late receipt landed on it meanwhile: a
    writer adds to the day's set before the index)."""
    if not moved:
        return
    pipeline = client.pipeline(transaction=False)
    for record in moved:
        pipeline.hdel(subject_receipts_key(record.subject_id), record.record_id)
        pipeline.zrem(day_receipts_key(record.day), record.body)
    await _redis(pipeline.execute())
    for day in sorted({record.day for record in moved}):
        if await _redis(client.zcard(day_receipts_key(day))):
            continue
        await _redis(client.zrem(DAYS_KEY, day))
        if await _redis(client.zcard(day_receipts_key(day))):
            await _redis(client.zadd(DAYS_KEY, {day: retention_rules.day_start(day)}))


async def oldest_receipt_at(client: Any, days_to_look: int = 7) -> float | None:
    """When the oldest receipt still in Redis was created (None: none there). Days emptied by
    expiry may linger in the index: up to `days_to_look` of them are looked past."""
    days = await _redis(client.zrange(DAYS_KEY, 0, days_to_look - 1))
    for day in days:
        first = await _redis(client.zrange(day_receipts_key(day), 0, 0, withscores=True))
        if first:
            return float(first[0][1])
    return None


async def old_event_batches(
    client: Any, before: float, limit: int
) -> AsyncIterator[list[HotRecord]]:
    """Email events created before `before`, in batches of about `limit`, over one SCAN of
    the subjects' event sets."""
    keys: list[str] = []
    try:
        async for key in client.scan_iter(match=EVENT_SETS, count=SCAN_COUNT):
            keys.append(key)
            if len(keys) >= SCAN_COUNT:
                batch = await _old_events_in(client, keys, before, limit)
                keys = []
                if batch:
                    yield batch
    except REDIS_FAULTS as error:
        raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
    batch = await _old_events_in(client, keys, before, limit)
    if batch:
        yield batch


async def _old_events_in(
    client: Any, keys: Sequence[str], before: float, limit: int
) -> list[HotRecord]:
    if not keys:
        return []
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.zrangebyscore(key, "-inf", f"({before}", start=0, num=limit)
    found: list[HotRecord] = []
    for bodies in await _redis(pipeline.execute()):
        found += (_event(body) for body in bodies)
    return found


async def forget_events(client: Any, moved: Sequence[HotRecord]) -> None:
    if not moved:
        return
    pipeline = client.pipeline(transaction=False)
    for record in moved:
        pipeline.zrem(email_events_key(record.subject_id), record.body)
    await _redis(pipeline.execute())
