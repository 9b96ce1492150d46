"""Redis Sentinel fails over under load: a real primary, replica and three sentinels; the
primary is SIGKILLed while visitors keep choosing. Every receipt a visitor was answered for
must be in the store afterwards (written through the new primary, or spooled and replayed),
and no visitor may get a 5xx."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import httpx

from tests.multi.deploy import SITE, Gateway, bearer, serving
from tests.servers import redis_sentinel_group, wait_until

THREADS = 4


def _choose(gateway: Gateway, stop: threading.Event, answers: list[tuple[int, str]]) -> None:
    while not stop.is_set():
        try:
            answer = gateway.request(
                "POST", "/consent", json={"action": "accept_all"}, headers={"Origin": SITE}
            )
        except httpx.TransportError:
            answers.append((0, ""))
            continue
        receipt = answer.json().get("receipt_id", "") if answer.status_code == 200 else ""
        answers.append((answer.status_code, receipt))


def _stored_receipts(gateway: Gateway) -> set[str]:
    export = gateway.request("GET", "/api/receipts?format=jsonl", headers=bearer())
    assert export.status_code == 200, export.text
    return set(re.findall(r'"receipt_id":\s*"([^"]+)"', export.text))


def test_a_primary_killed_under_load_loses_no_receipt_and_answers_no_5xx(tmp_path: Path) -> None:
    with (
        redis_sentinel_group(tmp_path / "sentinel") as group,
        serving(tmp_path / "gateway", group.url, settings={"spool_replay_seconds": "1"}) as gateway,
    ):
        old_primary = group.master()
        answers: list[tuple[int, str]] = []
        stop = threading.Event()
        load = [
            threading.Thread(target=_choose, args=(gateway, stop, answers)) for _ in range(THREADS)
        ]
        for thread in load:
            thread.start()
        try:
            wait_until(lambda: len(answers) >= 100, "receipts before the failover", timeout=60)
            before = len(answers)
            killed_at = time.monotonic()
            group.primary.kill()
            wait_until(lambda: group.master() != old_primary, "the failover", timeout=60)
            failover_seconds = time.monotonic() - killed_at
            during = len(answers) - before
            settled = len(answers)
            wait_until(lambda: len(answers) >= settled + 100, "receipts after it", timeout=60)
        finally:
            stop.set()
            for thread in load:
                thread.join(timeout=30)
        wait_until(
            lambda: gateway.request("GET", "/readyz").json().get("spool_depth") == 0,
            "the spool to be replayed",
            timeout=60,
        )
        sent = {receipt for status, receipt in answers if status == 200}
        server_errors = [status for status, _ in answers if status >= 500]
        kept = sent & _stored_receipts(gateway)
        scrape = gateway.request("GET", "/metrics").text
        spooled = sum(
            float(n)
            for n in re.findall(r'^cg_receipts_total{[^}]*"spooled"[^}]*} (\S+)$', scrape, re.M)
        )
        print(
            f"\nSentinel failover: {failover_seconds:.1f} s from SIGKILL to a new primary;"
            f" {len(answers)} choices ({during} while failing over), {len(sent)} receipts"
            f" answered, {len(kept)} kept, {len(sent) - len(kept)} lost,"
            f" {len(server_errors)} 5xx, {sum(1 for s, _ in answers if s == 0)} connection errors,"
            f" {spooled:.0f} went through the spool"
        )
        assert server_errors == []
        assert all(status == 200 for status, _ in answers)
        assert kept == sent
        assert group.master() != old_primary
