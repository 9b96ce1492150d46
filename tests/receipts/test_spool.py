"""No receipt is ever lost: a real redis-server stopped mid-run and started again."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.model.receipts import Receipt
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
        spool = ReceiptSpool(settings.site.spool_path)
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
        receipts = [r async for r in store.receipts.iter_receipts()]
        days = sorted({r.day for r in receipts})
        counted = await store.counts.counts("consent_action", days[0], days[-1])
        await store.close()
        stored = Counter(r.receipt_id for r in receipts)
        expected = before + during + after
        assert len(set(expected)) == 45
        assert stored == Counter(expected), "every receipt arrives exactly once"
        # The dashboard counts every choice once, the replayed ones included.
        by_action: Counter[str] = Counter()
        for key, n in counted.items():
            by_action[key.label] += n
        assert by_action == Counter({"visitor:accept_all": 15, "visitor:reject_all": 30})
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
        await store.receipts.add_receipts(batch)
        raise OSError("crash before emptying the spool")

    with pytest.raises(OSError, match="crash"):
        await spool.replay(write_then_crash)
    assert spool.depth() == 7
    assert await spool.replay(store.receipts.add_receipts) == 7
    assert spool.depth() == 0
    assert [r async for r in store.receipts.iter_receipts()] == receipts
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
    original = store.receipts.add_receipts

    async def counting(batch):
        batches.append(len(batch))
        await original(batch)

    store.receipts.add_receipts = counting  # type: ignore[method-assign]  # observe, not replace
    writer = ReceiptWriter(store, ReceiptSpool(settings.site.spool_path), replay_seconds=60)
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
    assert len([r async for r in store.receipts.iter_receipts()]) == 300
    await store.close()


async def test_closing_the_writer_flushes_what_is_queued(make_settings) -> None:
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    writer = ReceiptWriter(store, ReceiptSpool(settings.site.spool_path), replay_seconds=60)
    await writer.start()
    pending = [
        asyncio.ensure_future(writer.record(receipt(f"subject-{i:03d}-aaaaaaaaaa")))
        for i in range(5)
    ]
    await asyncio.sleep(0)
    await writer.close()
    await asyncio.gather(*pending)
    assert len([r async for r in store.receipts.iter_receipts()]) == 5
    await store.close()


async def test_an_unexpected_store_error_answers_every_waiter(make_settings) -> None:
    settings = make_settings()
    store = open_store(settings)
    await store.open()

    async def broken(batch):
        raise RuntimeError("a bug in a backend")

    store.receipts.add_receipts = broken  # type: ignore[method-assign]
    writer = ReceiptWriter(store, ReceiptSpool(settings.site.spool_path), replay_seconds=60)
    await writer.start()
    results = await asyncio.wait_for(
        asyncio.gather(*(writer.record(receipt()) for _ in range(3)), return_exceptions=True),
        timeout=5,
    )
    assert all(isinstance(result, RuntimeError) for result in results)
    await writer.close()
    await store.close()


# ---------------------------------------------------------------- bounded replay


def receipts_of(subject: str, count: int, start: int = 0) -> list[Receipt]:
    return [receipt(subject, at=1_764_000_000 + start + i) for i in range(count)]


async def test_replay_goes_batch_by_batch_and_never_blocks_a_new_receipt(tmp_path: Path) -> None:
    spool = ReceiptSpool(tmp_path / "spool")
    early = receipts_of("subject-a", 25)
    await spool.append(early)
    late = receipts_of("subject-b", 1, start=100)
    written: list[list[Receipt]] = []

    async def write(batch: list[Receipt]) -> None:
        if not written:
            # A visitor's receipt spooled while the replay writes to the store: if the replay
            # held the spool's lock across the write, this would never finish.
            await asyncio.wait_for(spool.append(late), timeout=30)
            assert await spool.replay(write) == 0, "one process replays at a time"
        written.append(batch)

    assert spool.depth() == 25
    assert await spool.replay(write, batch=10) == 26
    assert [len(batch) for batch in written] == [10, 10, 6]
    assert [r for batch in written for r in batch] == early + late
    assert spool.depth() == 0
    assert not spool.has_pending()


async def test_depth_is_kept_across_appends_a_partial_replay_and_a_crash(tmp_path: Path) -> None:
    spool = ReceiptSpool(tmp_path / "spool")
    spooled = receipts_of("subject-a", 12)
    await spool.append(spooled[:7])
    await spool.append(spooled[7:])

    async def crash_on_the_second_batch(batch: list[Receipt]) -> None:
        if batch[0].created_at > 1_764_000_000 + 4:
            raise OSError("the store went away mid-replay")

    with pytest.raises(OSError, match="mid-replay"):
        await spool.replay(crash_on_the_second_batch, batch=5)
    assert spool.depth() == 7, "the first batch is done, the rest waits"
    restarted = ReceiptSpool(tmp_path / "spool")  # another process, or after a restart
    assert restarted.depth() == 7
    replayed: list[Receipt] = []

    async def collect(batch: list[Receipt]) -> None:
        replayed.extend(batch)

    assert await restarted.replay(collect) == 7
    assert replayed == spooled[5:]
    assert restarted.depth() == spool.depth() == 0


async def test_forgetting_a_subject_removes_only_its_receipts_from_the_spool(
    tmp_path: Path,
) -> None:
    spool = ReceiptSpool(tmp_path / "spool")
    erased, kept = receipts_of("esp-1", 3), receipts_of("esp-10", 2, start=3)
    await spool.append([erased[0], kept[0], erased[1]])
    await spool.append([kept[1], erased[2]])
    assert await spool.forget_subject("esp-1") == 3
    assert b'esp-1"' not in (tmp_path / "spool").read_bytes()
    assert spool.depth() == 2
    replayed: list[Receipt] = []

    async def collect(batch: list[Receipt]) -> None:
        replayed.extend(batch)

    assert await spool.replay(collect) == 2
    assert replayed == kept
    assert await spool.forget_subject("esp-1") == 0


async def test_stored_receipts_are_counted_once_when_replayed_and_survive_a_restart(
    make_settings,
) -> None:
    """Counts come from what reached the store: a receipt spooled during an outage is
    counted when it is replayed — by whichever process replays it, after a crash too."""
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    spool = ReceiptSpool(settings.site.spool_path)
    stored: list[str] = []

    def count(receipts) -> None:
        stored.extend(r.receipt_id for r in receipts)

    spooled = receipts_of("subject-a", 4)
    await spool.append(spooled)  # written during an outage by a process that then crashed
    writer = ReceiptWriter(store, spool, replay_seconds=60, on_stored=count)
    await writer.start()
    live = receipts_of("subject-b", 1, start=10)[0]
    assert await writer.record(live) == "stored"
    assert await writer.replay_once() == 4
    assert await writer.replay_once() == 0
    await spool.append(spooled[:2])  # replayed twice (a crash before the offset moved)
    await writer.replay_once()
    await writer.close()
    assert sorted(stored) == sorted(r.receipt_id for r in [live, *spooled])
    assert writer.replayed == 4
    replayed = writer.metrics.registry.get_sample_value(
        "cg_receipts_total", {"action": "accept_all", "outcome": "replayed"}
    )
    assert replayed == 4
    await store.close()
