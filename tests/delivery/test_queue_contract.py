"""The hit queue's contract, on SQLite, Redis and a Redis Cluster alike."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.delivery.queue import HitQueue, QueueCap, QueuedHit, Taken, open_hit_queue
from gateway.delivery.sqlite_queue import SQLiteHitQueue
from gateway.model.outbound_hits import OutboundHit
from gateway.store import Store
from gateway.store.hit_queue_layout import DEAD_LETTER_SECONDS

LEASE = 5.0
SHORT = 0.3  # a lease that runs out during the test
T = 2000.0


def queued(n: int, vendor: str = "ga4", consent_id: str | None = "c1") -> QueuedHit:
    url = f"https://v.example/c?cid={consent_id}&n={n}"
    hit = OutboundHit(vendor, "GET", url, (("User-Agent", "ua"),), b"\xff")
    return QueuedHit(hit, consent_id, 1000.0 + n)


@pytest.fixture
def queue(store: Store) -> HitQueue:
    """The queue of the `store` fixture (on its connection), two shards per vendor on Redis."""
    return open_hit_queue(store, shards=2)


def numbers(taken) -> list[int]:
    return [int(t.hit.hit.url.rsplit("=", 1)[1]) for t in taken]


async def test_hits_come_back_whole_in_order_and_leave_when_acknowledged(queue) -> None:
    assert await queue.append([queued(n) for n in range(5)], cap=100) == {}
    taken = await queue.take("ga4", "w1", 10, LEASE, now=T)
    assert sorted(numbers(taken)) == [0, 1, 2, 3, 4]
    assert {t.hit for t in taken} == {queued(n) for n in range(5)}  # body bytes, headers, time
    assert not any(t.maybe_sent for t in taken)
    assert await queue.take("ga4", "w2", 10, LEASE, now=T) == []  # leased to w1
    depth = await queue.depths(["ga4", "matomo"])
    assert (depth["ga4"].depth, depth["matomo"].depth) == (5, 0)
    await queue.ack("ga4", [t.entry_id for t in taken])
    assert (await queue.depths(["ga4"]))["ga4"].depth == 0


async def test_a_full_vendor_queue_refuses_the_newest_and_says_how_many(queue) -> None:
    refused = await queue.append([queued(n) for n in range(3)] + [queued(9, "matomo")], cap=2)
    assert refused["ga4"]["cap"] >= 1
    assert "matomo" not in refused
    assert (await queue.depths(["ga4"]))["ga4"].depth == 3 - refused["ga4"]["cap"]


def sized(n: int, size: int) -> QueuedHit:
    url = f"https://v.example/c?pad={'p' * size}&n={n}"
    return QueuedHit(OutboundHit("ga4", "GET", url, (("User-Agent", "ua"),)), "c1", 1000.0 + n)


async def test_a_vendor_queue_at_its_byte_cap_refuses_the_newest(queue) -> None:
    # Ten hits of ~5 KB against 40 KB (on Redis, 20 KB for each of the two shards): the
    # first fit, the rest are refused; the size follows the queue down again.
    refused = await queue.append([sized(n, 5000) for n in range(10)], QueueCap(100, 40_000))
    accepted = 10 - refused["ga4"]["cap"]
    assert 1 <= accepted <= 7
    depth = (await queue.depths(["ga4"]))["ga4"]
    assert depth.depth == accepted
    assert accepted * 5000 <= depth.bytes <= 40_000
    taken = await queue.take("ga4", "w1", 10, LEASE, now=T)
    assert numbers(taken) == list(range(accepted))  # the oldest kept, the newest refused
    await queue.ack("ga4", [t.entry_id for t in taken])
    assert (await queue.depths(["ga4"]))["ga4"].bytes < 5000  # Redis: an empty stream's own
    assert await queue.append([sized(99, 5000)], QueueCap(100, 40_000)) == {}


async def test_released_entries_are_taken_at_once_and_marked_ones_are_not_released(
    queue,
) -> None:
    await queue.append([queued(n) for n in range(3)], cap=100)
    taken = await queue.take("ga4", "w1", 3, LEASE, now=T)
    ids = [t.entry_id for t in taken]
    assert await queue.mark_sending("ga4", "w1", ids[:1], LEASE, now=T) == ids[:1]
    await queue.release("ga4", "w2", ids)  # not w2's: nothing happens
    assert await queue.take("ga4", "w3", 3, LEASE, now=T + 1) == []
    await queue.release("ga4", "w1", ids)
    again = await queue.take("ga4", "w3", 3, LEASE, now=T + 1)
    assert sorted(numbers(again)) == [1, 2]  # well within the lease: released, never tried
    assert not any(t.maybe_sent for t in again)


async def reclaimed(queue: HitQueue, consumer: str, count: int, lease: float) -> list[Taken]:
    """`count` entries whose lease ran out, taken by `consumer`: on SQLite by moving `now`
    past the lease; on Redis (which counts idle time on its own clock) by polling."""
    if isinstance(queue, SQLiteHitQueue):
        return await queue.take("ga4", consumer, count, lease, now=T + 2 * lease)
    found: list[Taken] = []
    deadline = time.monotonic() + 10
    while len(found) < count and time.monotonic() < deadline:
        found += await queue.take("ga4", consumer, count - len(found), lease, now=time.time())
        await asyncio.sleep(lease / 4)
    return found


async def test_a_dead_workers_entries_are_reclaimed_with_their_sending_mark(queue) -> None:
    await queue.append([queued(n) for n in range(4)], cap=100)
    taken = await queue.take("ga4", "dead", 4, SHORT, now=T)
    ids = [t.entry_id for t in taken[:2]]
    assert await queue.mark_sending("ga4", "dead", ids, SHORT, now=T) == ids
    again = await reclaimed(queue, "alive", 4, SHORT)
    assert sorted(numbers(again)) == [0, 1, 2, 3]
    marked = {n for n, t in zip(numbers(again), again, strict=True) if t.maybe_sent}
    assert marked == set(numbers(taken[:2]))


async def test_only_the_lease_holder_may_mark_an_entry_sending(queue) -> None:
    """A worker whose lease ran out (its consent checks took too long) must not send: the
    entry is another worker's now."""
    await queue.append([queued(1)], cap=100)
    (entry,) = await queue.take("ga4", "slow", 1, SHORT, now=T)
    (again,) = await reclaimed(queue, "fast", 1, SHORT)
    assert again.entry_id == entry.entry_id
    later = T + 2 * SHORT if isinstance(queue, SQLiteHitQueue) else time.time()
    assert await queue.mark_sending("ga4", "slow", [entry.entry_id], SHORT, now=later) == []
    assert await queue.mark_sending("ga4", "fast", [entry.entry_id], LEASE, now=later) == [
        entry.entry_id
    ]


async def test_a_renewal_does_not_take_back_a_reclaimed_entry(queue) -> None:
    await queue.append([queued(1)], cap=100)
    (entry,) = await queue.take("ga4", "slow", 1, SHORT, now=T)
    assert len(await reclaimed(queue, "fast", 1, SHORT)) == 1
    later = T + 2 * SHORT if isinstance(queue, SQLiteHitQueue) else time.time()
    await queue.renew("ga4", "slow", [entry.entry_id], LEASE, now=later)
    assert await queue.mark_sending("ga4", "fast", [entry.entry_id], LEASE, now=later) == [
        entry.entry_id
    ]
    assert await queue.mark_sending("ga4", "slow", [entry.entry_id], LEASE, now=later) == []


async def test_renewed_leases_are_not_reclaimed(queue) -> None:
    await queue.append([queued(1)], cap=100)
    (entry,) = await queue.take("ga4", "w1", 1, SHORT, now=T)
    if isinstance(queue, SQLiteHitQueue):
        await queue.renew("ga4", "w1", [entry.entry_id], SHORT, now=T + 0.7 * SHORT)
        assert await queue.take("ga4", "w2", 1, SHORT, now=T + 1.2 * SHORT) == []
        return
    until = time.monotonic() + 3 * SHORT  # renewed three times a lease, never reclaimed
    while time.monotonic() < until:
        await queue.renew("ga4", "w1", [entry.entry_id], SHORT, now=time.time())
        assert await queue.take("ga4", "w2", 1, SHORT, now=time.time()) == []
        await asyncio.sleep(SHORT / 4)


async def test_dead_letters_keep_no_personal_data_and_expire(queue, store) -> None:
    await queue.append([queued(1), queued(2)], cap=100)
    taken = await queue.take("ga4", "w1", 2, LEASE, now=T)
    await queue.dead_letter(
        "ga4", [(t.entry_id, t.hit.dead_letter()) for t in taken], "expired", now=time.time()
    )
    assert (await queue.depths(["ga4"]))["ga4"].depth == 0
    letters = await queue.dead_letters("ga4")
    assert letters == [("expired", '["cid","n"]')] * 2  # the names, no values, no UA, no id
    await store.retention.purge(time.time() + DEAD_LETTER_SECONDS - 60)
    assert len(await queue.dead_letters("ga4")) == 2
    await store.retention.purge(time.time() + DEAD_LETTER_SECONDS + 60)
    assert await queue.dead_letters("ga4") == []


async def test_erasing_a_subject_deletes_its_queued_hits(queue, store) -> None:
    await queue.append([queued(1, consent_id="gone"), queued(2, consent_id="stays")], cap=100)
    await queue.append([queued(3, consent_id="gone"), queued(4, consent_id=None)], cap=100)
    await queue.take("ga4", "w1", 1, LEASE, now=T)  # a taken entry goes too
    await store.rights.erase_subject("gone", time.time())
    assert (await queue.depths(["ga4"]))["ga4"].depth == 2  # the taken one went too
    left = await queue.take("ga4", "w2", 10, LEASE, now=T)
    assert {t.hit.consent_id for t in left} == {"stays", None}
