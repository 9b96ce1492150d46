"""The storage contract: every backend (SQLite, Redis, Redis Cluster) passes the same tests."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.errors import StoreUnavailable
from gateway.receipts.model import Receipt, new_receipt_id
from gateway.store import Store, open_store
from gateway.store.base import CountKey
from gateway.store.redis import day_receipts_key, subject_receipts_key

DAY = 86400.0
T0 = 1_764_000_000.0  # 2025-11-24T16:00:00Z


def receipt(
    subject: str = "subject-aaaaaaaaaaaaaaaa", at: float = T0, **changes: object
) -> Receipt:
    base = Receipt(
        receipt_id=new_receipt_id(at),
        subject_id=subject,
        subject_kind="visitor",
        action="accept_all",
        granted=("analytics", "necessary"),
        denied=("marketing",),
        policy_revision=1,
        policy_url="https://www.example.com/privacy",
        texts_hash="0" * 64,
        language="en",
        region="DE",
        collection_point="https://www.example.com/pricing",
        ip="203.0.113.0",
        browser="Firefox",
        os="Windows",
        device="desktop",
        gpc=False,
        created_at=at,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def all_receipts(
    store: Store, since: float | None = None, until: float | None = None, page: int = 1000
) -> list[Receipt]:
    return [r async for r in store.iter_receipts(since, until, page=page)]


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_a_stored_receipt_comes_back_unchanged(store: Store) -> None:
    original = receipt(region="", gpc=True, action="custom", language="ru")
    await store.add_receipts([original])
    assert await store.subject_receipts(original.subject_id) == [original]
    assert await all_receipts(store) == [original]


async def test_writing_a_receipt_twice_stores_it_once(store: Store) -> None:
    first, second = receipt(at=T0), receipt(at=T0 + 1)
    await store.add_receipts([first, second])
    await store.add_receipts([second, first])  # a replayed spool
    assert await store.subject_receipts(first.subject_id) == [first, second]
    assert await all_receipts(store) == [first, second]


async def test_subject_receipts_are_oldest_first_and_only_theirs(store: Store) -> None:
    mine = [receipt("subject-mine-aaaaaaaaaa", at=T0 + offset) for offset in (50, 10, 30)]
    theirs = receipt("subject-theirs-aaaaaaaa", at=T0 + 20)
    await store.add_receipts([*mine, theirs])
    assert await store.subject_receipts("subject-mine-aaaaaaaaaa") == sorted(
        mine, key=lambda r: r.created_at
    )
    assert await store.subject_receipts("subject-nobody-aaaaaaa") == []


async def test_receipts_stream_by_time_window_across_days(store: Store) -> None:
    stamps = [T0 - 2 * DAY, T0 - DAY + 5, T0, T0 + 3, T0 + DAY, T0 + 3 * DAY]
    receipts = [receipt(f"subject-{i:02d}-aaaaaaaaaaa", at=at) for i, at in enumerate(stamps)]
    await store.add_receipts(list(reversed(receipts)))
    assert await all_receipts(store) == receipts
    # since is inclusive, until exclusive
    assert await all_receipts(store, since=T0, until=T0 + DAY) == receipts[2:4]
    assert await all_receipts(store, since=T0 - DAY + 5) == receipts[1:]
    assert await all_receipts(store, until=T0) == receipts[:2]


async def test_streaming_pages_through_many_receipts(store: Store) -> None:
    receipts = [receipt(f"subject-{i:04d}-aaaaaaaaa", at=T0 + i) for i in range(257)]
    await store.add_receipts(receipts)
    assert await all_receipts(store, page=50) == receipts


async def test_a_closed_or_unreachable_store_raises_store_unavailable(make_settings) -> None:
    unreachable = open_store(
        make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.5)
    )
    await unreachable.open()
    with pytest.raises(StoreUnavailable):
        await unreachable.ping()
    with pytest.raises(StoreUnavailable):
        await unreachable.add_receipts([receipt()])
    await unreachable.close()


def test_one_subjects_keys_share_a_cluster_slot() -> None:
    key = subject_receipts_key("abc")
    assert "{abc}" in key
    assert "{2026-11-25}" in day_receipts_key("2026-11-25")


async def test_counts_add_up_across_batches_and_days(store: Store) -> None:
    await store.add_counts(
        {
            CountKey("2026-11-24", "pixel", "ga4:forward"): 3,
            CountKey("2026-11-25", "pixel", "ga4:forward"): 1,
        }
    )
    await store.add_counts(
        {
            CountKey("2026-11-25", "pixel", "ga4:forward"): 4,
            CountKey("2026-11-25", "pixel", "meta_pixel:block"): 2,
        }
    )
    await store.add_counts({CountKey("2026-11-25", "email", "c1:human"): 9})
    assert await store.counts("pixel", "2026-11-24", "2026-11-25") == {
        CountKey("2026-11-24", "pixel", "ga4:forward"): 3,
        CountKey("2026-11-25", "pixel", "ga4:forward"): 5,
        CountKey("2026-11-25", "pixel", "meta_pixel:block"): 2,
    }
    assert await store.counts("pixel", "2026-11-25", "2026-11-25") == {
        CountKey("2026-11-25", "pixel", "ga4:forward"): 5,
        CountKey("2026-11-25", "pixel", "meta_pixel:block"): 2,
    }
    assert await store.counts("email", "2026-11-01", "2026-11-30") == {
        CountKey("2026-11-25", "email", "c1:human"): 9
    }
    assert await store.counts("pixel", "2026-12-01", "2026-12-02") == {}
