"""The queue across an upgrade, on SQLite, Redis and a Redis Cluster: entries the previous
release wrote (the vendor's request, shaped at the edge) are still delivered as they were; the
entries written now hold the decided hit (`gateway.delivery.entries`), never more personal
data than the request shaped from it at delivery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import app_for
from gateway.delivery.queue import QueuedHit, open_hit_queue
from gateway.model.decided_hits import DecidedHit
from gateway.runtime import Gateway
from gateway.settings import Settings
from gateway.store import open_store
from tests.conftest import REPO, serving
from tests.delivery.waiting import drained
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

OLD_AGENT = "Mozilla/5.0 (queued by the previous release)"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.fixture
def vendor() -> Iterator[StandInVendor]:
    with stand_in_vendor() as server:
        yield server


@pytest.fixture
def settings(store_url: str, make_settings, tmp_path: Path, vendor: StandInVendor) -> Settings:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    return make_settings(store=store_url, rules=rules, allow_insecure_upstreams=True)


def old_entry(vendor: StandInVendor, queued_at: float, n: int) -> str:
    """An entry exactly as the release before the decided hit wrote it (`json.dumps` of the
    shaped request): an anonymous GA4 ping."""
    record = {
        "v": "ga4",
        "m": "GET",
        "u": f"{vendor.origin}/g/collect?v=2&tid=G-OLD&en=page_view&_p={n}",
        "h": [["User-Agent", OLD_AGENT]],
        "b": "",
        "c": None,
        "t": queued_at,
        "g": [],
        "a": "0123456789abcdef",
    }
    return json.dumps(record, separators=(",", ":"))


async def test_entries_queued_by_the_previous_release_are_delivered_after_the_upgrade(
    settings: Settings, vendor: StandInVendor
) -> None:
    # The previous release queued two hits and stopped before they left.
    store = open_store(settings)
    await store.open()
    try:
        queue = open_hit_queue(store, settings.delivery.shards)
        now = time.time()
        entries = [QueuedHit.from_json(old_entry(vendor, now - 60, n)) for n in range(2)]
        written = [old_entry(vendor, now - 60, n) for n in range(2)]
        assert [q.to_json() for q in entries] == written  # appended byte for byte
        assert await queue.append(entries, cap=100) == {}
    finally:
        await store.close()

    # The new release starts on the same store, and also queues a hit of its own.
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with serving(app) as http:
        url = "/t/ga4/g/collect?v=2&tid=G-NEW&en=page_view&_p=9"
        response = await http.get(url, headers={"User-Agent": AGENT})
        assert response.headers["x-consent-decision"].startswith("anonymous")
        await drained(gateway)

    sent = sorted(vendor.received, key=lambda hit: dict(hit.query)["_p"])
    assert [dict(hit.query)["_p"] for hit in sent] == ["0", "1", "9"]
    for old in sent[:2]:  # the request the previous release shaped, as it shaped it
        assert old.path == "/g/collect"
        assert old.query[:3] == [("v", "2"), ("tid", "G-OLD"), ("en", "page_view")]
        assert old.headers["user-agent"] == OLD_AGENT
    assert dict(sent[2].query)["tid"] == "G-NEW"
    assert sent[2].headers["user-agent"] == "consent-gateway"


async def test_an_anonymous_hit_is_queued_with_no_full_address_and_no_disallowed_parameter(
    store_url: str, make_settings, tmp_path: Path, vendor: StandInVendor
) -> None:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    ga4 = rules / "ga4.toml"  # a rule that forwards a consented visitor's full address
    ga4.write_text(ga4.read_text().replace('ip = "truncate"', 'ip = "forward"'))
    settings = make_settings(
        store=store_url, rules=rules, allow_insecure_upstreams=True, forwarder=False
    )
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    assert gateway.rules["ga4"].hit.ip == "forward"
    # The client is 203.0.113.77 (`serving`); `cid` is an identifier, `secret` not allowed.
    query = (
        "v=2&tid=G-T&cid=555.666&secret=s3cr3t&en=page_view"
        "&dl=https%3A%2F%2Fa.example%2Fp%3Ftoken%3Dt0k3n%26utm_source%3Dnews"
        "&ep.note=write+to+ada%40example.com"
    )
    agent = AGENT
    async with serving(app) as http:
        response = await http.get(f"/t/ga4/g/collect?{query}", headers={"User-Agent": agent})
        assert response.headers["x-consent-decision"].startswith("anonymous")
        await gateway.appender.flush()
        (taken,) = await gateway.hit_queue.take("ga4", "inspector", 10, 30.0, time.time())
    assert taken.hit is not None
    entry = taken.hit.to_json()  # the entry as the store holds it
    for personal in ("203.0.113.77", "555.666", "cid", "secret", "s3cr3t", "t0k3n", "ada", agent):
        assert personal not in entry
    decided = taken.hit.hit
    assert isinstance(decided, DecidedHit)
    assert decided.anonymous
    assert decided.user_agent == ""
    assert decided.ip == "203.0.113.0"  # truncated, whatever the rule does with consent
    names = [name for name, _ in decided.pairs]
    assert names == ["v", "tid", "en", "dl", "ep.note"]
    assert dict(decided.pairs)["dl"] == "https://a.example/p?utm_source=news"
    assert "[email]" in dict(decided.pairs)["ep.note"]
