"""No hit lost across a restart: a process stopped (SIGTERM) or killed (SIGKILL) while the
vendor refuses connections leaves every hit to a normal retry. Only a request written whose
answer was lost may be `uncertain`; none here is ever written before the vendor is back.

On SQLite, Redis and a Cluster: the mark, the release and the reclaim are per backend.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.settings import Settings
from gateway.store import open_store
from tests.conftest import REPO
from tests.delivery.test_faults import CLI, _deliver_rest, _enqueue, _env, until
from tests.delivery.vendor import CountingVendor
from tests.servers import free_port
from tests.vendors import rules_pointing_at

HITS = 300


@pytest.fixture
def down_vendor() -> Iterator[CountingVendor]:
    """A vendor that is down (its port refuses connections) until the test starts it."""
    server = CountingVendor()
    try:
        yield server
    finally:
        server.answer.set()
        server.stop()


async def _until_forward_retried(settings: Settings, count: int) -> None:
    """Until the `forward` process's heartbeat (every 2 s) reports `count` retries."""
    store = open_store(settings)
    await store.open()
    try:
        deadline = time.monotonic() + 30
        while True:
            beats = await store.shared.heartbeats(time.time())
            retried = sum(
                json.loads(figures)["forwarder"].get("retried", 0)
                for figures in beats.values()
                if json.loads(figures).get("role") == "forward"
            )
            if retried >= count:
                return
            assert time.monotonic() < deadline, "the forward process never retried"
            await asyncio.sleep(0.1)
    finally:
        await store.close()


def _retried(port: int) -> float:
    try:
        report = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return 0.0
    return float(report["delivery"]["ga4"]["retried"])


async def test_sigterm_with_the_vendor_down_loses_nothing_and_sends_nothing_twice(
    store_url: str, down_vendor: CountingVendor, make_settings: Callable[..., Settings], tmp_path
) -> None:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", down_vendor.origin)
    # A long lease: what the stopped process held must come back by its release, not by
    # its lease running out (the drain below has less time than the lease).
    settings = make_settings(
        store=store_url,
        rules=rules,
        allow_insecure_upstreams=True,
        delivery_lease_seconds=60.0,
        delivery_concurrency=64,
    )
    await _enqueue(settings, down_vendor, HITS)
    port = free_port()
    log = settings.site.data_dir.parent / "serve.log"
    with log.open("wb") as output:
        serve = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=_env(settings), stderr=output
        )
    try:
        # Tried and refused; the breaker opened, and its probes were refused too: hits in
        # backoff and waiting behind the breaker.
        await until(lambda: _retried(port) >= 2, "retries against the down vendor")
        serve.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        serve.wait(15)
        assert time.monotonic() - stopped < 10, log.read_text()[-2000:]
    finally:
        serve.kill()
    assert down_vendor.total() == 0
    down_vendor.start()
    taken_over = await _deliver_rest(settings, timeout=20.0)
    counts = taken_over.counts()["ga4"]
    assert down_vendor.total() == HITS, str(counts)
    assert down_vendor.twice() == []
    assert (counts.delivered, counts.uncertain, counts.dead_lettered) == (HITS, 0, 0)


async def test_sigkill_with_the_vendor_down_leaves_no_hit_uncertain(
    store_url: str, down_vendor: CountingVendor, make_settings: Callable[..., Settings], tmp_path
) -> None:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", down_vendor.origin)
    settings = make_settings(
        store=store_url,
        rules=rules,
        allow_insecure_upstreams=True,
        delivery_lease_seconds=1.0,  # a killed process releases nothing: its leases run out
        delivery_concurrency=64,
    )
    await _enqueue(settings, down_vendor, HITS)
    log = settings.site.data_dir.parent / "forward.log"
    with log.open("wb") as output:
        forward = subprocess.Popen([CLI, "forward"], env=_env(settings), stderr=output)
    try:
        # Connections refused while the queue is being worked: nothing was ever written.
        await _until_forward_retried(settings, 2)
        forward.send_signal(signal.SIGKILL)
        forward.wait(10)
    finally:
        forward.kill()
    down_vendor.start()
    counts = (await _deliver_rest(settings, timeout=20.0)).counts()["ga4"]
    assert down_vendor.total() == HITS, str(counts)
    assert down_vendor.twice() == []
    assert (counts.delivered, counts.uncertain) == (HITS, 0)
