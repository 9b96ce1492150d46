"""Opening a Redis store builds the cluster-slot table the tombstone keys need, on every kind
of Redis (single, Sentinel, Cluster): at start, off the event loop, not inside the first
request or delivery round that needs a tombstone key (0.3-0.9 s of a busy loop)."""

from __future__ import annotations

from gateway.settings import Settings
from gateway.store import redis_keys
from gateway.store.redis_connection import RedisConnection
from gateway.store.store_settings import StoreSettings
from tests.servers import RedisServer


async def test_opening_a_single_redis_builds_the_slot_table(redis_single: RedisServer) -> None:
    redis_keys._slot_tags.cache_clear()
    connection = RedisConnection(redis_single.url, StoreSettings.of(Settings()))
    await connection.open()
    try:
        assert redis_keys._slot_tags.cache_info().currsize == 1
        tags = redis_keys._slot_tags()
        assert len(tags) == redis_keys.SLOTS
        assert all(redis_keys.key_slot(tag) == slot for slot, tag in enumerate(tags))
    finally:
        await connection.close()
