"""People's rights over what the gateway holds about them: access and portability, erasure,
objection. The admin API, the dashboard, the CLI and the self-service endpoints all call these,
on a started gateway (see `tests/endpoints/test_subjects.py`):

    data = await export_subject(gateway, "esp-42")
    await erase_subject(gateway, "esp-42")
    # → {'receipts': 3, 'email_events': 12, 'email_consent': 1, 'objections': 0}

A subject is a visitor's consent id (from their cookie) or a recipient's id (an ESP id or a
keyed hash of an address); both are pseudonymous, and both are personal data.

**Erasure removes the receipts too**, not only the consent, events and objections: the person
asked for their data to be erased, and a receipt is data about them (their id, what they chose,
a truncated IP, a browser summary, a region). What stays is the suppression tombstone — a
SHA-256 of the id and the date of erasure — which proves the request was carried out, and keeps
tracking off for that id for good: a grant for an erased recipient is refused, and a visitor's
cookie still carrying an erased id counts as an objection to everything (`ObjectionRegistry`).
Nothing records the erasure under the id itself, so nothing personal is left behind.

**An objection** is recorded as a receipt (`action="objection"`, the categories objected to as
`denied`) and stored per subject; objections add up, and consent given later does not lift
them. The decision blocks an objected category outright (never an anonymous ping), and an
objection to marketing or to email tracking stops email tracking of that recipient, anonymous
per-campaign counts included: marketing emails are marketing, and an objection to direct
marketing is absolute. Restriction of processing is an objection to every category.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.consent.model import NECESSARY
from gateway.consent.objections import Objection
from gateway.errors import Unprocessable
from gateway.inputs import checked_subject
from gateway.receipts.build import new_receipt
from gateway.receipts.export import receipt_row
from gateway.receipts.model import SubjectKind
from gateway.receipts.shown import NOTHING_SHOWN, TextsShown
from gateway.runtime import Gateway
from gateway.visitors.request import NO_FACTS, RequestFacts

log = logging.getLogger("gateway.rights")

EXPORT_FORMAT = "consent-gateway.subject-export/1"


def objectable_categories(gateway: Gateway) -> tuple[str, ...]:
    """What a subject may object to: every category but `necessary`, and email tracking."""
    settings = gateway.settings
    return (*(c for c in settings.categories if c != NECESSARY), settings.email_category)


async def export_subject(gateway: Gateway, subject_id: str) -> dict[str, Any]:
    """Everything held about `subject_id`, as JSON-ready, self-describing data (portability)."""
    subject = checked_subject(subject_id)
    store = gateway.store
    erased_at = await store.suppression(subject)
    receipts = await store.subject_receipts(subject)
    consent = (await store.recipient_consents([subject])).get(subject)
    events = await store.email_events(subject)
    objection = await store.subject_objection(subject)
    return {
        "format": EXPORT_FORMAT,
        "subject_id": subject,
        "exported_at": _iso(gateway.clock()),
        "erased_at": None if erased_at is None else _iso(erased_at),
        "receipts": [receipt_row(receipt) for receipt in receipts],
        "email_tracking": None
        if consent is None or consent.state == "erased"
        else {
            "category": gateway.settings.email_category,
            "state": consent.state,
            "updated_at": _iso(consent.updated_at),
            "receipt_id": consent.receipt_id,
        },
        "email_events": [
            event.to_dict() | {"created_at": _iso(event.created_at), "sent_at": _iso(event.sent_at)}
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


async def erase_subject(gateway: Gateway, subject_id: str) -> dict[str, int]:
    """Delete everything held about `subject_id` and leave only its tombstone; returns how many
    of each kind were deleted (`receipts`, `email_events`, `email_consent`, `objections`)."""
    subject = checked_subject(subject_id)
    erased_at = round(gateway.clock(), 3)
    counts = await gateway.email.erase(subject, erased_at)  # the store, and events in memory
    # After the tombstone: a receipt replayed from any spool from now on is refused by the
    # store; this one is local, so its copies go from the disk too.
    await gateway.spool.forget_subject(subject)
    gateway.objections.note_erased(subject, erased_at)
    await gateway.objections.announce()  # every other instance enforces it within a second
    log.info("a subject was erased: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return counts


async def object_to(
    gateway: Gateway,
    subject_id: str,
    categories: Sequence[str],
    *,
    source: str = "api",
    facts: RequestFacts = NO_FACTS,
    shown: TextsShown = NOTHING_SHOWN,
) -> Objection:
    """Record an objection to `categories` (added to any earlier one) with its receipt; it is
    enforced at once on this instance, within about a second on the others."""
    subject = checked_subject(subject_id)
    allowed = objectable_categories(gateway)
    unknown = sorted(set(categories) - set(allowed))
    if not categories or unknown:
        raise Unprocessable(
            '"categories" must name at least one category that can be objected to'
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            valid_categories=list(allowed),
        )
    store = gateway.store
    if await store.suppression(subject) is not None:
        raise Unprocessable("this subject's data was erased; tracking already stays off for it")
    earlier = await store.subject_objection(subject)
    objected = sorted({*categories, *(earlier.categories if earlier else ())})
    receipt = new_receipt(
        gateway.settings,
        facts,
        subject_id=subject,
        subject_kind=await _kind_of(gateway, subject),
        action="objection",
        granted=(),
        denied=objected,
        shown=shown,
        page=source,
        now=gateway.clock(),
    )
    objection = Objection(subject, tuple(objected), receipt.created_at, receipt.receipt_id)
    # The objection first, so it is enforced even if its receipt has to wait in the spool.
    await store.put_objection(objection)
    gateway.objections.note(objection)
    await gateway.objections.announce()
    await gateway.receipts.record(receipt)
    return objection


async def _kind_of(gateway: Gateway, subject: str) -> SubjectKind:
    """A subject's kind, from its receipts; an unknown subject is taken for a recipient (a DPO
    acting on a request by email), a visitor's consent id always has receipts."""
    receipts = await gateway.store.subject_receipts(subject)
    return receipts[-1].subject_kind if receipts else "recipient"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
