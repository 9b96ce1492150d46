"""The receipts export, written by the CLI or streamed over HTTP: one line per receipt, the CSV
header once, progress on a side channel, and a store that is down fails before any answer."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import pytest

from gateway.errors import StoreUnavailable
from gateway.model.receipts import FIELD_NAMES, Receipt
from gateway.receipts import export
from gateway.receipts.export import export_chunks, started, write_receipts
from tests.store.test_contract import T0, receipt


async def stream(receipts: list[Receipt]) -> AsyncIterator[Receipt]:
    for each in receipts:
        yield each


MANY = [receipt(f"subject-{i:05d}-aaaaaaaa", at=T0 + i) for i in range(5)]


@pytest.mark.parametrize("form", ["csv", "jsonl"])
async def test_write_receipts_counts_them_and_reports_progress(
    form, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PROGRESS_EVERY", 2)
    out, progress = io.StringIO(), io.StringIO()
    assert await write_receipts(stream(MANY), form, out, progress) == 5
    assert progress.getvalue() == "\r2 receipts…\r4 receipts…\n"
    text = out.getvalue()
    if form == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == list(FIELD_NAMES)
        assert [row[FIELD_NAMES.index("subject_id")] for row in rows[1:]] == [
            r.subject_id for r in MANY
        ]
    else:
        assert [json.loads(line)["subject_id"] for line in text.splitlines()] == [
            r.subject_id for r in MANY
        ]


async def test_no_receipts_is_the_header_alone_and_no_progress() -> None:
    out, progress = io.StringIO(), io.StringIO()
    assert await write_receipts(stream([]), "csv", out, progress) == 0
    assert out.getvalue().strip() == ",".join(FIELD_NAMES)
    assert progress.getvalue() == ""
    chunks = [chunk async for chunk in export_chunks(await started(stream([])), "jsonl")]
    assert chunks == []


async def test_a_store_that_is_down_fails_before_the_answer_starts() -> None:
    async def down() -> AsyncIterator[Receipt]:
        raise StoreUnavailable("no answer")
        yield  # pragma: no cover - makes this an async generator

    with pytest.raises(StoreUnavailable):
        await started(down())
