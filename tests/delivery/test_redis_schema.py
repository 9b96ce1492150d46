"""The Redis layout's version: a store written by the release before versions (no
`cg:schema-version`, no share counts) is migrated once by the hit queue, and its anonymous
entries count against the anonymous share from then on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.delivery.queue import QueueCap, QueuedHit, open_hit_queue
from gateway.model.outbound_hits import OutboundHit
from gateway.settings import Settings
from gateway.store import open_store
from gateway.store.hit_queue_layout import STREAMS_KEY, share_key, stream_key
from gateway.store.redis_connection import Client, RedisConnection
from gateway.store.redis_schema import SCHEMA_KEY, VERSION
from gateway.store.store_settings import StoreSettings


async def raw_client(url: str) -> Client:
    """A client of the store's server outside any store (decoded replies)."""
    connection = RedisConnection(url, StoreSettings.of(Settings()))
    await connection.open()
    return connection.client


def hit(n: int, consent_id: str | None) -> QueuedHit:
    url = f"https://v.example/c?n={n}"
    return QueuedHit(
        OutboundHit("ga4", "GET", url, (("User-Agent", "ua"),)), consent_id, 1000.0 + n
    )


async def previous_release_stream(url: str, hits: list[QueuedHit]) -> None:
    """What that release wrote: `h` and, for a consented hit, `s`; the stream registered."""
    client = await raw_client(url)
    key = stream_key("ga4", 0)
    await client.sadd(STREAMS_KEY, key)
    for queued in hits:
        fields: dict[Any, Any] = {"h": queued.to_json()}
        if queued.subject_hash:
            fields["s"] = queued.subject_hash
        await client.xadd(key, fields)
    await client.aclose()


@pytest.mark.parametrize("store_url", ["redis", "cluster"], indirect=True)
async def test_a_store_of_the_previous_release_is_migrated_once(
    store_url: str, make_settings: Callable[..., Settings]
) -> None:
    old = [hit(n, None) for n in range(4)] + [hit(9, "c1")]
    await previous_release_stream(store_url, old)
    queue_store = open_store(make_settings(store=store_url))
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    client = await raw_client(store_url)
    try:
        # Four anonymous entries already there: half of a 10-entry cap leaves room for one.
        cap = QueueCap(10, anonymous_share=0.5)
        refused = await queue.append([hit(n, None) for n in range(10, 13)], cap)
        assert refused == {"ga4": {"anonymous_share": 2}}
        assert await client.get(SCHEMA_KEY) == str(VERSION)
        assert await client.hget(share_key("ga4", 0), "anon") == "5"
        taken = await queue.take("ga4", "w1", 10, 30.0, now=2000.0)
        assert [t.hit for t in taken] == [*old, hit(10, None)]
        await queue.ack("ga4", [t.entry_id for t in taken])
        assert await client.exists(share_key("ga4", 0)) == 0  # empty: the counts go with it
    finally:
        await client.aclose()
        await queue_store.close()
