"""The delivery worker against a real stand-in vendor and a real store: retries, refusals,
lost answers, expiry, event time, and consent checked again at delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.app import app_for
from gateway.consent.objections import Objection
from gateway.delivery.worker import DeliveryWorker
from gateway.runtime import Gateway
from tests.conftest import REPO, SITE, serving
from tests.delivery.waiting import drained
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BROWSER = {"User-Agent": CHROME}


def ga4(cid: str) -> str:
    return f"/t/ga4?v=2&tid=G-T&cid={cid}&en=page_view"


@dataclass
class Running:
    http: httpx.AsyncClient
    gateway: Gateway
    vendor: StandInVendor

    async def consent(self, *categories: str) -> str:
        self.http.cookies.clear()
        response = await self.http.post(
            "/consent", json={"granted": list(categories)}, headers={"Origin": SITE, **BROWSER}
        )
        assert response.status_code == 200
        consent = self.gateway.codec.decode(self.http.cookies["cg_consent"])
        assert consent is not None
        return consent.consent_id

    async def hit(self, cid: str) -> None:
        assert (await self.http.get(ga4(cid), headers=BROWSER)).status_code == 200

    def counts(self, vendor: str = "ga4") -> dict[str, float]:
        return self.gateway.figures.delivery_report()[vendor]


@pytest.fixture
def vendor() -> Iterator[StandInVendor]:
    with stand_in_vendor() as server:
        yield server


def _gateway(vendor: StandInVendor, make_settings, tmp_path: Path, **overrides) -> Gateway:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    return Gateway.build(make_settings(rules=rules, allow_insecure_upstreams=True, **overrides))


@pytest.fixture
async def running(vendor, make_settings, tmp_path: Path) -> AsyncIterator[Running]:
    gateway = _gateway(vendor, make_settings, tmp_path)
    async with serving(app_for(gateway)) as http:
        yield Running(http, gateway, vendor)


async def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def test_a_503_is_retried_after_retry_after_and_delivered_once(running: Running) -> None:
    running.vendor.status, running.vendor.extra_headers = 503, {"Retry-After": "1"}
    await running.consent("analytics")
    await running.hit("c-1")
    await until(lambda: len(running.vendor.received) == 1)
    running.vendor.status, running.vendor.extra_headers = 204, {}
    await drained(running.gateway)
    first, second = running.vendor.received
    assert second.at - first.at >= 0.9  # Retry-After honoured
    assert dict(second.query)["cid"] == "c-1"
    counts = running.counts()
    assert (counts["delivered"], counts["retried"], counts["uncertain"]) == (1, 1, 0)


async def test_a_refusal_is_not_retried(running: Running) -> None:
    running.vendor.status = 400
    await running.hit("c-1")
    await drained(running.gateway)
    assert len(running.vendor.received) == 1
    assert (running.counts()["rejected"], running.counts()["retried"]) == (1, 0)


async def test_an_old_hit_is_dead_lettered_not_sent(running: Running) -> None:
    running.gateway.appender.clock = lambda: time.time() - 2 * 86400
    await running.hit("c-old")
    await drained(running.gateway)
    assert running.vendor.received == []
    assert running.counts()["dead_lettered"] == 1
    ((reason, _),) = await running.gateway.hit_queue.dead_letters("ga4")
    assert reason == "expired"


async def test_matomo_hits_carry_their_event_time(running: Running) -> None:
    await running.consent("analytics")
    before = int(time.time())
    response = await running.http.get(
        "/t/matomo?idsite=1&rec=1&action_name=Home&cdt=1", headers=BROWSER
    )
    assert response.status_code == 200
    await drained(running.gateway)
    (hit,) = running.vendor.received
    cdt = [value for key, value in hit.query if key == "cdt"]
    assert len(cdt) == 1
    assert before <= int(cdt[0]) <= int(time.time())


async def test_a_lost_answer_is_counted_uncertain_and_not_resent(
    make_settings, tmp_path: Path
) -> None:
    requests: list[bytes] = []

    async def swallow(reader, writer):
        while data := await reader.read(65536):
            requests.append(data)
            writer.close()
            return

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", f"http://127.0.0.1:{port}")
    gateway = Gateway.build(make_settings(rules=rules, allow_insecure_upstreams=True))
    app = app_for(gateway)
    async with serving(app) as http:
        assert (await http.get(ga4("c-1"), headers=BROWSER)).status_code == 200
        await drained(gateway)
        counts = gateway.figures.delivery_report()["ga4"]
    server.close()
    assert len(requests) == 1
    assert (counts["uncertain"], counts["delivered"], counts["retried"]) == (1, 0, 0)


async def test_consent_is_checked_again_at_delivery(vendor, make_settings, tmp_path) -> None:
    """Hits queued before their subject withdrew, was erased or objected are not sent."""
    gateway = _gateway(vendor, make_settings, tmp_path, forwarder=False)  # delivery started below
    async with serving(app_for(gateway)) as http:
        running = Running(http, gateway, vendor)
        withdrew = await running.consent("analytics")
        await running.hit("withdrew")
        response = await http.delete("/consent", headers={"Origin": SITE, **BROWSER})
        assert response.status_code == 200
        erased = await running.consent("analytics")
        await running.hit("erased")
        objected = await running.consent("analytics")
        await running.hit("objected")
        await running.consent("analytics")
        await running.hit("kept")
        await gateway.store.rights.erase_subject(erased, time.time())
        await gateway.store.rights.put_objection(Objection(objected, ("analytics",), time.time()))
        await gateway.appender.flush()
        assert withdrew != erased

        worker = DeliveryWorker(
            gateway.hit_queue, gateway.store, gateway.rules, gateway.settings.delivery
        )
        await worker.start()
        try:
            await until(
                lambda: sum(c.withheld + c.delivered for c in worker.counts().values()) == 3
            )
        finally:
            await worker.stop()
        # The erased subject's hit left the queue with the erasure: never even withheld.
        assert (await gateway.hit_queue.depths(["ga4"]))["ga4"].depth == 0
    assert [dict(hit.query)["cid"] for hit in vendor.received] == ["kept"]
    assert (worker.counts()["ga4"].withheld, worker.counts()["ga4"].delivered) == (2, 1)


async def test_a_narrower_choice_or_a_refused_vendor_withholds_queued_hits(
    vendor, make_settings, tmp_path
) -> None:
    """A GA4 hit queued while marketing was granted says ad_storage granted (gcs=G111): once
    marketing is withdrawn it is not sent, though analytics stays granted; nor is a hit of a
    vendor refused since. An old hit of a subject who objected is dropped, not dead-lettered."""
    gateway = _gateway(vendor, make_settings, tmp_path, forwarder=False)
    async with serving(app_for(gateway)) as http:
        running = Running(http, gateway, vendor)
        for cid, later in (("narrowed", {}), ("refused", {"refused_vendors": ["ga4"]})):
            await running.consent("analytics", "marketing")
            await running.hit(cid)
            response = await http.post(
                "/consent",
                json={"granted": ["analytics"], **later},
                headers={"Origin": SITE, **BROWSER},
            )
            assert response.status_code == 200
        objected = await running.consent("analytics")
        gateway.appender.clock = lambda: time.time() - 2 * 86400  # past the maximum age
        await running.hit("objected-old")
        gateway.appender.clock = time.time
        await gateway.store.rights.put_objection(Objection(objected, ("analytics",), time.time()))
        await running.consent("analytics")
        await running.hit("kept")
        await gateway.appender.flush()

        worker = DeliveryWorker(
            gateway.hit_queue, gateway.store, gateway.rules, gateway.settings.delivery
        )
        await worker.start()
        try:
            await until(
                lambda: worker.counts()["ga4"].withheld + worker.counts()["ga4"].delivered == 4
            )
        finally:
            await worker.stop()
        assert await gateway.hit_queue.dead_letters("ga4") == []
    assert [dict(hit.query)["cid"] for hit in vendor.received] == ["kept"]
    counts = worker.counts()["ga4"]
    assert (counts.withheld, counts.delivered, counts.dead_lettered) == (3, 1, 0)


async def test_a_hit_that_expires_while_retried_is_dropped_if_consent_went_meanwhile(
    make_settings, tmp_path: Path
) -> None:
    """The vendor answers 503 with a Retry-After past the hit's maximum age; meanwhile its
    subject objected: the hit is withheld (dropped), not kept as a dead letter."""
    received, answer = asyncio.Event(), asyncio.Event()

    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        received.set()
        await answer.wait()
        writer.write(b"HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(busy, "127.0.0.1", 0)
    origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", origin)
    settings = make_settings(
        rules=rules, allow_insecure_upstreams=True, forwarder=False, delivery_max_age_seconds=60
    )
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with server, serving(app) as http:
        running = Running(http, gateway, None)  # type: ignore[arg-type]
        cid = await running.consent("analytics")
        gateway.appender.clock = lambda: time.time() - 50  # 10 s left: a 30 s wait expires it
        await running.hit("late")
        await gateway.appender.flush()
        worker = DeliveryWorker(
            gateway.hit_queue, gateway.store, gateway.rules, gateway.settings.delivery
        )
        worker.consent.cache_seconds = 0  # read the store at every check
        await worker.start()
        try:
            await asyncio.wait_for(received.wait(), 10)
            await gateway.store.rights.put_objection(Objection(cid, ("analytics",), time.time()))
            answer.set()
            await until(
                lambda: worker.counts()["ga4"].withheld + worker.counts()["ga4"].dead_lettered
            )
        finally:
            await worker.stop()
        assert await gateway.hit_queue.dead_letters("ga4") == []
    assert (worker.counts()["ga4"].withheld, worker.counts()["ga4"].dead_lettered) == (1, 0)
