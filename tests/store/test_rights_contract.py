"""The storage contract for people's rights and retention: objections, erasure with its
tombstone, the purge (with a controlled clock) and leases — on SQLite, Redis and Redis Cluster.
Redis keeps its retention by expiry: the TTLs are checked on the real servers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from gateway.consent.objections import Objection
from gateway.model.email_events import RecipientConsent
from gateway.model.tombstones import tombstone_id
from gateway.store import Store, sqlite_purge
from gateway.store.base import CountKey
from gateway.store.redis_keys import (
    day_counts_key,
    day_receipts_key,
    email_events_key,
    objection_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from tests.store.test_contract import DAY, T0, all_receipts, email_event, receipt

ERASED_NOTHING = {"receipts": 0, "email_events": 0, "email_consent": 0, "objections": 0}


async def test_objections_last_write_wins_and_feed_the_registry_by_time(store: Store) -> None:
    first = Objection("esp-1", ("marketing",), T0, "r1")
    await store.rights.put_objection(first)
    await store.rights.put_objection(Objection("visitor-2", ("analytics",), T0 + 10, "r2"))
    widened = Objection("esp-1", ("analytics", "marketing"), T0 + 20, "r3")
    await store.rights.put_objection(widened)
    assert await store.rights.subject_objection("esp-1") == widened
    assert await store.rights.subject_objection("nobody") is None
    assert sorted(o.subject_id for o in await store.rights.objections_since(float("-inf"))) == [
        "esp-1",
        "visitor-2",
    ]
    assert await store.rights.objections_since(T0 + 15) == [widened]
    assert await store.rights.objections_since(T0 + 21) == []


async def test_erasing_a_subject_removes_everything_and_leaves_only_a_tombstone(
    store: Store,
) -> None:
    mine = [receipt("esp-1", at=T0), receipt("esp-1", at=T0 + DAY, action="withdraw")]
    theirs = receipt("esp-2", at=T0 + 5)
    await store.receipts.add_receipts([*mine, theirs])
    await store.email.put_recipient_consent(RecipientConsent("esp-1", "granted", T0, "r1"))
    events = [email_event("esp-1"), email_event("esp-1", kind="open", link=0)]
    await store.email.add_email_events([*events, email_event("esp-2")])
    await store.rights.put_objection(Objection("esp-1", ("marketing",), T0, "r2"))
    await store.rights.put_objection(Objection("esp-2", ("analytics",), T0, "r3"))

    erased = await store.rights.erase_subject("esp-1", T0 + 2 * DAY)
    assert erased == {"receipts": 2, "email_events": 2, "email_consent": 1, "objections": 1}
    assert await store.receipts.subject_receipts("esp-1") == []
    assert await all_receipts(store) == [theirs]  # gone from the time index too
    assert await store.email.email_events("esp-1") == []
    assert await store.rights.subject_objection("esp-1") is None
    assert [o.subject_id for o in await store.rights.objections_since(float("-inf"))] == ["esp-2"]
    assert (await store.email.recipient_consents(["esp-1"]))["esp-1"].state == "erased"
    # The tombstone: a hash of the id and the date, found by id and in the registry's feed.
    assert await store.rights.suppression("esp-1") == T0 + 2 * DAY
    assert await store.rights.suppression("esp-2") is None
    assert await store.rights.suppressions_since(T0 + DAY) == {tombstone_id("esp-1"): T0 + 2 * DAY}
    assert await store.rights.suppressions_since(T0 + 3 * DAY) == {}
    # Someone else's data is untouched.
    assert await store.receipts.subject_receipts("esp-2") == [theirs]
    assert len(await store.email.email_events("esp-2")) == 1
    # Erasing again, or someone never seen, removes nothing and still leaves a tombstone.
    assert await store.rights.erase_subject("esp-1", T0 + 3 * DAY) == ERASED_NOTHING
    assert await store.rights.erase_subject("never-seen", T0) == ERASED_NOTHING
    assert await store.rights.suppression("never-seen") == T0


async def test_purge_removes_only_what_outlived_its_retention(store: Store) -> None:
    """Retention is 1825 days for receipts and 395 for events (the defaults); the clock is
    moved, not waited for: `purge(now)` as if two days had passed."""
    now = time.time()
    later = now + 2 * DAY
    old_receipt = receipt("esp-old", at=round(now - 1824 * DAY, 3))
    young_receipt = receipt("esp-old", at=round(now - 10 * DAY, 3))
    other_old = receipt("esp-other", at=round(now - 1824 * DAY + 60, 3))
    await store.receipts.add_receipts([old_receipt, young_receipt, other_old])
    old_event = email_event("esp-old", at=now - 394 * DAY)
    young_event = email_event("esp-old", at=now - 5 * DAY)
    await store.email.add_email_events([old_event, young_event])
    old_day = time.strftime("%Y-%m-%d", time.gmtime(now - 394.5 * DAY))
    young_day = time.strftime("%Y-%m-%d", time.gmtime(now - DAY))
    await store.counts.add_counts({CountKey(old_day, "pixel", "ga4:forward"): 3})
    await store.counts.add_counts({CountKey(young_day, "pixel", "ga4:forward"): 4})

    assert await store.retention.purge(now) == {"receipts": 0, "email_events": 0, "counts": 0}
    removed = await store.retention.purge(later)
    assert removed == {"receipts": 2, "email_events": 1, "counts": 1}
    assert await store.receipts.subject_receipts("esp-old") == [young_receipt]
    assert await store.receipts.subject_receipts("esp-other") == []
    assert await all_receipts(store) == [young_receipt]
    assert await store.email.email_events("esp-old") == [young_event]
    assert await store.counts.counts("pixel", old_day, young_day) == {
        CountKey(young_day, "pixel", "ga4:forward"): 4
    }
    assert await store.retention.purge(later) == {"receipts": 0, "email_events": 0, "counts": 0}


async def test_a_lease_is_held_until_it_ends(store: Store) -> None:
    now = time.time()
    assert await store.shared.claim("purge", 60, now)
    assert not await store.shared.claim("purge", 60, now + 30)
    assert await store.shared.claim("other-job", 60, now + 30)
    assert await store.shared.claim("purge", 60, now + 61)
    assert not await store.shared.claim("purge", 60, now + 62)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_sqlite_purges_in_batches_and_reports_progress(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_purge, "PURGE_BATCH", 5)
    now = time.time()
    await store.receipts.add_receipts(
        [receipt(f"subject-{i:02d}-aaaaaaaaaaa", at=now - 1900 * DAY + i) for i in range(12)]
    )
    seen: list[tuple[str, int]] = []
    removed = await store.retention.purge(now, lambda kind, n: seen.append((kind, n)))
    assert removed["receipts"] == 12
    assert seen == [("receipts", 5), ("receipts", 10), ("receipts", 12)]


# ---------------------------------------------------------------- Redis expiry


@pytest.fixture
def raw_redis(store_url: str) -> Iterator[Any]:
    """A plain client on the same server or cluster, to look at TTLs."""
    if store_url.startswith("redis+cluster://"):
        client: Any = redis.RedisCluster.from_url(
            "redis://" + store_url.removeprefix("redis+cluster://"), decode_responses=True
        )
    else:
        client = redis.Redis.from_url(store_url, decode_responses=True)
    yield client
    client.close()


def _day_start(day: str) -> float:
    return time.mktime(time.strptime(day, "%Y-%m-%d")) - time.timezone


@pytest.mark.parametrize("store_url", ["redis", "cluster"], indirect=True)
async def test_redis_keeps_retention_by_expiry(store: Store, raw_redis: Any) -> None:
    receipt_days, event_days = 1825, 395
    now = time.time()
    stored = receipt("esp-ttl", at=round(now, 3))
    await store.receipts.add_receipts([stored])
    await store.email.add_email_events([email_event("esp-ttl", at=now)])
    await store.counts.add_counts({CountKey(stored.day, "pixel", "ga4:block"): 1})
    await store.rights.put_objection(Objection("esp-ttl", ("marketing",), now, "r1"))
    await store.email.put_recipient_consent(RecipientConsent("esp-ttl", "granted", now, "r2"))

    def ttl_days(key: str) -> float:
        seconds = raw_redis.ttl(key)
        assert seconds > 0, f"{key} has no expiry"
        return seconds / DAY

    assert ttl_days(subject_receipts_key("esp-ttl")) == pytest.approx(receipt_days, abs=0.01)
    day_end = _day_start(stored.day) + DAY
    assert raw_redis.expiretime(day_receipts_key(stored.day)) == int(day_end + receipt_days * DAY)
    assert ttl_days(email_events_key("esp-ttl")) == pytest.approx(event_days, abs=0.01)
    assert raw_redis.expiretime(day_counts_key(stored.day)) == int(day_end + event_days * DAY)
    # A standing choice and objection do not expire; the tombstone never does.
    assert raw_redis.ttl(objection_key("esp-ttl")) == -1
    assert raw_redis.ttl(recipient_consent_key("esp-ttl")) == -1
    await store.rights.erase_subject("esp-ttl", now)
    assert raw_redis.ttl(suppression_key("esp-ttl")) == -1
    assert raw_redis.exists(subject_receipts_key("esp-ttl"), objection_key("esp-ttl")) == 0


async def test_standings_of_many_subjects_in_one_read(store: Store) -> None:
    """What the delivery worker re-checks a batch of queued hits with."""
    chose = receipt("v-chose", at=T0, refused_vendors=("ga4",))
    later = receipt("v-chose", at=T0 + 10, action="objection", granted=(), denied=("marketing",))
    await store.receipts.add_receipts([chose, later, receipt("v-erased", at=T0)])
    await store.rights.put_objection(
        Objection("v-chose", ("marketing",), T0 + 10, later.receipt_id)
    )
    await store.rights.erase_subject("v-erased", T0 + 20)
    found = await store.rights.subject_standings(["v-chose", "v-erased", "v-unknown", "v-chose"])
    assert set(found) == {"v-chose", "v-erased", "v-unknown"}
    chosen = found["v-chose"]
    assert (chosen.erased, chosen.latest_choice) == (False, chose)  # an objection is no choice
    assert chosen.objection is not None
    assert chosen.objection.categories == ("marketing",)
    assert (found["v-erased"].erased, found["v-erased"].latest_choice) == (True, None)
    assert (found["v-unknown"].erased, found["v-unknown"].latest_choice) == (False, None)
