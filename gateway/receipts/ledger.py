"""Every receipt goes through here: written durably, then counted for the dashboard and metrics.

The dashboard's counts (`count_receipts`) are made when a receipt reaches the store — at once,
or when the spool is replayed — on the receipt's own day (`ReceiptWriter.on_stored`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from gateway.counting.counters import EventCounter
from gateway.model.counts import ConsentAction, ConsentCategory, ConsentGpc, FormEvent
from gateway.model.receipts import Receipt
from gateway.receipts.writer import Outcome, ReceiptWriter


class RecordsReceipts(Protocol):
    async def record(self, receipt: Receipt) -> Outcome: ...


class ReceiptLedger:
    def __init__(self, writer: ReceiptWriter) -> None:
        self.writer = writer

    async def record(self, receipt: Receipt) -> Outcome:
        """Write `receipt` to the store (or the spool); it is counted once stored (the writer
        counts each batch in `cg_receipts_total` as it is written)."""
        return await self.writer.record(receipt)


def count_receipts(counter: EventCounter, receipts: Sequence[Receipt]) -> None:
    """Add stored receipts to the dashboard's daily counts, each on its own day. The receipts
    of a batch are mostly alike (the same choice on the same day): each kind is counted once,
    by how many there are."""
    alike = Counter((r.subject_kind, r.action, r.gpc, r.granted, r.denied, r.day) for r in receipts)
    for (kind, action, gpc, granted, denied, day), amount in alike.items():
        counter.add(ConsentAction(kind, action), amount, day)
        counter.add(ConsentGpc(kind, gpc), amount, day)
        for category in granted:
            counter.add(ConsentCategory(kind, category, granted=True), amount, day)
        for category in denied:
            counter.add(ConsentCategory(kind, category, granted=False), amount, day)
    for receipt in receipts:
        for event in form_events(receipt):
            counter.add(event, day=receipt.day)


def form_events(receipt: Receipt) -> list[FormEvent]:
    """The form figures a receipt adds: each box of a submitted form, ticked or not; each
    purpose a confirmation granted; each purpose an unsubscribe withdrew."""
    if receipt.action == "form":
        return [
            FormEvent(receipt.form_id, label.purpose, "ticked" if label.ticked else "unticked")
            for label in receipt.labels
        ]
    if receipt.action == "form_confirmed":
        return [FormEvent(receipt.form_id, purpose, "confirmed") for purpose in receipt.granted]
    if receipt.action == "unsubscribe":
        return [FormEvent(receipt.form_id, purpose, "unsubscribed") for purpose in receipt.denied]
    return []
