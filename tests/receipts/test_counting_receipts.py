"""The dashboard's counts of stored receipts: a batch's alike receipts are counted together,
and what they add is what counting each one adds — per day, per kind, per GPC, per category,
and each box of a submitted form."""

from __future__ import annotations

from collections import Counter

from gateway.counting.counters import EventCounter
from gateway.model.receipts import LabelShown
from gateway.receipts.ledger import count_receipts
from gateway.store.base import CountKey
from tests.store.test_contract import receipt

T0 = 1_764_000_000.0  # 2025-11-24 16:00 UTC
DAY = 86400


def pending(counter: EventCounter) -> Counter[CountKey]:
    return counter._pending  # the counts not yet flushed: what this batch added


def test_alike_receipts_are_counted_together_each_on_its_day() -> None:
    counter = EventCounter(counts=None)  # type: ignore[arg-type]  # never flushed here
    accepted = [receipt(f"subject-{i:02d}-aaaaaaaaaaaa", at=T0 + i) for i in range(5)]
    with_gpc = receipt("subject-gpc-aaaaaaaaaaa", at=T0, gpc=True, granted=("necessary",))
    yesterday = receipt("subject-old-aaaaaaaaaaa", at=T0 - DAY, action="reject_all")
    label = LabelShown("news", "en", "Send me news", "0" * 64, True)
    form = receipt("subject-form-aaaaaaaaaa", at=T0, action="form", form_id="f", labels=(label,))
    count_receipts(counter, [*accepted, with_gpc, yesterday, form])
    today, before = "2025-11-24", "2025-11-23"
    assert pending(counter) == {
        CountKey(today, "consent_action", "visitor:accept_all"): 6,
        CountKey(today, "consent_action", "visitor:form"): 1,
        CountKey(before, "consent_action", "visitor:reject_all"): 1,
        CountKey(today, "consent_gpc", "visitor:off"): 6,
        CountKey(today, "consent_gpc", "visitor:on"): 1,
        CountKey(before, "consent_gpc", "visitor:off"): 1,
        CountKey(today, "consent_category", "visitor:analytics:granted"): 6,
        CountKey(today, "consent_category", "visitor:necessary:granted"): 7,
        CountKey(today, "consent_category", "visitor:marketing:denied"): 7,
        CountKey(before, "consent_category", "visitor:analytics:granted"): 1,
        CountKey(before, "consent_category", "visitor:necessary:granted"): 1,
        CountKey(before, "consent_category", "visitor:marketing:denied"): 1,
        CountKey(today, "form_event", "f|news|ticked"): 1,
    }
