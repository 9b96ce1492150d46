"""The move: old receipts and email events go from Redis to PostgreSQL, idempotently. A crash
after the commit doubles nothing, a crash before it or an archive outage loses nothing, two
instances move each record once, and an erasure racing a move leaves nothing behind."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import pytest

from gateway.errors import StoreUnavailable
from gateway.settings import Settings
from gateway.store import open_store
from gateway.store.archive import hot
from gateway.store.archive.hot import HotRecord
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from tests.servers import free_port
from tests.store.archive.helpers import DAY, archived_ids, hot_receipt_count, old_receipts
from tests.store.test_contract import email_event, receipt


async def test_old_records_move_and_young_ones_stay(
    archived: ArchivedRedisStore, archive_url: str
) -> None:
    old = old_receipts(30)
    young = receipt("subject-0001-aaaaaaaa", at=round(time.time() - DAY, 3))
    await archived.receipts.add_receipts([*old, young])
    events = [email_event("esp-1", at=r.created_at) for r in old[:5]]
    await archived.email.add_email_events([*events, email_event("esp-1")])

    moved = await ArchiveMover(archived).run_once()

    assert moved is not None
    assert (moved.receipts, moved.events, moved.expired) == (30, 5, 0)
    assert sorted(await archived_ids(archive_url)) == sorted(r.receipt_id for r in old)
    assert sorted(await archived_ids(archive_url, "archived_email_events")) == sorted(
        e.event_id for e in events
    )
    assert await hot_receipt_count(archived) == 1  # the young one
    # One view: the subject's receipts and events and the export hold each record once.
    mine = [r for r in [*old, young] if r.subject_id == young.subject_id]
    assert await archived.receipts.subject_receipts(young.subject_id) == sorted(
        mine, key=lambda r: (r.created_at, r.receipt_id)
    )
    assert len(await archived.email.email_events("esp-1")) == 6
    exported = [r async for r in archived.receipts.iter_receipts(page=7)]
    assert sorted(r.receipt_id for r in exported) == sorted(r.receipt_id for r in [*old, young])
    assert [r.created_at for r in exported] == sorted(r.created_at for r in exported)
    assert (await ArchiveMover(archived).run_once(lease=False)) == type(moved)()  # nothing left


async def test_a_crash_after_the_commit_doubles_nothing(
    archived: ArchivedRedisStore, archive_url: str
) -> None:
    """The mover wrote a batch to PostgreSQL and died before taking it out of Redis."""
    old = old_receipts(40)
    await archived.receipts.add_receipts(old)
    cutoff = time.time() - 7 * DAY
    batch = await hot.old_receipts(archived.hot_client, cutoff, 25)
    assert await archived.archive.add_receipts(batch) == 25  # committed; Redis untouched

    # Meanwhile every reader sees each receipt once.
    exported = [r.receipt_id async for r in archived.receipts.iter_receipts()]
    assert sorted(exported) == sorted(r.receipt_id for r in old)
    subject = old[0].subject_id
    assert len(await archived.receipts.subject_receipts(subject)) == len(
        [r for r in old if r.subject_id == subject]
    )

    moved = await ArchiveMover(archived).run_once()  # the next round, on any instance
    assert moved is not None
    assert moved.receipts == 15
    ids = await archived_ids(archive_url)
    assert len(ids) == len(set(ids)) == 40
    assert await hot_receipt_count(archived) == 0


async def test_an_archive_down_loses_nothing_and_refuses_no_write(
    archived_settings: Callable[..., Settings], archive_url: str
) -> None:
    """Before the commit: the archive does not answer. The batch stays in Redis, receipts are
    still taken, and the next round with the archive back moves them."""
    down = archived_settings(
        archive=f"postgresql://postgres@127.0.0.1:{free_port()}/none", store_timeout_seconds=0.2
    )
    store = open_store(down)
    assert isinstance(store, ArchivedRedisStore)
    await store.open()
    try:
        old = old_receipts(20)
        assert len(await store.receipts.add_receipts(old)) == 20  # taken: writes go to Redis only
        mover = ArchiveMover(store)
        with pytest.raises(StoreUnavailable):
            await mover.run_once()
        assert await hot_receipt_count(store) == 20
        health = await mover.health(1.0)
        assert health["status"] == "unavailable"
        assert isinstance(health["lag_seconds"], float)
        assert health["lag_seconds"] > 20 * DAY
    finally:
        await store.close()

    back = open_store(archived_settings())
    assert isinstance(back, ArchivedRedisStore)
    await back.open()
    try:
        assert (await ArchiveMover(back).run_once(lease=False)).receipts == 20  # type: ignore[union-attr]
        assert sorted(await archived_ids(archive_url)) == sorted(r.receipt_id for r in old)
        assert (await ArchiveMover(back).health(1.0))["lag_seconds"] == 0.0
    finally:
        await back.close()


async def test_two_instances_move_each_record_once(
    archived_settings: Callable[..., Settings], archive_url: str
) -> None:
    """Two gateways on one Redis and one PostgreSQL: with the lease one moves per round; even
    without it (rounds racing), each record lands once."""
    first, second = open_store(archived_settings()), open_store(archived_settings())
    assert isinstance(first, ArchivedRedisStore)
    assert isinstance(second, ArchivedRedisStore)
    await first.open()
    await second.open()
    try:
        old = old_receipts(300, subjects=40)
        await first.receipts.add_receipts(old[:150])
        await second.receipts.add_receipts(old[150:])
        rounds = await asyncio.gather(
            ArchiveMover(first, batch=20).run_once(), ArchiveMover(second, batch=20).run_once()
        )
        assert sum(r is None for r in rounds) == 1  # the other held the lease
        await first.receipts.add_receipts(old_receipts(200, subjects=40, days_ago=40))
        for _ in range(5):
            await asyncio.gather(
                ArchiveMover(first, batch=15).run_once(lease=False),
                ArchiveMover(second, batch=15).run_once(lease=False),
            )
        ids = await archived_ids(archive_url)
        assert len(ids) == len(set(ids)) == 500
        assert await hot_receipt_count(first) == 0
    finally:
        await first.close()
        await second.close()


async def test_erasure_racing_a_move_leaves_nothing(
    archived: ArchivedRedisStore, archive_url: str
) -> None:
    """However a move and an erasure interleave, nothing of the erased subject stays, and a
    later move cannot bring it back; the others' records are all archived."""
    rng = random.Random()
    for attempt in range(6):
        subject = f"erased-{attempt:02d}-bbbbbbbb"
        mine = [receipt(subject, at=r.created_at + 0.5) for r in old_receipts(30, subjects=1)]
        others = old_receipts(60, subjects=6, days_ago=20 + attempt)
        await archived.receipts.add_receipts([*mine, *others])
        await archived.email.add_email_events([email_event(subject, at=mine[0].created_at)])

        async def erase(subject: str) -> None:
            await asyncio.sleep(rng.uniform(0, 0.05))
            await archived.rights.erase_subject(subject, time.time())

        await asyncio.gather(ArchiveMover(archived, batch=7).run_once(lease=False), erase(subject))
        await ArchiveMover(archived).run_once(lease=False)

        assert await archived_ids(archive_url, subject=subject) == []
        assert await archived_ids(archive_url, "archived_email_events", subject=subject) == []
        assert await archived.receipts.subject_receipts(subject) == []
        assert await archived.email.email_events(subject) == []
        # Replaying the subject's receipts (a spool) lands nowhere.
        assert await archived.receipts.add_receipts(mine) == []
        assert (
            await archived.archive.add_receipts(
                [HotRecord(r.receipt_id, r.subject_id, r.created_at, r.to_json()) for r in mine]
            )
            == 0
        )
    assert len(await archived_ids(archive_url)) == 6 * 60
