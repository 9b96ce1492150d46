"""Every receipt goes through here: written durably, then counted for the dashboard and metrics."""

from __future__ import annotations

from typing import Protocol

from gateway.counts import ConsentAction, ConsentCategory, ConsentGpc
from gateway.metrics import Metrics
from gateway.receipts.model import Receipt
from gateway.receipts.writer import Outcome, ReceiptWriter
from gateway.tracking.counters import EventCounter


class RecordsReceipts(Protocol):
    async def record(self, receipt: Receipt) -> Outcome: ...


class ReceiptLedger:
    def __init__(self, writer: ReceiptWriter, counter: EventCounter, metrics: Metrics) -> None:
        self.writer, self.counter, self.metrics = writer, counter, metrics

    async def record(self, receipt: Receipt) -> Outcome:
        """Write `receipt` to the store (or the spool) and count it per day."""
        outcome = await self.writer.record(receipt)
        self.metrics.receipts.labels(receipt.action, outcome).inc()
        kind, add = receipt.subject_kind, self.counter.add
        add(ConsentAction(kind, receipt.action))
        add(ConsentGpc(kind, receipt.gpc))
        for category in receipt.granted:
            add(ConsentCategory(kind, category, granted=True))
        for category in receipt.denied:
            add(ConsentCategory(kind, category, granted=False))
        return outcome
