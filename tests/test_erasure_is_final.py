"""Erasure is final across instances: two gateways on one store (SQLite, Redis, Redis Cluster),
an erasure through one of them, and what the other still held at that moment — email events in
its batch (with a warm consent cache), a receipt in its spool — never lands afterwards."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import SITE, first_read, serving
from tests.store.test_contract import receipt

ADMIN = "admin-token-for-erasure-races"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Origin": SITE,
}
RECIPIENTS = [f"esp-{n}" for n in range(1, 9)]


@dataclasses.dataclass
class Instance:
    http: httpx.AsyncClient
    gateway: Gateway


@pytest.fixture
async def two_instances(
    store_url: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> AsyncIterator[tuple[Instance, Instance]]:
    """Two gateways on one store, each with its own data folder (and spool)."""
    async with AsyncExitStack() as stack:
        instances = []
        for name in ("a", "b"):
            settings = make_settings(
                store=store_url,
                data_dir=tmp_path / name,
                admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
                spool_replay_seconds=3600,  # replayed by the test, when it says so
            )
            gateway = Gateway.build(settings)
            http = await stack.enter_async_context(serving(app_for(gateway)))
            await first_read(gateway)  # until then every subject objects (fail closed)
            instances.append(Instance(http, gateway))
        yield instances[0], instances[1]


async def open_email(instance: Instance, recipient: str) -> None:
    message = instance.gateway.email.signer.message(
        campaign="c1", recipient=recipient, sent_at=time.time() - 3600
    )
    answer = await instance.http.get(urlsplit(message.open_url).path, headers=BROWSER)
    assert answer.status_code == 200


async def test_events_held_by_another_instance_are_not_written_after_erasure(
    two_instances: tuple[Instance, Instance],
) -> None:
    a, b = two_instances
    for recipient in RECIPIENTS:
        granted = await a.http.put(
            f"/api/subjects/{recipient}/consent", json={"granted": ["email_tracking"]}, headers=AUTH
        )
        assert granted.status_code == 200, granted.text
        await open_email(b, recipient)
    await b.gateway.email.recorder.flush(settle=False)  # B now caches "granted" for each
    for recipient in RECIPIENTS:
        assert len(await b.gateway.store.email.email_events(recipient)) == 1
        await open_email(b, recipient)  # held in B's batch, not yet settled

    for recipient in RECIPIENTS:
        erased = await a.http.delete(f"/api/subjects/{recipient}", headers=AUTH)
        assert erased.json()["erased"]["email_events"] == 1
    await b.gateway.email.recorder.flush(settle=False)

    for recipient in RECIPIENTS:
        exported = (await a.http.get(f"/api/subjects/{recipient}", headers=AUTH)).json()
        assert exported["email_events"] == [], f"{recipient} has events again after erasure"
        assert exported["erased_at"] is not None


async def test_a_spooled_receipt_is_never_replayed_after_erasure(
    two_instances: tuple[Instance, Instance],
) -> None:
    """The receipts were spooled during an outage, on both instances; the subject is erased
    through A when the store is back, before either replays."""
    a, b = two_instances
    subject = "visitor-erased-0001"
    spooled_on_a, spooled_on_b = receipt(subject), receipt(subject, action="reject_all")
    other = receipt("visitor-kept-00001")
    await a.gateway.spool.append([spooled_on_a, other])
    await b.gateway.spool.append([spooled_on_b])

    erased = await a.http.delete(f"/api/subjects/{subject}", headers=AUTH)
    assert erased.status_code == 200
    # A's own spool forgets the subject at once: nothing personal stays on its disk.
    assert subject.encode() not in a.gateway.spool.path.read_bytes()
    assert a.gateway.spool.depth() == 1

    assert await a.gateway.writer.replay_once() == 1
    assert await b.gateway.writer.replay_once() == 1  # read from B's spool, refused by the store

    exported = (await a.http.get(f"/api/subjects/{subject}", headers=AUTH)).json()
    assert exported["receipts"] == []
    receipts = [r.receipt_id async for r in a.gateway.store.receipts.iter_receipts()]
    assert receipts == [other.receipt_id]
    assert (await a.http.delete(f"/api/subjects/{subject}", headers=AUTH)).json()["erased"] == {
        "receipts": 0,
        "email_events": 0,
        "email_consent": 0,
        "objections": 0,
    }
