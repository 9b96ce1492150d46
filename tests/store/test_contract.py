"""The storage contract: every backend (SQLite, Redis, Redis Cluster) passes the same tests."""

from __future__ import annotations

import dataclasses
import time

import pytest

from gateway.errors import StoreUnavailable
from gateway.model.days import day_of
from gateway.model.email_events import EmailEvent, RecipientConsent, new_event_id
from gateway.model.receipts import Receipt, new_receipt_id
from gateway.store import Store, open_store
from gateway.store.base import CountKey
from gateway.store.redis_keys import (
    day_receipts_key,
    email_events_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)

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
    return [r async for r in store.receipts.iter_receipts(since, until, page=page)]


async def test_ping(store: Store) -> None:
    await store.ping()


async def test_a_stored_receipt_comes_back_unchanged(store: Store) -> None:
    original = receipt(region="", gpc=True, action="custom", language="ru")
    await store.receipts.add_receipts([original])
    assert await store.receipts.subject_receipts(original.subject_id) == [original]
    assert await all_receipts(store) == [original]


async def test_writing_a_receipt_twice_stores_it_once(store: Store) -> None:
    first, second = receipt(at=T0), receipt(at=T0 + 1)
    await store.receipts.add_receipts([first, second])
    await store.receipts.add_receipts([second, first])  # a replayed spool
    assert await store.receipts.subject_receipts(first.subject_id) == [first, second]
    assert await all_receipts(store) == [first, second]


async def test_subject_receipts_are_oldest_first_and_only_theirs(store: Store) -> None:
    mine = [receipt("subject-mine-aaaaaaaaaa", at=T0 + offset) for offset in (50, 10, 30)]
    theirs = receipt("subject-theirs-aaaaaaaa", at=T0 + 20)
    await store.receipts.add_receipts([*mine, theirs])
    assert await store.receipts.subject_receipts("subject-mine-aaaaaaaaaa") == sorted(
        mine, key=lambda r: r.created_at
    )
    assert await store.receipts.subject_receipts("subject-nobody-aaaaaaa") == []


async def test_receipts_stream_by_time_window_across_days(store: Store) -> None:
    stamps = [T0 - 2 * DAY, T0 - DAY + 5, T0, T0 + 3, T0 + DAY, T0 + 3 * DAY]
    receipts = [receipt(f"subject-{i:02d}-aaaaaaaaaaa", at=at) for i, at in enumerate(stamps)]
    await store.receipts.add_receipts(list(reversed(receipts)))
    assert await all_receipts(store) == receipts
    # since is inclusive, until exclusive
    assert await all_receipts(store, since=T0, until=T0 + DAY) == receipts[2:4]
    assert await all_receipts(store, since=T0 - DAY + 5) == receipts[1:]
    assert await all_receipts(store, until=T0) == receipts[:2]


async def test_streaming_pages_through_many_receipts(store: Store) -> None:
    receipts = [receipt(f"subject-{i:04d}-aaaaaaaaa", at=T0 + i) for i in range(257)]
    await store.receipts.add_receipts(receipts)
    assert await all_receipts(store, page=50) == receipts


async def test_latest_receipts_are_newest_first_across_days(store: Store) -> None:
    assert await store.receipts.latest_receipts(5) == []
    stamps = [T0 - 40 * DAY, T0 - 2 * DAY, T0, T0 + 1, T0 + 2, T0 + DAY, T0 + DAY + 1]
    receipts = [receipt(f"subject-{i:02d}-aaaaaaaaaaa", at=at) for i, at in enumerate(stamps)]
    await store.receipts.add_receipts(receipts[::2])
    await store.receipts.add_receipts(receipts[1::2])
    newest_first = receipts[::-1]
    assert await store.receipts.latest_receipts(3) == newest_first[:3]
    assert await store.receipts.latest_receipts(5) == newest_first[:5]  # reaching back over a day
    assert await store.receipts.latest_receipts(100) == newest_first


async def test_a_closed_or_unreachable_store_raises_store_unavailable(make_settings) -> None:
    unreachable = open_store(
        make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.5)
    )
    await unreachable.open()
    with pytest.raises(StoreUnavailable):
        await unreachable.ping()
    with pytest.raises(StoreUnavailable):
        await unreachable.receipts.add_receipts([receipt()])
    await unreachable.close()


def test_one_subjects_keys_share_a_cluster_slot() -> None:
    key = subject_receipts_key("abc")
    assert "{abc}" in key
    assert "{2026-11-25}" in day_receipts_key("2026-11-25")


async def test_counts_add_up_across_batches_and_days(store: Store) -> None:
    # Days near today's, from the real clock: Redis expires a day's counts by the event
    # retention, on its own (real) clock, so fixed dates would fail a year or so from now.
    first = time.time() // 86400 * 86400 - 10 * 86400
    d24, d25, d30, next1, next2 = (day_of(first + n * 86400) for n in (0, 1, 6, 8, 9))
    d01 = day_of(first - 23 * 86400)
    await store.counts.add_counts(
        {
            CountKey(d24, "pixel", "ga4:forward"): 3,
            CountKey(d25, "pixel", "ga4:forward"): 1,
        }
    )
    await store.counts.add_counts(
        {
            CountKey(d25, "pixel", "ga4:forward"): 4,
            CountKey(d25, "pixel", "meta_pixel:block"): 2,
        }
    )
    await store.counts.add_counts({CountKey(d25, "email", "c1:human"): 9})
    assert await store.counts.counts("pixel", d24, d25) == {
        CountKey(d24, "pixel", "ga4:forward"): 3,
        CountKey(d25, "pixel", "ga4:forward"): 5,
        CountKey(d25, "pixel", "meta_pixel:block"): 2,
    }
    assert await store.counts.counts("pixel", d25, d25) == {
        CountKey(d25, "pixel", "ga4:forward"): 5,
        CountKey(d25, "pixel", "meta_pixel:block"): 2,
    }
    assert await store.counts.counts("email", d01, d30) == {CountKey(d25, "email", "c1:human"): 9}
    assert await store.counts.counts("pixel", next1, next2) == {}


# ---------------------------------------------------------------- email recipients


def email_event(subject: str = "esp-1", at: float | None = None, **changes: object) -> EmailEvent:
    base = EmailEvent(
        event_id=new_event_id(),
        subject_id=subject,
        campaign="spring-26",
        kind="click",
        link=2,
        verdict="human",
        sent_at=int(time.time()) - 3600,
        created_at=round(time.time() if at is None else at, 3),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def test_recipient_consent_last_write_wins_and_reads_in_one_batch(store: Store) -> None:
    granted = RecipientConsent("esp-1", "granted", T0, "r1")
    await store.email.put_recipient_consent(granted)
    await store.email.put_recipient_consent(RecipientConsent("esp-2", "granted", T0, "r2"))
    withdrawn = RecipientConsent("esp-2", "withdrawn", T0 + 5, "r3")
    await store.email.put_recipient_consent(withdrawn)
    assert await store.email.recipient_consents(["esp-1", "esp-2", "esp-nobody", "esp-1"]) == {
        "esp-1": granted,
        "esp-2": withdrawn,
    }
    assert await store.email.recipient_consents([]) == {}


async def test_email_events_are_idempotent_ordered_and_per_subject(store: Store) -> None:
    now = time.time()
    first = email_event("esp-1", at=now - 20, kind="open", link=0, verdict="proxied")
    second = email_event("esp-1", at=now - 10)
    other = email_event("esp-2", at=now - 15, verdict="machine")
    await store.email.add_email_events([second, other, first])
    await store.email.add_email_events([first, second])  # a retried batch
    assert await store.email.email_events("esp-1") == [first, second]
    assert await store.email.email_events("esp-2") == [other]
    assert await store.email.email_events("esp-nobody") == []


async def test_email_events_older_than_the_retention_are_gone(store: Store) -> None:
    retention = 395 * DAY
    expired = email_event("esp-1", at=time.time() - retention - DAY)
    kept = email_event("esp-1", at=time.time() - retention + DAY)
    await store.email.add_email_events([expired, kept])
    assert await store.email.email_events("esp-1") == [kept]


async def test_erasing_a_recipient_leaves_only_a_tombstone(store: Store) -> None:
    await store.email.put_recipient_consent(RecipientConsent("esp-1", "granted", T0, "r1"))
    await store.email.put_recipient_consent(RecipientConsent("esp-2", "granted", T0, "r2"))
    mine = [email_event("esp-1"), email_event("esp-1", kind="open", link=0)]
    theirs = email_event("esp-2")
    await store.email.add_email_events([*mine, theirs])
    erased = await store.rights.erase_subject("esp-1", T0 + 60)
    assert erased == {"receipts": 0, "email_events": 2, "email_consent": 1, "objections": 0}
    assert await store.email.email_events("esp-1") == []
    assert await store.email.recipient_consents(["esp-1", "esp-2"]) == {
        "esp-1": RecipientConsent("esp-1", "erased", T0 + 60),
        "esp-2": RecipientConsent("esp-2", "granted", T0, "r2"),
    }
    # The tombstone outlives a later write of the choice: tracking stays off.
    await store.email.put_recipient_consent(RecipientConsent("esp-1", "granted", T0 + 90, "r9"))
    assert (await store.email.recipient_consents(["esp-1"]))["esp-1"].state == "erased"
    assert await store.email.email_events("esp-2") == [theirs]
    assert set((await store.rights.erase_subject("esp-never-seen", T0)).values()) == {0}


def test_a_recipients_keys_share_a_cluster_slot_and_the_tombstone_hides_the_id() -> None:
    assert "{esp-1}" in recipient_consent_key("esp-1")
    assert "{esp-1}" in email_events_key("esp-1")
    assert "esp-1" not in suppression_key("esp-1")


async def test_receipt_windows_far_in_the_past_or_future_are_just_wide(store: Store) -> None:
    stored = receipt(at=T0)
    await store.receipts.add_receipts([stored])
    year_1, year_9999 = -62135596800.0, 253402300799.0
    assert await all_receipts(store, since=year_1, until=year_9999) == [stored]
    assert await all_receipts(store, since=year_1, until=0.0) == []
