"""Objections: a person's standing "no" to categories of processing, enforced on the hot path.

An objection is stored per subject (the store is the truth) and mirrored in memory by
`ObjectionRegistry`, which every instance refreshes from the store every few seconds:
objections are rare, and `/t` must not wait on the store for each hit. The registry also holds
the suppression tombstones of subjects erased within the consent cookie's lifetime, so a cookie
still carrying an erased consent id is treated as an objection to everything: an older cookie
has expired anyway, which bounds the memory. Until the first read from the store succeeds,
every subject counts as objecting to everything: in doubt, no tracking.

    >>> registry = ObjectionRegistry(store, categories=("analytics", "marketing"),
    ...                              refresh_seconds=5, tombstone_days=180)  # doctest: +SKIP
    >>> registry.objected("consent-id")                                       # doctest: +SKIP
    frozenset({'marketing'})
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.background import Repeating
from gateway.email.records import tombstone_id
from gateway.errors import StoreUnavailable

if TYPE_CHECKING:
    from gateway.store.base import Store

log = logging.getLogger("gateway.objections")

NOTHING: frozenset[str] = frozenset()
CLOCK_SKEW_SECONDS = 120.0  # re-read this much before the last refresh: instances' clocks differ


@dataclass(frozen=True, slots=True)
class Objection:
    """The categories a subject objected to (cumulative), and the receipt of the latest one."""

    subject_id: str
    categories: tuple[str, ...]  # sorted
    updated_at: float
    receipt_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "categories": list(self.categories),
            "updated_at": self.updated_at,
            "receipt_id": self.receipt_id,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Objection:
        record = json.loads(text)
        return cls(
            record["subject_id"],
            tuple(record["categories"]),
            record["updated_at"],
            record["receipt_id"],
        )


class ObjectionRegistry:
    """Who objected to what, and who was erased, as known to this process (eventually consistent
    across instances within `refresh_seconds`; at once for changes made through this one)."""

    def __init__(
        self,
        store: Store,
        *,
        categories: Iterable[str],
        refresh_seconds: float,
        tombstone_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.refresh_seconds, self.clock = store, refresh_seconds, clock
        self.everything = frozenset(categories)
        self.tombstone_seconds = tombstone_days * 86400.0
        self._objected: dict[str, frozenset[str]] = {}
        self._suppressed: dict[str, float] = {}  # tombstone hash → erasure time
        self._objections_from = float("-inf")
        self._suppressions_from = float("-inf")
        self._refresher = Repeating("objections-refresh", refresh_seconds, self.refresh)
        self.loaded = False

    # ------------------------------------------------------------ the hot path: memory only

    def objected(self, subject_id: str) -> frozenset[str]:
        """The categories `subject_id` objected to; every category if it was erased."""
        if not self.loaded:
            return self.everything
        if self._suppressed and tombstone_id(subject_id) in self._suppressed:
            return self.everything
        return self._objected.get(subject_id, NOTHING)

    def is_suppressed(self, subject_id: str) -> bool:
        return bool(self._suppressed) and tombstone_id(subject_id) in self._suppressed

    # ------------------------------------------------------------ changes made here

    def note(self, objection: Objection) -> None:
        self._objected[objection.subject_id] = frozenset(objection.categories)

    def note_erased(self, subject_id: str, erased_at: float) -> None:
        self._objected.pop(subject_id, None)
        self._suppressed[tombstone_id(subject_id)] = erased_at

    # ------------------------------------------------------------ the background refresh

    async def refresh(self) -> None:
        """Read what changed in the store since the last refresh (everything the first time)."""
        started = self.clock()
        oldest_cookie = started - self.tombstone_seconds
        objections = await self.store.objections_since(self._objections_from)
        suppressions = await self.store.suppressions_since(
            max(self._suppressions_from, oldest_cookie)
        )
        for objection in objections:
            self.note(objection)
        self._suppressed.update(suppressions)
        if any(at < oldest_cookie for at in self._suppressed.values()):
            self._suppressed = {h: at for h, at in self._suppressed.items() if at >= oldest_cookie}
        self._objections_from = self._suppressions_from = started - CLOCK_SKEW_SECONDS
        self.loaded = True

    async def start(self) -> None:
        try:
            await self.refresh()
        except StoreUnavailable:
            log.warning("objections: store unavailable at start; retrying in the background")
        self._refresher.start()  # a store outage keeps what is known until the next round

    async def close(self) -> None:
        await self._refresher.stop()
