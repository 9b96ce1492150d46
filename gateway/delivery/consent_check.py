"""Consent checked again at delivery: a hit queued before its subject was erased, objected,
withdrew, refused the vendor or narrowed their choice is not sent.

The store is the truth; the standings (tombstone, objection, latest choice) of a whole batch
of queued hits are read in one store round (`Rights.subject_standings`) and kept
`cache_seconds` (1 s), so a burst of one visitor's hits costs one read. Any change older than
that is honoured for every hit still queued. The cache holds at most `cache_limit` (100,000)
subjects: a read that would take it past that empties it first.

A hit was shaped at the edge for what its decision `signalled` (Consent Mode, signal params,
advertising ids): a later choice that no longer grants every one of those categories withholds
it, even if the rule's own category is still granted. Re-shaping it for the narrower choice
would be kinder to the site's numbers, but withholding is the simple behaviour that never tells
a vendor more than the person now allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.delivery.queue import QueuedHit
from gateway.rules.model import Rule
from gateway.store.base import Rights, SubjectStanding


@dataclass(frozen=True, slots=True)
class Standing:
    erased: bool
    objected: frozenset[str]
    chosen_at: float | None  # the subject's latest choice (receipt): when, what it granted,
    granted: frozenset[str]  # and which vendors it refused inside the granted categories
    refused_vendors: frozenset[str] = frozenset()

    @classmethod
    def of(cls, stored: SubjectStanding) -> Standing:
        choice = stored.latest_choice
        return cls(
            erased=stored.erased,
            objected=frozenset(stored.objection.categories) if stored.objection else frozenset(),
            chosen_at=choice.created_at if choice else None,
            granted=frozenset(choice.granted) if choice else frozenset(),
            refused_vendors=frozenset(choice.refused_vendors) if choice else frozenset(),
        )


def withheld_reason(standing: Standing, queued: QueuedHit, rule: Rule) -> str | None:
    """Why the hit may no longer be sent to `rule`'s vendor, or None if it may (table-tested
    in `tests/delivery/test_consent_check.py`)."""
    if standing.erased:
        return "erased"
    if rule.category in standing.objected or standing.objected & queued.signalled:
        return "objected"
    # The edge decided with the choice its token carried (`chosen_at`, whole seconds), not
    # with whatever the store held when the hit was queued: an old token replayed after a
    # narrower choice or a withdrawal is caught here too. A token's time is whole seconds and
    # a receipt's has milliseconds: a choice of the token's own second may be that token's or
    # one made just after it, so the hit must then fit it.
    if standing.chosen_at is None:
        return None
    if queued.chosen_at is None:  # queued by an older release: only its queue time is known
        if standing.chosen_at <= queued.queued_at:
            return None
    elif int(standing.chosen_at) < queued.chosen_at:
        return None  # the token is newer than the stored choice
    if rule.category not in queued.signalled:
        return None  # an anonymous ping (nothing signalled): it identifies nobody
    if rule.id in standing.refused_vendors:
        return "vendor_refused"
    if rule.category not in standing.granted or not queued.signalled <= standing.granted:
        return "withdrawn"
    return None


class DeliveryConsent:
    def __init__(
        self,
        rights: Rights,
        cache_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        cache_limit: int = 100_000,  # subjects; past it the cache starts again empty
    ) -> None:
        self.rights, self.cache_seconds, self.clock = rights, cache_seconds, clock
        self.cache_limit = cache_limit
        self._cache: dict[str, tuple[float, Standing]] = {}

    async def withheld(self, hits: Sequence[QueuedHit], rule: Rule) -> list[str | None]:
        """Why each hit may not be sent (None: it may). One store round for the batch.
        Raises `StoreUnavailable`: in doubt the hits wait, they are not sent."""
        subjects = {q.consent_id for q in hits if q.consent_id is not None}
        standings = await self.standings(subjects)
        return [
            None  # no cookie: an anonymous ping without any identifier
            if q.consent_id is None
            else withheld_reason(standings[q.consent_id], q, rule)
            for q in hits
        ]

    async def standings(self, subject_ids: set[str]) -> dict[str, Standing]:
        now = self.clock()
        found: dict[str, Standing] = {}
        missing = []
        for subject in subject_ids:
            cached = self._cache.get(subject)
            if cached is not None and now - cached[0] < self.cache_seconds:
                found[subject] = cached[1]
            else:
                missing.append(subject)
        if missing:
            read = await self.rights.subject_standings(missing)
            if len(self._cache) + len(missing) > self.cache_limit:
                self._cache.clear()
            for subject in missing:
                found[subject] = Standing.of(read[subject])
                self._cache[subject] = (now, found[subject])
        return found
