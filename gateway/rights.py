"""People's rights over what the gateway holds about them: access and portability, erasure,
objection. The admin API, the dashboard, the CLI and the self-service endpoints all call
`SubjectRights` (`gateway.rights` of a running gateway; see `tests/endpoints/test_subjects.py`):

    data = await gateway.rights.export("esp-42")
    await gateway.rights.erase("esp-42")
    # → {'receipts': 3, 'email_events': 12, 'email_consent': 1, 'objections': 0}

A subject is a visitor's consent id (from their cookie) or a recipient's id (an ESP id or a
keyed hash of an address); both are pseudonymous, and both are personal data.

**Erasure removes the receipts too**, not only the consent, events and objections: the person
asked for their data to be erased, and a receipt is data about them (their id, what they chose,
a truncated IP, a browser summary, a region). What stays is the suppression tombstone — a
SHA-256 of the id and the date of erasure — which proves the request was carried out, and keeps
tracking off for that id for good: a grant for an erased recipient is refused, and a visitor's
cookie still carrying an erased id counts as an objection to everything (`ObjectionRegistry`).
Nothing records the erasure under the id itself, so nothing personal is left behind. The
store's erasure also deletes the subject's hits waiting in the delivery queue (working data,
not counted in what `erase` returns; `gateway.delivery.queue`).

**An objection** is recorded as a receipt (`action="objection"`, the categories objected to as
`denied`) and stored per subject; objections add up, and consent given later does not lift
them. The decision blocks an objected category outright (never an anonymous ping), and an
objection to marketing or to email tracking stops email tracking of that recipient, anonymous
per-campaign counts included: marketing emails are marketing, and an objection to direct
marketing is absolute. Restriction of processing is an objection to every category.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.consent.model import NECESSARY
from gateway.consent.objections import Objection
from gateway.errors import Unprocessable
from gateway.inputs import checked_subject
from gateway.model.receipts import SubjectKind
from gateway.model.visitors import NO_FACTS, RequestFacts
from gateway.objection_registry import ObjectionRegistry
from gateway.receipts.build import new_receipt
from gateway.receipts.export import receipt_row
from gateway.receipts.ledger import RecordsReceipts
from gateway.receipts.shown import NOTHING_SHOWN, TextsShown
from gateway.receipts.spool import ReceiptSpool
from gateway.settings import ConsentSection
from gateway.store.base import Store

log = logging.getLogger("gateway.rights")

EXPORT_FORMAT = "consent-gateway.subject-export/1"


class SubjectRights:
    """Export, erasure and objection, with only what they need: the store, the receipts, the
    objection registry, the local spool, and whatever holds subjects in memory (`forgetters`:
    an erased subject is dropped from each before and after the store erases it)."""

    def __init__(
        self,
        store: Store,
        receipts: RecordsReceipts,
        objections: ObjectionRegistry,
        spool: ReceiptSpool,
        policy: ConsentSection,
        *,
        forgetters: Sequence[Callable[[str], None]] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.receipts, self.objections, self.spool = store, receipts, objections, spool
        self.policy, self.forgetters, self.clock = policy, tuple(forgetters), clock

    def objectable_categories(self) -> tuple[str, ...]:
        """What a subject may object to: every category but `necessary`, and email tracking."""
        policy = self.policy
        return (*(c for c in policy.categories if c != NECESSARY), policy.email_category)

    async def export(self, subject_id: str) -> dict[str, Any]:
        """Everything held about `subject_id`, as JSON-ready, self-describing data."""
        subject = checked_subject(subject_id)
        store = self.store
        erased_at = await store.rights.suppression(subject)
        receipts = await store.receipts.subject_receipts(subject)
        consent = (await store.email.recipient_consents([subject])).get(subject)
        events = await store.email.email_events(subject)
        objection = await store.rights.subject_objection(subject)
        return {
            "format": EXPORT_FORMAT,
            "subject_id": subject,
            "exported_at": _iso(self.clock()),
            "erased_at": None if erased_at is None else _iso(erased_at),
            "receipts": [receipt_row(receipt) for receipt in receipts],
            "email_tracking": None
            if consent is None or consent.state == "erased"
            else {
                "category": self.policy.email_category,
                "state": consent.state,
                "updated_at": _iso(consent.updated_at),
                "receipt_id": consent.receipt_id,
            },
            "email_events": [
                event.to_dict()
                | {"created_at": _iso(event.created_at), "sent_at": _iso(event.sent_at)}
                for event in events
            ],
            "objection": None
            if objection is None
            else {
                "categories": list(objection.categories),
                "updated_at": _iso(objection.updated_at),
                "receipt_id": objection.receipt_id,
            },
        }

    async def erase(self, subject_id: str) -> dict[str, int]:
        """Delete everything held about `subject_id` and leave only its tombstone; returns how
        many of each kind were deleted (`receipts`, `email_events`, `email_consent`,
        `objections`)."""
        subject = checked_subject(subject_id)
        erased_at = round(self.clock(), 3)
        self._forget(subject)
        counts = await self.store.rights.erase_subject(subject, erased_at)
        self._forget(subject)  # what arrived in memory while the store was erasing
        # After the tombstone: a receipt replayed from any spool from now on is refused by the
        # store; this one is local, so its copies go from the disk too.
        await self.spool.forget_subject(subject)
        self.objections.note_erased(subject, erased_at)
        await self.objections.announce()  # every other instance enforces it within a second
        log.info("a subject was erased: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        return counts

    async def object_to(
        self,
        subject_id: str,
        categories: Sequence[str],
        *,
        source: str = "api",
        facts: RequestFacts = NO_FACTS,
        shown: TextsShown = NOTHING_SHOWN,
    ) -> Objection:
        """Record an objection to `categories` (added to any earlier one) with its receipt; it
        is enforced at once on this instance, within about a second on the others."""
        subject = checked_subject(subject_id)
        allowed = self.objectable_categories()
        unknown = sorted(set(categories) - set(allowed))
        if not categories or unknown:
            raise Unprocessable(
                '"categories" must name at least one category that can be objected to'
                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                valid_categories=list(allowed),
            )
        store = self.store
        if await store.rights.suppression(subject) is not None:
            raise Unprocessable("this subject's data was erased; tracking already stays off for it")
        earlier = await store.rights.subject_objection(subject)
        objected = sorted({*categories, *(earlier.categories if earlier else ())})
        receipt = new_receipt(
            self.policy,
            facts,
            subject_id=subject,
            subject_kind=await self._kind_of(subject),
            action="objection",
            granted=(),
            denied=objected,
            shown=shown,
            page=source,
            now=self.clock(),
        )
        objection = Objection(subject, tuple(objected), receipt.created_at, receipt.receipt_id)
        # The objection first, so it is enforced even if its receipt has to wait in the spool.
        await store.rights.put_objection(objection)
        self.objections.note(objection)
        await self.objections.announce()
        await self.receipts.record(receipt)
        return objection

    def _forget(self, subject: str) -> None:
        for forget in self.forgetters:
            forget(subject)

    async def _kind_of(self, subject: str) -> SubjectKind:
        """A subject's kind, from its receipts; an unknown subject is taken for a recipient (a
        DPO acting on a request by email), a visitor's consent id always has receipts."""
        receipts = await self.store.receipts.subject_receipts(subject)
        return receipts[-1].subject_kind if receipts else "recipient"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
