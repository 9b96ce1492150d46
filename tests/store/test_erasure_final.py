"""Erasure is final: once a subject's tombstone is written, no write path can store anything
under that subject again — checked by the store in the same operation as the write, on SQLite,
Redis and Redis Cluster. (A write queued before the erasure, in a spool, a batch in memory or
another instance, reaches the store after it: these are those writes.)"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.consent.objections import Objection
from gateway.model.email_events import RecipientConsent
from gateway.store import Store
from gateway.store.redis import RedisStore
from gateway.store.redis_keys import (
    email_events_key,
    objection_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_scripts import ERASE_SUBJECT
from tests.store.test_contract import T0, all_receipts, email_event, receipt
from tests.store.test_rights_contract import ERASED_NOTHING
from tests.store.test_rights_contract import raw_redis as raw_redis  # the fixture


async def test_nothing_lands_under_an_erased_subject(store: Store) -> None:
    await store.receipts.add_receipts([receipt("esp-1", at=T0)])
    await store.rights.erase_subject("esp-1", T0 + 60)

    late_receipt, other_receipt = receipt("esp-1", at=T0 + 1), receipt("esp-2", at=T0 + 2)
    stored = await store.receipts.add_receipts([late_receipt, other_receipt])
    assert stored == [other_receipt], "the erased subject's receipt is refused, not stored"
    await store.email.add_email_events([email_event("esp-1"), email_event("esp-2")])
    await store.email.put_recipient_consent(RecipientConsent("esp-1", "granted", T0 + 90, "r9"))
    await store.rights.put_objection(Objection("esp-1", ("marketing",), T0 + 90, "r8"))

    assert await store.receipts.subject_receipts("esp-1") == []
    assert await all_receipts(store) == [other_receipt]
    assert await store.email.email_events("esp-1") == []
    assert await store.rights.subject_objection("esp-1") is None
    assert [o.subject_id for o in await store.rights.objections_since(float("-inf"))] == []
    # Nothing was written behind the tombstone: a second erasure finds nothing to delete.
    assert await store.rights.erase_subject("esp-1", T0 + 120) == ERASED_NOTHING
    assert await store.rights.suppression("esp-1") == T0 + 60, "the first erasure's date stays"
    # Someone else's writes in the same batches went through.
    assert await store.receipts.subject_receipts("esp-2") == [other_receipt]
    assert len(await store.email.email_events("esp-2")) == 1


async def test_add_receipts_returns_only_what_it_newly_stored(store: Store) -> None:
    first, second = receipt("esp-1", at=T0), receipt("esp-2", at=T0 + 1)
    assert await store.receipts.add_receipts([first]) == [first]
    assert await store.receipts.add_receipts([first, second]) == [second]  # a replayed spool
    assert await store.receipts.add_receipts([first, second]) == []
    assert await store.receipts.add_receipts([]) == []


@pytest.mark.parametrize("store_url", ["redis", "cluster"], indirect=True)
async def test_an_erasure_cut_short_after_its_first_step_is_finished_by_the_purge(
    store: Store,
) -> None:
    """On Redis the erasure is one script on the subject's slot, then the clean-up of the
    receipts' copies in the day sets (other slots). If the store goes away in between, the
    tombstone already hides the receipts and refuses writes; the next purge finishes it."""
    mine, theirs = receipt("esp-1", at=T0), receipt("esp-2", at=T0 + 1)
    await store.receipts.add_receipts([mine, theirs])
    assert isinstance(store, RedisStore)
    await store.connection.script(  # the first step alone, as if the connection dropped after it
        ERASE_SUBJECT,
        [
            subject_receipts_key("esp-1"),
            email_events_key("esp-1"),
            recipient_consent_key("esp-1"),
            objection_key("esp-1"),
            suppression_key("esp-1"),
        ],
        [repr(T0 + 60)],
    )
    assert await store.receipts.subject_receipts("esp-1") == []  # tombstone wins
    assert await store.receipts.add_receipts([receipt("esp-1", at=T0 + 2)]) == []
    await store.retention.purge(T0 + 120)
    assert await all_receipts(store) == [theirs]
    assert await store.rights.erase_subject("esp-1", T0 + 180) == ERASED_NOTHING


@pytest.mark.parametrize("store_url", ["redis", "cluster"], indirect=True)
async def test_writes_go_on_after_the_servers_forget_the_scripts(
    store: Store, raw_redis: Any
) -> None:
    """A restarted or new node knows no script: the store loads it again."""
    await store.receipts.add_receipts([receipt("esp-1", at=T0)])
    raw_redis.script_flush()
    stored = receipt("esp-2", at=T0 + 1)
    assert await store.receipts.add_receipts([stored]) == [stored]
    await store.email.add_email_events([email_event("esp-2")])
    assert len(await store.email.email_events("esp-2")) == 1
