"""Delivery under faults, with real parts: redis-server (and a real Cluster), a stand-in
vendor that goes down, `consent-gateway forward` and `serve` processes killed or stopped.

Every test counts at the vendor: each hit arrives, and none arrives twice. The issue's
30-second vendor outage is shortened to a few seconds (the same code paths: refused
connections, backoff, the circuit breaker opening and closing) to keep the suite lean.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import app_for, create_app
from gateway.delivery.queue import QueuedHit, open_hit_queue
from gateway.delivery.worker import DeliveryWorker
from gateway.errors import StoreUnavailable
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.loader import load_rules
from gateway.runtime import Gateway
from gateway.settings import Settings
from gateway.store import open_store
from tests.conftest import REPO, SECRET, SITE, serving
from tests.delivery.vendor import CountingVendor
from tests.delivery.waiting import drained
from tests.servers import RedisServer, free_port
from tests.vendors import rules_pointing_at, vendors_in

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BROWSER = {"User-Agent": CHROME}
CLI = str(Path(sys.executable).with_name("consent-gateway"))


@pytest.fixture
def vendor() -> Iterator[CountingVendor]:
    server = CountingVendor().start()
    try:
        yield server
    finally:
        server.answer.set()
        server.stop()


@pytest.fixture
def settings_for(
    vendor: CountingVendor, make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., Settings]:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "rules": rules,
            "allow_insecure_upstreams": True,
            "delivery_lease_seconds": 1.0,
        }
        return make_settings(**{**values, **overrides})

    return build


async def consent(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/consent", json={"granted": ["analytics"]}, headers={"Origin": SITE, **BROWSER}
    )
    assert response.status_code == 200


async def send_hits(http: httpx.AsyncClient, numbers: range) -> None:
    for n in numbers:
        response = await http.get(f"/t/ga4?v=2&tid=G-T&cid=hit-{n}&en=x", headers=BROWSER)
        assert response.status_code == 200


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(params=["redis", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    return _flushed(request)


def _flushed(request: pytest.FixtureRequest) -> str:
    import redis

    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_single")
        ports, url = [server.port], server.url
    else:
        nodes: list[RedisServer] = request.getfixturevalue("redis_cluster_nodes")
        ports, url = [n.port for n in nodes], f"redis+cluster://127.0.0.1:{nodes[0].port}"
    for port in ports:
        client = redis.Redis(port=port)
        client.flushall()
        client.close()
    return url


async def test_a_vendor_down_under_load_gets_every_hit_once_when_back(
    redis_url: str, vendor: CountingVendor, settings_for
) -> None:
    gateway = Gateway.build(settings_for(store=redis_url, delivery_concurrency=64))
    app = app_for(gateway)
    async with serving(app) as http:
        await consent(http)
        await send_hits(http, range(100))
        await drained(gateway)
        vendor.stop()  # down: connections refused
        await send_hits(http, range(100, 300))
        assert gateway.delivery is not None  # this instance delivers
        breaker = gateway.delivery.lanes["ga4"].breaker
        # Tried, backed off; the breaker opened, and a probe found the vendor still down.
        await until(lambda: breaker.cooldown >= 2 and breaker.opened_at is not None, "breaker")
        vendor.start()
        await drained(gateway, timeout=60)
        counts = gateway.figures.delivery_report()["ga4"]
    assert vendor.total() == 300, str(counts)
    assert vendor.twice() == []
    assert (counts["delivered"], counts["uncertain"], counts["dead_lettered"]) == (300, 0, 0)


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "GATEWAY_SECRET_KEYS": SECRET,
            "GATEWAY_STORE": settings.store.url,
            "GATEWAY_RULES": str(settings.rules.folder),
            "GATEWAY_DATA_DIR": str(settings.site.data_dir),
            "GATEWAY_ALLOW_INSECURE_UPSTREAMS": "true",
            "GATEWAY_DELIVERY_LEASE_SECONDS": str(settings.delivery.lease_seconds),
            "GATEWAY_DELIVERY_CONCURRENCY": str(settings.delivery.concurrency),
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_VENDORS": ",".join(vendors_in(settings.rules.folder)),
        }
    )
    return env


async def _enqueue(settings: Settings, vendor: CountingVendor, count: int) -> None:
    queue_store = open_store(settings)
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    url = f"{vendor.origin}/g/collect"
    hits = [
        QueuedHit(
            OutboundHit("ga4", "POST", f"{url}?n={n}", (("User-Agent", "t"),)), None, time.time()
        )
        for n in range(count)
    ]
    assert await queue.append(hits, cap=10_000) == {}
    await queue_store.close()


async def _deliver_rest(settings: Settings, timeout: float = 30.0) -> DeliveryWorker:
    """An in-process worker until the queue is empty (within `timeout` seconds)."""
    store = open_store(settings)
    await store.open()
    queue = open_hit_queue(store, settings.delivery.shards)
    rules = load_rules(
        settings.rules.folder, categories=settings.consent.categories, allow_insecure_upstreams=True
    )
    worker = DeliveryWorker(queue, store, rules, settings.delivery)
    await worker.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not (await queue.depths(["ga4"]))["ga4"].depth:
                    break
            except StoreUnavailable:  # a connection the server closed: the next poll reconnects
                pass
            assert time.monotonic() < deadline, "the queue did not empty"
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
        await store.close()
    return worker


async def test_a_worker_killed_mid_batch_leaves_nothing_lost_or_doubled(
    redis_single: RedisServer, vendor: CountingVendor, settings_for
) -> None:
    _flush_single(redis_single)
    settings = settings_for(store=redis_single.url, delivery_concurrency=10)
    await _enqueue(settings, vendor, 60)
    vendor.answer.clear()  # the vendor takes requests and holds its answers
    with (settings.site.data_dir.parent / "forward.log").open("wb") as log:
        worker = subprocess.Popen([CLI, "forward"], env=_env(settings), stderr=log)
    try:
        await until(lambda: vendor.total() == 10, "ten requests in flight")
        worker.send_signal(signal.SIGKILL)  # mid-batch: ten written, none acknowledged
        worker.wait(10)
    finally:
        worker.kill()
    vendor.answer.set()
    taken_over = await _deliver_rest(settings)
    counts = taken_over.counts()["ga4"]
    assert vendor.total() == 60
    assert vendor.twice() == []
    # The ten the dead worker wrote are not sent again; the fifty it never took are delivered.
    assert (counts.uncertain, counts.delivered) == (10, 50)


def _flush_single(server: RedisServer) -> None:
    import redis

    client = redis.Redis(port=server.port)
    client.flushall()
    client.close()


async def test_redis_restarted_under_traffic_loses_and_doubles_nothing(
    tmp_path: Path, vendor: CountingVendor, settings_for
) -> None:
    server = RedisServer(
        tmp_path / "redis", extra=("--appendonly", "yes", "--appendfsync", "always", "--save", "")
    ).start()
    try:
        gateway = Gateway.build(settings_for(store=server.url, store_timeout_seconds=0.5))
        app = app_for(gateway)
        async with serving(app) as http:
            await consent(http)
            await send_hits(http, range(50))
            server.stop()
            await send_hits(http, range(50, 100))  # answered; the hits wait in memory
            server.start()
            await drained(gateway, timeout=60)
    finally:
        server.stop()
    assert vendor.total() == 100
    assert vendor.twice() == []


async def test_a_gateway_restarted_with_a_full_queue_delivers_it_once(
    vendor: CountingVendor, settings_for
) -> None:
    edge_only = create_app(settings_for(forwarder=False))
    async with serving(edge_only) as http:
        await consent(http)
        await send_hits(http, range(200))
    queue_store = open_store(settings_for())
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    assert (await queue.depths(["ga4"]))["ga4"].depth == 200
    await queue_store.close()
    assert vendor.total() == 0

    restarted_gateway = Gateway.build(settings_for())
    restarted = app_for(restarted_gateway)
    async with serving(restarted):
        await drained(restarted_gateway, timeout=60)
    assert vendor.total() == 200
    assert vendor.twice() == []


async def test_sigterm_leaves_undelivered_hits_queued_and_exits_within_ten_seconds(
    vendor: CountingVendor, settings_for
) -> None:
    settings = settings_for(delivery_concurrency=5)
    await _enqueue(settings, vendor, 40)
    vendor.answer.clear()  # a vendor that never answers
    port = free_port()
    log = settings.site.data_dir.parent / "serve.log"
    with log.open("wb") as output:
        serve = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=_env(settings), stderr=output
        )
    try:
        await until(lambda: vendor.total() == 5, "five requests in flight")
        serve.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        serve.wait(15)
        assert time.monotonic() - stopped < 10, log.read_text()[-2000:]
    finally:
        serve.kill()
    vendor.answer.set()
    queue_store = open_store(settings)
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    assert (await queue.depths(["ga4"]))["ga4"].depth == 40  # nothing acknowledged, all kept
    await queue_store.close()
    taken_over = await _deliver_rest(settings)
    assert vendor.total() == 40
    assert vendor.twice() == []
    assert taken_over.counts()["ga4"].uncertain == 5  # written before SIGTERM: not resent
