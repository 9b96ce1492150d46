"""No receipt is ever lost: a real redis-server stopped mid-run and started again."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.receipts.model import Receipt
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.store import open_store
from tests.conftest import SITE, serving
from tests.servers import RedisServer
from tests.store.test_contract import receipt

HEADERS = {
    "Origin": SITE,
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
}


async def choose(http: httpx.AsyncClient, action: str) -> str:
    http.cookies.clear()  # a new visitor each time
    response = await http.post("/consent", json={"action": action}, headers=HEADERS)
    assert response.status_code == 200, response.text
    assert "cg_consent=" in response.headers["set-cookie"]
    return str(response.json()["receipt_id"])


async def wait_for(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_receipts_survive_a_redis_outage_exactly_once(tmp_path: Path, make_settings) -> None:
    server = RedisServer(
        tmp_path / "redis", extra=("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    )
    server.start()
    try:
        settings = make_settings(
            store=server.url, store_timeout_seconds=0.5, spool_replay_seconds=0.1
        )
        app = create_app(settings)
        spool = ReceiptSpool(settings.spool_path)
        async with serving(app) as http:
            before = [await choose(http, "accept_all") for _ in range(10)]
            server.stop()

            during = await asyncio.gather(*(choose(http, "reject_all") for _ in range(25)))
            during += [await choose(http, "accept_all") for _ in range(5)]
            assert spool.depth() == 30
            assert (await http.get("/readyz")).status_code == 503

            server.start()

            async def spool_empty() -> bool:
                return spool.depth() == 0

            await wait_for(spool_empty, "the spool to be replayed")
            after = [await choose(http, "reject_all") for _ in range(5)]
            assert (await http.get("/readyz")).json()["status"] == "ready"

        store = open_store(settings)
        await store.open()
        stored = Counter([r.receipt_id async for r in store.iter_receipts()])
        await store.close()
        expected = before + during + after
        assert len(set(expected)) == 45
        assert stored == Counter(expected), "every receipt arrives exactly once"
    finally:
        server.stop()


async def test_replay_is_idempotent_when_cut_short(tmp_path: Path, make_settings) -> None:
    """A crash after the store write but before the spool is emptied replays the same receipts."""
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    spool = ReceiptSpool(tmp_path / "spool")
    receipts = [receipt(f"subject-{i:03d}-aaaaaaaaaa", at=1_764_000_000 + i) for i in range(7)]
    await spool.append(receipts)

    async def write_then_crash(batch: list[Receipt]) -> None:
        await store.add_receipts(batch)
        raise OSError("crash before emptying the spool")

    with pytest.raises(OSError, match="crash"):
        await spool.replay(write_then_crash)
    assert spool.depth() == 7
    assert await spool.replay(store.add_receipts) == 7
    assert spool.depth() == 0
    assert [r async for r in store.iter_receipts()] == receipts
    await store.close()


async def test_a_torn_last_line_is_skipped(tmp_path: Path, make_settings) -> None:
    spool = ReceiptSpool(tmp_path / "spool")
    good = receipt()
    await spool.append([good])
    with (tmp_path / "spool").open("ab") as file:
        file.write(b'{"receipt_id": "cut sho')
    replayed: list[Receipt] = []

    async def collect(batch: list[Receipt]) -> None:
        replayed.extend(batch)

    assert await spool.replay(collect) == 1
    assert replayed == [good]
    assert not spool.has_pending()


async def test_concurrent_receipts_are_committed_in_few_batches(make_settings) -> None:
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    batches: list[int] = []
    original = store.add_receipts

    async def counting(batch):
        batches.append(len(batch))
        await original(batch)

    store.add_receipts = counting  # type: ignore[method-assign]  # observe, not replace
    writer = ReceiptWriter(store, ReceiptSpool(settings.spool_path), replay_seconds=60)
    await writer.start()
    outcomes = await asyncio.gather(
        *(
            writer.record(receipt(f"subject-{i:04d}-aaaaaaaaa", at=1_764_000_000 + i))
            for i in range(300)
        )
    )
    await writer.close()
    assert set(outcomes) == {"stored"}
    assert sum(batches) == 300
    assert len(batches) < 30, batches
    assert len([r async for r in store.iter_receipts()]) == 300
    await store.close()


async def test_closing_the_writer_flushes_what_is_queued(make_settings) -> None:
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    writer = ReceiptWriter(store, ReceiptSpool(settings.spool_path), replay_seconds=60)
    await writer.start()
    pending = [
        asyncio.ensure_future(writer.record(receipt(f"subject-{i:03d}-aaaaaaaaaa")))
        for i in range(5)
    ]
    await asyncio.sleep(0)
    await writer.close()
    await asyncio.gather(*pending)
    assert len([r async for r in store.iter_receipts()]) == 5
    await store.close()


async def test_an_unexpected_store_error_answers_every_waiter(make_settings) -> None:
    settings = make_settings()
    store = open_store(settings)
    await store.open()

    async def broken(batch):
        raise RuntimeError("a bug in a backend")

    store.add_receipts = broken  # type: ignore[method-assign]
    writer = ReceiptWriter(store, ReceiptSpool(settings.spool_path), replay_seconds=60)
    await writer.start()
    results = await asyncio.wait_for(
        asyncio.gather(*(writer.record(receipt()) for _ in range(3)), return_exceptions=True),
        timeout=5,
    )
    assert all(isinstance(result, RuntimeError) for result in results)
    await writer.close()
    await store.close()
