"""Receipts as CSV or JSON Lines, streamed: constant memory however many there are."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal, TextIO

from gateway.csv_cells import csv_row
from gateway.model.receipts import FIELD_NAMES, Receipt

Format = Literal["csv", "jsonl"]
MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
PROGRESS_EVERY = 10_000
CHUNK_BYTES = 64 * 1024
# Written exactly (`csv_cells`): ids are matched against the JSON export and the API.
_ID_COLUMNS = frozenset(FIELD_NAMES.index(name) for name in ("receipt_id", "subject_id"))


def receipt_row(receipt: Receipt) -> dict[str, object]:
    row = receipt.to_dict()
    row["created_at"] = receipt.created_iso()
    return row


def csv_header() -> str:
    return csv_row(FIELD_NAMES)


def csv_line(receipt: Receipt) -> str:
    row = receipt_row(receipt)
    row["granted"] = " ".join(receipt.granted)
    row["denied"] = " ".join(receipt.denied)
    row["labels"] = json.dumps(row["labels"], ensure_ascii=False, sort_keys=True)
    return csv_row((row[name] for name in FIELD_NAMES), verbatim=_ID_COLUMNS)


def jsonl_line(receipt: Receipt) -> str:
    return json.dumps(receipt_row(receipt), ensure_ascii=False, sort_keys=True) + "\n"


async def started(receipts: AsyncIterator[Receipt]) -> AsyncIterator[Receipt]:
    """`receipts` with its first page already read: a store that is down fails here, before an
    answer has started (a clean 503 rather than a cut-off download)."""
    first = await anext(receipts, None)

    async def everything() -> AsyncIterator[Receipt]:
        if first is not None:
            yield first
            async for receipt in receipts:
                yield receipt

    return everything()


async def export_lines(receipts: AsyncIterator[Receipt], format: Format) -> AsyncIterator[str]:
    """The export as text: the CSV header, then one line per receipt."""
    if format == "csv":
        yield csv_header()
    line = csv_line if format == "csv" else jsonl_line
    async for receipt in receipts:
        yield line(receipt)


async def export_chunks(
    receipts: AsyncIterator[Receipt], format: Format, size: int = CHUNK_BYTES
) -> AsyncIterator[bytes]:
    """The export in chunks of about `size` bytes, for a streamed HTTP answer: constant memory,
    few sends."""
    chunk: list[bytes] = []
    length = 0
    async for text in export_lines(receipts, format):
        data = text.encode()
        chunk.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(chunk)
            chunk, length = [], 0
    if chunk:
        yield b"".join(chunk)


async def write_receipts(
    receipts: AsyncIterator[Receipt], format: Format, out: TextIO, progress: TextIO | None = None
) -> int:
    """Write every receipt to `out`; a count goes to `progress` now and then. Returns the count."""
    count = 0

    async def counted() -> AsyncIterator[Receipt]:
        nonlocal count
        async for receipt in receipts:
            yield receipt
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress.write(f"\r{count} receipts…")
                progress.flush()

    async for text in export_lines(counted(), format):
        out.write(text)
    if progress is not None and count >= PROGRESS_EVERY:
        progress.write("\n")
    return count
