"""The storage contract: the facets every backend implements, and the backend that holds them.

    store = open_store(settings)          # one backend object per store URL (not connected)
    await store.open()                    # one connection (pool) shared by every facet
    await store.receipts.add_receipts(batch)
    await store.rights.erase_subject(subject, now)

Each facet is a `Protocol` here (shared state: `gateway.store.shared`), implemented once per
backend (`sqlite_*`, `redis_*`); a component is given the facet it uses, not the store. The
hit queue is opened on the same backend (`gateway.delivery.queue.open_hit_queue`).
`tests/store/test_facets.py` and the contract tests hold every backend to them.

Every operation may raise `StoreUnavailable`; none raises anything else for a reachable store.
Writes are idempotent so a replayed batch lands exactly once. Tombstone wins
(`gateway.store.retention_rules`): every write under a subject — receipt, email event, recipient
consent, objection — checks the subject's tombstone in the same store operation and is dropped
if the subject was erased.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.consent.objections import Objection
from gateway.model.counts import CountKey
from gateway.model.email_events import EmailEvent, RecipientConsent
from gateway.model.receipts import Receipt
from gateway.store.shared import SharedState

__all__ = [
    "CountKey",
    "Counts",
    "EmailRecords",
    "PurgeProgress",
    "Receipts",
    "Retention",
    "Rights",
    "Store",
    "SubjectStanding",
]

# Called while a purge runs with (kind, how many removed so far): for progress on the CLI.
PurgeProgress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class SubjectStanding:
    """What decides whether a subject's queued hit may still be sent."""

    erased: bool
    objection: Objection | None
    latest_choice: Receipt | None  # the subject's newest receipt that is not an objection


# Receipts under a subject that record no banner or preferences choice: an objection, and a
# form's purposes (newsletter), which say nothing of the categories the banner grants.
NOT_CHOICES = frozenset({"objection", "form", "form_confirmed", "unsubscribe"})


def latest_choice(receipts: Sequence[Receipt]) -> Receipt | None:
    """The newest receipt that records a choice (not an objection, not a form's purposes)."""
    choices = [r for r in receipts if r.action not in NOT_CHOICES]
    return max(choices, key=lambda r: (r.created_at, r.receipt_id)) if choices else None


class Receipts(Protocol):
    """The proof-of-consent log."""

    async def add_receipts(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        """Store receipts; returns those newly stored (in order). A receipt whose id is already
        stored is left as it is, one of an erased subject is refused: neither is returned."""

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        """A subject's receipts, oldest first."""

    def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        """All receipts with `since <= created_at < until`, oldest first, fetched page by page."""

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        """The `limit` most recent receipts, newest first (the dashboard's list)."""


class Counts(Protocol):
    """Aggregate counters per day, metric and label."""

    async def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        """Add to aggregate counters (not idempotent: a batch is written once)."""

    async def counts(self, metric: str, first_day: str, last_day: str) -> dict[CountKey, int]:
        """Every counter of `metric` for the days `first_day` to `last_day` inclusive."""


class EmailRecords(Protocol):
    """Recipients' email-tracking choices and their events."""

    async def put_recipient_consent(self, consent: RecipientConsent) -> None:
        """Set a recipient's email-tracking choice; the last write wins (not over a tombstone)."""

    async def recipient_consents(self, subject_ids: Sequence[str]) -> dict[str, RecipientConsent]:
        """The choices of those subjects that have one, in one round trip; an erased subject
        reads as state `erased` (its tombstone) whatever else is stored."""

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        """Store recipient events; an event whose id is already stored is left as it is, and
        events of an erased subject are refused."""

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        """A subject's events younger than the event retention, oldest first."""


class Rights(Protocol):
    """Objections, choices made again, tombstones and erasure."""

    async def put_objection(self, objection: Objection) -> None:
        """Set a subject's objection (the whole set of categories); the last write wins (not
        over a tombstone)."""

    async def subject_objection(self, subject_id: str) -> Objection | None: ...

    async def objections_since(self, since: float) -> list[Objection]:
        """Every objection written at or after `since` (`updated_at`), for the in-memory registry."""

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        """Add a consent id that chose again to the feed the in-memory registry reads (its
        latest choice is its newest receipt); erasure and the purge remove it."""

    async def choice_changes_since(self, since: float) -> list[str]:
        """The consent ids that chose again at or after `since`."""

    async def suppression(self, subject_id: str) -> float | None:
        """When the subject was erased (its tombstone), or None."""

    async def suppressions_since(self, since: float) -> dict[str, float]:
        """Tombstones written at or after `since`: hashed subject id → erasure time."""

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        """Tombstone, objection and latest choice of many subjects in one store round (the
        delivery worker re-checks a batch of queued hits with it)."""

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        """Delete everything held about a subject — receipts, email consent, email events,
        objection — and leave only a suppression tombstone (hashed id and the date of the first
        erasure), atomically: no write under the subject lands after it. Returns how many of
        each kind were deleted (`retention_rules.ERASED_KINDS`)."""


class Retention(Protocol):
    """The purge of what outlived its retention."""

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        """Delete receipts older than the receipt retention and events and counters older than
        the event retention, as of `now`. Returns how many of each kind were deleted:
        `receipts`, `email_events`, `counts` (day × metric × label rows or fields)."""


class Store(Protocol):
    """One backend object per store URL: its lifecycle, its health, and its facets (each
    sharing the backend's one connection)."""

    name: str

    @property
    def receipts(self) -> Receipts: ...

    @property
    def counts(self) -> Counts: ...

    @property
    def email(self) -> EmailRecords: ...

    @property
    def rights(self) -> Rights: ...

    @property
    def retention(self) -> Retention: ...

    @property
    def shared(self) -> SharedState: ...

    async def open(self) -> None:
        """Connect and prepare (create tables, load scripts)."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Return if the store answers; raise `StoreUnavailable` otherwise."""

    async def check_writable(self, within: float) -> None:
        """Return if the store would take a write within `within` seconds; raise
        `StoreUnavailable` saying why not (unreachable, locked, read-only) otherwise."""

    async def usage(self) -> dict[str, int]:
        """`used_bytes` and `limit_bytes` (0: no limit set) of the whole store."""
