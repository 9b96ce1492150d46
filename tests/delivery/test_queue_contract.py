"""The hit queue's contract, on SQLite, Redis and a Redis Cluster alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from gateway.delivery.queue import HitQueue, QueuedHit, open_hit_queue
from gateway.settings import Settings
from gateway.tracking.hits import OutboundHit

LEASE = 5.0


def queued(n: int, vendor: str = "ga4", consent_id: str | None = "c1") -> QueuedHit:
    hit = OutboundHit(vendor, "GET", f"https://v.example/c?n={n}", (("User-Agent", "ua"),), b"\xff")
    return QueuedHit(hit, consent_id, 1000.0 + n)


@pytest.fixture
async def queue(store_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[HitQueue]:
    backend = open_hit_queue(make_settings(store=store_url, delivery_shards=2))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


def numbers(taken) -> list[int]:
    return [int(t.hit.hit.url.rsplit("=", 1)[1]) for t in taken]


async def test_hits_come_back_whole_in_order_and_leave_when_acknowledged(queue) -> None:
    assert await queue.append([queued(n) for n in range(5)], cap=100) == {}
    taken = await queue.take("ga4", "w1", 10, LEASE, now=2000.0)
    assert sorted(numbers(taken)) == [0, 1, 2, 3, 4]
    assert {t.hit for t in taken} == {queued(n) for n in range(5)}  # body bytes, headers, time
    assert not any(t.maybe_sent for t in taken)
    assert await queue.take("ga4", "w2", 10, LEASE, now=2000.0) == []  # leased to w1
    depth = await queue.depths(["ga4", "matomo"])
    assert (depth["ga4"].depth, depth["matomo"].depth) == (5, 0)
    await queue.ack("ga4", [t.entry_id for t in taken])
    assert (await queue.depths(["ga4"]))["ga4"].depth == 0


async def test_a_full_vendor_queue_refuses_the_newest_and_says_how_many(queue) -> None:
    refused = await queue.append([queued(n) for n in range(3)] + [queued(9, "matomo")], cap=2)
    assert refused.get("ga4", 0) >= 1
    assert "matomo" not in refused
    assert (await queue.depths(["ga4"]))["ga4"].depth == 3 - refused["ga4"]


async def test_a_dead_workers_entries_are_reclaimed_with_their_sending_mark(queue) -> None:
    await queue.append([queued(n) for n in range(4)], cap=100)
    taken = await queue.take("ga4", "dead", 4, 1.0, now=2000.0)
    await queue.mark_sending("ga4", [t.entry_id for t in taken[:2]])
    import asyncio

    await asyncio.sleep(1.1)  # Redis counts idle time on its own clock
    again = await queue.take("ga4", "alive", 4, 1.0, now=2001.5)  # every worker: one lease
    assert sorted(numbers(again)) == [0, 1, 2, 3]
    marked = {n for n, t in zip(numbers(again), again, strict=True) if t.maybe_sent}
    assert marked == set(numbers(taken[:2]))


async def test_renewed_leases_are_not_reclaimed(queue) -> None:
    import asyncio

    await queue.append([queued(1)], cap=100)
    (entry,) = await queue.take("ga4", "w1", 1, 1.0, now=2000.0)
    await asyncio.sleep(0.7)
    await queue.renew("ga4", "w1", [entry.entry_id], 1.0, now=2000.7)
    await asyncio.sleep(0.5)
    assert await queue.take("ga4", "w2", 1, 1.0, now=2001.2) == []


async def test_dead_letters_are_kept_with_their_reason(queue) -> None:
    await queue.append([queued(1), queued(2)], cap=100)
    taken = await queue.take("ga4", "w1", 2, LEASE, now=2000.0)
    await queue.dead_letter(
        "ga4", [(t.entry_id, t.hit.to_json()) for t in taken], "expired", now=2000.0
    )
    assert (await queue.depths(["ga4"]))["ga4"].depth == 0
    letters = await queue.dead_letters("ga4")
    assert sorted(reason for reason, _ in letters) == ["expired", "expired"]
    assert {QueuedHit.from_json(body) for _, body in letters} == {queued(1), queued(2)}
