"""Receipts as CSV or JSON Lines, streamed: constant memory however many there are."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal, TextIO

from gateway.csv_cells import csv_row
from gateway.receipts.model import FIELD_NAMES, Receipt

Format = Literal["csv", "jsonl"]
PROGRESS_EVERY = 10_000


def parse_moment(text: str) -> float:
    """`2026-01-31` or `2026-01-31T12:00:00+00:00` (UTC when no zone) → unix seconds."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO date or time, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


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
    return csv_row(row[name] for name in FIELD_NAMES)


def jsonl_line(receipt: Receipt) -> str:
    return json.dumps(receipt_row(receipt), ensure_ascii=False, sort_keys=True) + "\n"


async def write_receipts(
    receipts: AsyncIterator[Receipt], format: Format, out: TextIO, progress: TextIO | None = None
) -> int:
    """Write every receipt to `out`; a count goes to `progress` now and then. Returns the count."""
    count = 0
    if format == "csv":
        out.write(csv_header())
    line = csv_line if format == "csv" else jsonl_line
    async for receipt in receipts:
        out.write(line(receipt))
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress.write(f"\r{count} receipts…")
            progress.flush()
    if progress is not None and count >= PROGRESS_EVERY:
        progress.write("\n")
    return count
