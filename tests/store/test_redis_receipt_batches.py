"""A single Redis node writes a batch of receipts in one script call that takes one argument per
receipt and each day's expiry once: what it leaves behind is what one write per receipt left —
each day set with its expiry, the set of days, nothing of an erased subject."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as redis

from gateway.model.days import day_of
from gateway.store import open_store
from gateway.store.redis_keys import DAYS_KEY, day_receipts_key, subject_receipts_key
from gateway.store.retention_rules import day_expires_at, day_start, receipt_retention_seconds
from tests.conftest import empty_redis_url
from tests.store.test_contract import receipt

DAY = 86400


async def test_a_batch_across_days_writes_each_day_once_and_nothing_of_the_erased(
    request: pytest.FixtureRequest, make_settings
) -> None:
    settings = make_settings(store=empty_redis_url(request, cluster=False))
    store = open_store(settings)
    await store.open()
    # Today's noon: near now (the day sets expire by the retention), far from a day's edge.
    now = day_start(day_of(time.time())) + DAY / 2
    await store.rights.erase_subject("subject-erased-aaaaaaa", now)
    yesterday, today = receipt("subject-one-aaaaaaaaaa", at=now - DAY), receipt(at=now)
    also_today = receipt("subject-two-aaaaaaaaaa", at=now + 0.001, action="custom")
    # Only the erased subject's receipt is on the third day: that day is not written at all.
    erased = receipt("subject-erased-aaaaaaa", at=now + DAY)
    batch = [today, erased, yesterday, also_today]
    assert await store.receipts.add_receipts(batch) == [today, yesterday, also_today]
    assert await store.receipts.add_receipts(batch) == []  # a replay changes nothing

    client = redis.Redis.from_url(settings.store.url, decode_responses=True)
    keep = receipt_retention_seconds(settings)
    days = await client.zrange(DAYS_KEY, 0, -1, withscores=True)
    assert days == [(yesterday.day, day_start(yesterday.day)), (today.day, day_start(today.day))]
    for day, members in ((today.day, [today, also_today]), (yesterday.day, [yesterday])):
        assert await client.zrange(day_receipts_key(day), 0, -1) == [r.to_json() for r in members]
        assert await client.expiretime(day_receipts_key(day)) == day_expires_at(day, keep)
    assert not await client.exists(day_receipts_key(erased.day))
    assert not await client.exists(subject_receipts_key(erased.subject_id))
    assert 0 < await client.ttl(subject_receipts_key(today.subject_id)) <= keep
    assert await store.receipts.subject_receipts(today.subject_id) == [today]
    await client.aclose()
    await store.close()
