"""A recipient's email-tracking consent: recorded with a receipt, looked up through a short cache.

The store is the truth, keyed by subject. Lookups are cached for `email_consent_cache_seconds`
(5 s by default, `RecipientConsentCache`) and come in batches from the event recorder, so the
hot paths never wait on the store; a change made through this process is seen at once, one made
elsewhere as soon as the objection registry hears of it (it is built with the cache's `clear`),
at the latest within the cache time. Without a recorded grant — unknown subject, withdrawn,
erased, store down — there is no per-recipient tracking; nor with an objection to email
tracking or to marketing (marketing emails are marketing: an objection to it is absolute).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from gateway.consent.model import MARKETING
from gateway.errors import StoreUnavailable, Unprocessable
from gateway.model.email_events import ConsentState, RecipientConsent
from gateway.model.receipts import Action, Receipt
from gateway.model.visitors import NO_FACTS, RequestFacts
from gateway.receipts.build import new_receipt
from gateway.receipts.ledger import RecordsReceipts
from gateway.receipts.shown import NOTHING_SHOWN, TextsShown
from gateway.settings import ConsentSection, EmailSection
from gateway.store.base import Store

MAX_CACHED = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class Collection:
    """Where and how a choice was collected, for its receipt."""

    action: Action
    facts: RequestFacts = NO_FACTS
    page: str = ""  # a path on `facts.origin`, or the API caller's `source`
    shown: TextsShown = NOTHING_SHOWN  # the preferences page's texts, when it was shown


class RecipientConsentCache:
    """Recipients' choices as last read from the store, each for `seconds`; at most
    `max_entries` (past it, everything goes at once: looked up afresh in one round trip).
    `clear` empties it when another instance announces a change: a gateway builds the cache
    first and hands `clear` to the objection registry, which hears those announcements."""

    def __init__(self, seconds: float, max_entries: int = MAX_CACHED) -> None:
        self.seconds, self.max_entries = seconds, max_entries
        self._entries: dict[str, tuple[float, RecipientConsent | None]] = {}  # → (expires, choice)

    def known(
        self, subjects: Iterable[str], now: float
    ) -> tuple[dict[str, RecipientConsent], list[str]]:
        """The cached choices among `subjects` (one who never chose is left out) and the
        subjects to look up: not cached, or no longer."""
        found: dict[str, RecipientConsent] = {}
        missing = []
        for subject in set(subjects):
            cached = self._entries.get(subject)
            if cached is not None and cached[0] > now:
                if cached[1] is not None:
                    found[subject] = cached[1]
            else:
                missing.append(subject)
        return found, missing

    def keep(
        self, subjects: Sequence[str], fetched: Mapping[str, RecipientConsent], now: float
    ) -> None:
        """What the store said of `subjects` (a subject it knows nothing of: no choice)."""
        if len(self._entries) + len(subjects) > self.max_entries:
            self._entries.clear()
        expires = now + self.seconds
        for subject in subjects:
            self._entries[subject] = (expires, fetched.get(subject))

    def forget(self, subject: str) -> None:
        self._entries.pop(subject, None)

    def clear(self) -> None:
        """Another instance recorded a choice or an erasure: look everyone up afresh."""
        self._entries.clear()


class RecipientConsents:
    def __init__(
        self,
        store: Store,
        receipts: RecordsReceipts,
        policy: ConsentSection,
        email: EmailSection,
        clock: Callable[[], float] = time.time,
        objected: Callable[[str], frozenset[str]] = lambda subject: frozenset(),
        cache: RecipientConsentCache | None = None,
    ) -> None:
        """`cache`: one of its own unless given (a gateway's is emptied by the objection
        registry when another instance announces a change)."""
        self.store, self.receipts, self.clock = store, receipts, clock
        self.policy, self.email = policy, email
        self.category = policy.email_category
        self.objected = objected  # `ObjectionRegistry.objected`: memory only
        self._blocking_objections = frozenset({policy.email_category, MARKETING})
        self.cache = RecipientConsentCache(email.consent_cache_seconds) if cache is None else cache

    async def state_of(self, subject: str) -> RecipientConsent | None:
        """The subject's current choice, or None if they never made one."""
        return (await self._lookup([subject])).get(subject)

    async def granted_among(self, subjects: Iterable[str]) -> dict[str, float]:
        """Those of `subjects` who granted email tracking, with when they did (one store round
        trip for the cache misses): an event from before the grant is not theirs to keep.
        An objection to email tracking or to marketing overrides a grant."""
        found = await self._lookup(subjects)
        return {
            subject: c.updated_at
            for subject, c in found.items()
            if c.granted and not self.objects_to_tracking(subject)
        }

    def objects_to_tracking(self, subject: str) -> bool:
        """Whether the subject objected to email tracking or to marketing (memory only)."""
        return bool(self.objected(subject) & self._blocking_objections)

    async def _lookup(self, subjects: Iterable[str]) -> dict[str, RecipientConsent]:
        now = self.clock()
        found, missing = self.cache.known(subjects, now)
        if missing:
            fetched = await self.store.email.recipient_consents(missing)
            self.cache.keep(missing, fetched, now)
            found.update(fetched)
        return found

    def forget(self, subject: str) -> None:
        self.cache.forget(subject)

    async def choose(self, subject: str, *, grant: bool, collection: Collection) -> Receipt:
        """Record a grant or a withdrawal: the choice first (so tracking follows it even if the
        receipt must wait in the spool), then its receipt."""
        receipt = self._receipt(subject, grant, collection)
        await self.follow(receipt, grant=grant)
        return receipt

    async def follow(self, receipt: Receipt, *, grant: bool) -> None:
        """Set the receipt's subject's email tracking to granted or withdrawn, then record the
        receipt (a form's confirmation and unsubscribe make their own receipts)."""
        subject = receipt.subject_id
        current = await self.store.email.recipient_consents([subject])
        erased = subject in current and current[subject].state == "erased"
        if grant and erased:
            raise Unprocessable("this recipient's data was erased; email tracking stays off")
        if not erased:
            state: ConsentState = "granted" if grant else "withdrawn"
            consent = RecipientConsent(subject, state, receipt.created_at, receipt.receipt_id)
            await self.store.email.put_recipient_consent(consent)
        self.forget(subject)
        with contextlib.suppress(StoreUnavailable):  # else the others' caches expire anyway
            await self.store.shared.bump_changes()  # every instance drops its cached choices
        await self.receipts.record(receipt)

    async def erase(self, subject: str, erased_at: float) -> dict[str, int]:
        """Erase everything held about the subject (`Rights.erase_subject`): no receipt is
        written, the tombstone is the proof. Returns the counts per kind."""
        counts = await self.store.rights.erase_subject(subject, erased_at)
        self.forget(subject)
        return counts

    async def export(self, subject: str) -> dict[str, Any]:
        """Everything held about the subject's email tracking, as JSON-ready data."""
        consent = (await self.store.email.recipient_consents([subject])).get(subject)
        events = await self.store.email.email_events(subject)
        receipts = await self.store.receipts.subject_receipts(subject)
        return {
            "subject_id": subject,
            "email_tracking": consent.state if consent else "not_asked",
            "events": [event.to_dict() for event in events],
            "receipts": [r.to_dict() | {"created_at": r.created_iso()} for r in receipts],
        }

    def _receipt(self, subject: str, grant: bool, collection: Collection) -> Receipt:
        return new_receipt(
            self.policy,
            collection.facts,
            subject_id=subject,
            subject_kind="recipient",
            action=collection.action,
            granted=[self.category] if grant else [],
            denied=[] if grant else [self.category],
            shown=collection.shown,
            page=collection.page,
            now=self.clock(),
        )
