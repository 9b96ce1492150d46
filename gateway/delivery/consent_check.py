"""Consent checked again at delivery: a hit queued before its subject was erased, objected or
withdrew is not sent.

The store is the truth; one subject's standing (tombstone, objection, latest choice) is read
in one go and kept `cache_seconds` (1 s), so a burst of one visitor's hits costs one read.
Any change older than that is honoured for every hit still queued.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.delivery.queue import QueuedHit
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class Standing:
    erased: bool
    objected: frozenset[str]
    chosen_at: float | None  # the subject's latest choice (receipt) and what it granted
    granted: frozenset[str]


def withheld_reason(standing: Standing, queued: QueuedHit, category: str) -> str | None:
    """Why the hit may no longer be sent, or None if it may.

    >>> hit = QueuedHit(None, "c1", queued_at=100.0)  # type: ignore[arg-type]
    >>> withheld_reason(Standing(False, frozenset(), 150.0, frozenset()), hit, "analytics")
    'withdrawn'
    >>> withheld_reason(Standing(False, frozenset(), 50.0, frozenset()), hit, "analytics") is None
    True
    """
    if standing.erased:
        return "erased"
    if category in standing.objected:
        return "objected"
    if (
        standing.chosen_at is not None
        and standing.chosen_at > queued.queued_at
        and category not in standing.granted
    ):
        return "withdrawn"
    return None


class DeliveryConsent:
    def __init__(
        self, store: Store, cache_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store, self.cache_seconds, self.clock = store, cache_seconds, clock
        self._cache: dict[str, tuple[float, Standing]] = {}
        self._reading: dict[str, asyncio.Future[Standing]] = {}

    async def withheld(self, queued: QueuedHit, category: str) -> str | None:
        """Raises `StoreUnavailable`: in doubt the hit waits, it is not sent."""
        if queued.consent_id is None:
            return None  # no cookie: an anonymous ping without any identifier
        return withheld_reason(await self.standing(queued.consent_id), queued, category)

    async def standing(self, subject_id: str) -> Standing:
        now = self.clock()
        cached = self._cache.get(subject_id)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        reading = self._reading.get(subject_id)
        if reading is not None:
            return await asyncio.shield(reading)
        future: asyncio.Future[Standing] = asyncio.get_running_loop().create_future()
        self._reading[subject_id] = future
        try:
            standing = await self._read(subject_id)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self._reading[subject_id]
        future.set_result(standing)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[subject_id] = (now, standing)
        return standing

    async def _read(self, subject_id: str) -> Standing:
        erased_at, objection, receipts = await asyncio.gather(
            self.store.suppression(subject_id),
            self.store.subject_objection(subject_id),
            self.store.subject_receipts(subject_id),
        )
        choices = [r for r in receipts if r.action != "objection"]
        latest = choices[-1] if choices else None
        return Standing(
            erased=erased_at is not None,
            objected=frozenset(objection.categories) if objection else frozenset(),
            chosen_at=latest.created_at if latest else None,
            granted=frozenset(latest.granted) if latest else frozenset(),
        )
