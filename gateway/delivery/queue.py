"""The durable hit queue: what is queued, and the contract both backends keep.

One logical queue per vendor. On SQLite it is one table with a vendor column (an index per
vendor in id order); on Redis one stream per vendor (and shard), each with its own hash tag
so that on a Cluster the vendors' streams spread over the slots, and every command on one
stream — append, take, acknowledge, dead-letter — stays in one slot.

Delivery is at most once per entry: before a request is written, its entry is marked
`sending`; an entry reclaimed from a dead worker with that mark is never resent (its fate is
`uncertain`), one without it is delivered normally.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.settings import Settings
from gateway.tracking.hits import OutboundHit


@dataclass(frozen=True, slots=True)
class QueuedHit:
    """A decided hit as it waits in the queue: the request, whose consent, and when."""

    hit: OutboundHit
    consent_id: str | None  # the visitor's consent id, re-checked at delivery; None: no cookie
    queued_at: float  # unix seconds: when the visitor's hit arrived (the event time)

    def to_json(self) -> str:
        hit = self.hit
        record = {
            "v": hit.vendor,
            "m": hit.method,
            "u": hit.url,
            "h": hit.headers,
            "b": hit.body.decode("latin-1"),
            "c": self.consent_id,
            "t": self.queued_at,
        }
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> QueuedHit:
        r = json.loads(text)
        headers = tuple((str(name), str(value)) for name, value in r["h"])
        hit = OutboundHit(r["v"], r["m"], r["u"], headers, r["b"].encode("latin-1"))
        return cls(hit, r["c"], float(r["t"]))


@dataclass(frozen=True, slots=True)
class Taken:
    """An entry a worker took: `hit` is None if the entry could not be read."""

    entry_id: str
    hit: QueuedHit | None
    maybe_sent: bool  # a previous worker marked it `sending` and died: the vendor may have it


@dataclass(frozen=True, slots=True)
class QueueDepth:
    depth: int
    oldest_at: float | None  # unix seconds of the oldest queued hit


class HitQueue(ABC):
    """Every method may raise `StoreUnavailable`."""

    name: str

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def append(self, hits: Sequence[QueuedHit], cap: int) -> dict[str, int]:
        """Queue `hits` in order; a vendor's queue holding `cap` entries refuses the newest.
        Returns how many were refused per vendor (the overflow policy: drop the newest)."""

    @abstractmethod
    async def take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
        """Up to `count` entries for `consumer`, leased for `lease_seconds`: entries whose
        lease expired (a dead worker's) first, then new ones, oldest first."""

    @abstractmethod
    async def mark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        """Before the requests are written: a worker dying from now on leaves them `maybe_sent`."""

    @abstractmethod
    async def unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        """The vendor certainly did not take them (refused with 429/5xx, or never connected)."""

    @abstractmethod
    async def renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        """Extend the lease of entries still held (waiting out a backoff)."""

    @abstractmethod
    async def ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        """Done with them (delivered, withheld or uncertain): delete them."""

    @abstractmethod
    async def dead_letter(
        self, vendor: str, entries: Sequence[tuple[str, str]], reason: str, now: float
    ) -> None:
        """Move entries (id, the hit's JSON) to the vendor's bounded dead-letter list."""

    @abstractmethod
    async def depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        """Queue depth and oldest hit per vendor."""

    @abstractmethod
    async def dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        """The newest dead-lettered hits of a vendor: (reason, the hit's JSON)."""


DEAD_LETTERS_KEPT = 10_000  # per vendor: the oldest go first


def open_hit_queue(settings: Settings) -> HitQueue:
    """The queue in the store named by `settings.store` (not yet connected)."""
    url = settings.store
    if url.startswith("sqlite://"):
        from pathlib import Path

        from gateway.delivery.sqlite_queue import SQLiteHitQueue

        return SQLiteHitQueue(Path(url.removeprefix("sqlite://").removeprefix("/")), settings)
    from gateway.delivery.redis_queue import RedisHitQueue

    return RedisHitQueue(url, settings)
