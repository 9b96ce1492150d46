"""Group commit: the receipts of one batch share one wait, each batch at most `batch_size`,
counted once per batch — and a request cancelled while it waits cancels nobody else's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from prometheus_client import generate_latest

from gateway.metrics import Metrics
from gateway.model.receipts import Receipt
from gateway.receipts.spool import ReceiptSpool
from gateway.receipts.writer import ReceiptWriter
from gateway.store import Store, open_store
from tests.store.test_contract import all_receipts, receipt


async def opened(make_settings) -> tuple[Store, ReceiptSpool]:
    settings = make_settings()
    store = open_store(settings)
    await store.open()
    return store, ReceiptSpool(settings.site.spool_path)


def subject(number: int) -> str:
    return f"subject-{number:04d}-aaaaaaaaa"


async def test_a_batch_holds_at_most_batch_size_receipts_and_each_is_counted(
    make_settings,
) -> None:
    store, spool = await opened(make_settings)
    sizes: list[int] = []
    original = store.receipts.add_receipts

    async def observed(receipts: Sequence[Receipt]) -> list[Receipt]:
        sizes.append(len(receipts))
        return await original(receipts)

    store.receipts.add_receipts = observed  # type: ignore[method-assign]  # observe, not replace
    metrics = Metrics()
    writer = ReceiptWriter(store, spool, replay_seconds=60, batch_size=8, metrics=metrics)
    await writer.start()
    actions = ["accept_all", "reject_all", "custom"]
    outcomes = await asyncio.gather(
        *(writer.record(receipt(subject(i), action=actions[i % 3])) for i in range(50))
    )
    await writer.close()
    assert outcomes == ["stored"] * 50
    assert sum(sizes) == 50
    assert max(sizes) == 8
    assert len(sizes) >= 7
    assert len(await all_receipts(store)) == 50
    exposition = generate_latest(metrics.registry).decode()
    assert 'cg_receipts_total{action="accept_all",outcome="stored"} 17.0' in exposition
    assert 'cg_receipts_total{action="reject_all",outcome="stored"} 17.0' in exposition
    assert 'cg_receipts_total{action="custom",outcome="stored"} 16.0' in exposition
    await store.close()


async def test_a_cancelled_request_cancels_no_other_receipt_of_its_batch(make_settings) -> None:
    store, spool = await opened(make_settings)
    release = asyncio.Event()
    original = store.receipts.add_receipts

    async def held(receipts: Sequence[Receipt]) -> list[Receipt]:
        await release.wait()  # the batch is being written while one of its requests goes
        return await original(receipts)

    store.receipts.add_receipts = held  # type: ignore[method-assign]  # delay, not replace
    writer = ReceiptWriter(store, spool, replay_seconds=60)
    await writer.start()
    requests = [asyncio.ensure_future(writer.record(receipt(subject(i)))) for i in range(5)]
    await asyncio.sleep(0.05)
    requests[2].cancel()
    await asyncio.sleep(0.05)
    assert not requests[2].done(), "a request's wait ends when its batch is written"
    release.set()
    results = await asyncio.gather(*requests, return_exceptions=True)
    await writer.close()
    assert [results[i] for i in (0, 1, 3, 4)] == ["stored"] * 4
    assert isinstance(results[2], asyncio.CancelledError)
    # Its receipt was in the batch: it is stored like the others.
    stored = {r.subject_id for r in await all_receipts(store)}
    assert stored == {subject(i) for i in range(5)}
    await store.close()


async def test_receipts_arriving_while_a_batch_is_written_go_in_the_next(make_settings) -> None:
    store, spool = await opened(make_settings)
    sizes: list[int] = []
    first_batch = asyncio.Event()
    release = asyncio.Event()
    original = store.receipts.add_receipts

    async def held(receipts: Sequence[Receipt]) -> list[Receipt]:
        sizes.append(len(receipts))
        first_batch.set()
        await release.wait()
        return await original(receipts)

    store.receipts.add_receipts = held  # type: ignore[method-assign]  # delay, not replace
    writer = ReceiptWriter(store, spool, replay_seconds=60)
    await writer.start()
    early = [asyncio.ensure_future(writer.record(receipt(subject(i)))) for i in range(3)]
    await first_batch.wait()
    late = [asyncio.ensure_future(writer.record(receipt(subject(10 + i)))) for i in range(4)]
    await asyncio.sleep(0.05)
    assert not any(request.done() for request in early + late)
    release.set()
    assert await asyncio.gather(*early, *late) == ["stored"] * 7
    await writer.close()
    assert sizes == [3, 4]
    await store.close()


async def test_a_receipt_after_close_is_refused_not_left_waiting(make_settings) -> None:
    store, spool = await opened(make_settings)
    writer = ReceiptWriter(store, spool, replay_seconds=60)
    await writer.start()
    await writer.close()
    with pytest.raises(RuntimeError, match="not running"):
        await asyncio.wait_for(writer.record(receipt(subject(1))), timeout=5)
    await store.close()
