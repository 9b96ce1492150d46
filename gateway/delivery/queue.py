"""The durable hit queue: what is queued, and the contract both backends keep.

One logical queue per vendor. On SQLite it is one table with a vendor column (an index per
vendor in id order); on Redis one stream per vendor (and shard), each with its own hash tag
so that on a Cluster the vendors' streams spread over the slots, and every command on one
stream — append, take, acknowledge, dead-letter — stays in one slot.

Delivery is at most once per entry: once the request's connection is open and just before
its first byte is written, its entry is marked `sending` (only while the worker still holds
its lease); an entry reclaimed from a dead worker with that mark is never resent (its fate is
`uncertain`), one without it is delivered normally. A connect error, a refused connection or
a shutdown before writing leaves the entry unmarked (a shutdown releases it at once).

Personal data in the queue: an entry holds the decided hit (`gateway.model.decided_hits`:
the parameters the decision lets pass, redacted — ids, page URL — the User-Agent of a
consented hit, the address as the vendor may see it, truncated on an anonymous ping), never
more than the request shaped from it at delivery; so it lives no longer than the person
allows. Each entry carries its subject's tombstone hash: erasing the subject deletes its queued entries (`Rights.erase_subject`), and
the delivery-time consent check withholds anything that slipped through. A dead letter keeps
no personal data: the vendor, the reason, when, and the NAMES of the hit's parameters (to see
what kind of hit it was), never their values; dead letters are removed by the
store's purge after `gateway.store.hit_queue_layout.DEAD_LETTER_SECONDS` (a week).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote_plus, urlsplit

from gateway.delivery.entries import decode_entry, encode_entry
from gateway.delivery.shaping import vendor_request
from gateway.errors import StoreUnavailable
from gateway.model.decided_hits import DecidedHit
from gateway.model.outbound_hits import OutboundHit
from gateway.model.tombstones import tombstone_id
from gateway.rules.model import Rule
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class QueuedHit:
    """A decided hit as it waits in the queue: the hit, whose consent, and when.

    `hit` is a `DecidedHit` (what the edge queues: shaped for its vendor at delivery) or an
    `OutboundHit` (a request already shaped: what releases before the decided hit queued,
    still read after an upgrade; and what a test may queue)."""

    hit: OutboundHit | DecidedHit
    consent_id: str | None  # the visitor's consent id, re-checked at delivery; None: no cookie
    queued_at: float  # unix seconds: when the visitor's hit arrived (the event time)
    # The categories the hit was decided for (Consent Mode, signal params, advertising ids):
    # at delivery the subject's latest choice must still grant every one of them.
    signalled: frozenset[str] = frozenset()
    # The choice the edge decided with: its consent token's `t` (whole seconds), the latest
    # stored choice's if the token was superseded. None: no consent, or queued by an older
    # release (then `queued_at` stands in for it).
    chosen_at: float | None = None
    # The sender's network (a short hash of the truncated address): what the queue's fair
    # share per client counts. None: not counted (a hit from the gateway itself).
    client: str | None = None
    # Its entry, encoded once (`encoded`): the size the edge checks is what is appended.
    _encoded: bytes = field(default=b"", repr=False, compare=False)

    @property
    def anonymous(self) -> bool:
        """No consent behind it (a cookie-less ping): it yields to consented hits at the cap."""
        return self.consent_id is None

    @property
    def subject_hash(self) -> str | None:
        """The subject's tombstone hash: what erasure finds its queued entries by."""
        return None if self.consent_id is None else tombstone_id(self.consent_id)

    def request(self, rule: Rule) -> OutboundHit:
        """The request to send its vendor: a decided hit is shaped now, by the current rule."""
        hit = self.hit
        return vendor_request(rule, hit, self.signalled) if isinstance(hit, DecidedHit) else hit

    def encoded(self) -> bytes:
        """Its queue entry (JSON, `gateway.delivery.entries`), encoded on first use only."""
        if not self._encoded:
            object.__setattr__(self, "_encoded", encode_entry(self))  # frozen: a cache
        return self._encoded

    def to_json(self) -> str:
        return self.encoded().decode()

    def dead_letter(self) -> str:
        """What a dead letter keeps of this hit: its parameter names, no values."""
        hit = self.hit
        if isinstance(hit, DecidedHit):
            return json.dumps(sorted(set(hit.names)), separators=(",", ":"))
        return dead_letter_of(hit)

    @classmethod
    def from_json(cls, text: str | bytes) -> QueuedHit:
        """An entry of either format (raises ValueError, KeyError or TypeError if unreadable);
        appended again, it is the same entry, byte for byte."""
        queued = decode_entry(text, cls)
        encoded = text if isinstance(text, bytes) else text.encode()
        object.__setattr__(queued, "_encoded", encoded)  # frozen: a cache
        return queued


def dead_letter_of(hit: OutboundHit) -> str:
    """The parameter names of a hit (query, then a form or JSON body), as JSON: enough to tell
    which kind of hit died, nothing about whom it was about."""
    names = _form_names(urlsplit(hit.url).query)
    body = hit.body.decode("latin-1")
    if body.startswith(("{", "[")):
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        for item in document if isinstance(document, list) else [document]:
            if isinstance(item, dict):
                names += [str(name) for name in item]
    elif body:
        names += _form_names(body)
    return json.dumps(sorted(set(names)), separators=(",", ":"))


def _form_names(text: str) -> list[str]:
    """The names of `name=value` pairs; a piece without `=` may be data, so it is left out."""
    return [unquote_plus(piece.partition("=")[0]) for piece in text.split("&") if "=" in piece]


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
    bytes: int = 0  # what its entries take (SQLite: their JSON; Redis: `MEMORY USAGE`)


@dataclass(frozen=True, slots=True)
class QueueCap:
    """A vendor queue's limits; at either cap the newest hits are refused (`cap`). Before
    that, fairness: anonymous pings may fill at most `anonymous_share` of the entries
    (the rest is kept for consented hits: `anonymous_share`), and once the queue is half
    full one client may hold at most `client_share` of them (`client_share`)."""

    entries: int
    bytes: int = 1 << 62
    anonymous_share: float = 1.0
    client_share: float = 1.0

    @property
    def anonymous_most(self) -> int:
        return int(self.entries * self.anonymous_share)

    @property
    def client_most(self) -> int:
        return max(1, int(self.entries * self.client_share))


REFUSAL_REASONS = ("cap", "anonymous_share", "client_share")
Refused = dict[str, dict[str, int]]  # vendor → reason → how many of its hits were refused


class HitQueue(Protocol):
    """The store's hit queue facet, on its backend's connection (opened and closed with the
    store). Every method may raise `StoreUnavailable`."""

    async def append(self, hits: Sequence[QueuedHit], cap: int | QueueCap) -> Refused:
        """Queue `hits` in order; a vendor's queue at its cap (entries, or bytes) refuses the
        newest, and its fair shares (`QueueCap`) refuse what is over them. Returns how many
        were refused per vendor and reason (only those refused). An `int` caps entries only."""

    async def take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
        """Up to `count` entries for `consumer`, leased for `lease_seconds`: entries whose
        lease expired (a dead worker's) first, then new ones, oldest first."""

    async def mark_sending(
        self,
        vendor: str,
        consumer: str,
        entry_ids: Sequence[str],
        lease_seconds: float,
        now: float,
    ) -> list[str]:
        """Before the requests are written: a worker dying from now on leaves them `maybe_sent`.
        Only entries `consumer` still holds under an unexpired lease are marked (and their
        lease renewed for `lease_seconds`); returns those: only they may be sent."""

    async def unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        """The vendor certainly did not take them (refused with 429/5xx, or never connected)."""

    async def release(self, vendor: str, consumer: str, entry_ids: Sequence[str]) -> None:
        """Give back entries `consumer` holds and has not marked `sending` (a shutdown before
        their requests were written): any worker may take them at once, as never tried."""

    async def renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        """Extend the lease of entries still held (waiting out a backoff)."""

    async def ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        """Done with them (delivered, withheld or uncertain): delete them."""

    async def dead_letter(
        self, vendor: str, entries: Sequence[tuple[str, str]], reason: str, now: float
    ) -> None:
        """Move entries (id, `QueuedHit.dead_letter()`) to the vendor's dead letters."""

    async def depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        """Queue depth and oldest hit per vendor."""

    async def dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        """The newest dead letters of a vendor: (reason, the hit's parameter names as JSON)."""


DEAD_LETTERS_KEPT = 10_000  # per vendor: the oldest go first


class PartlyAppended(StoreUnavailable):
    """An append failed after some vendors' hits were appended: those must not be retried."""

    def __init__(self, message: str, appended: Refused) -> None:
        super().__init__(message)
        self.appended = appended  # vendor → reason → how many of its hits were refused


def open_hit_queue(store: Store, shards: int = 1) -> HitQueue:
    """The hit queue kept by `store`, on its connection (usable while the store is open).
    On Redis each vendor's queue is `shards` streams (`[delivery] shards`)."""
    from gateway.store.redis import RedisStore
    from gateway.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from gateway.delivery.sqlite_queue import SQLiteHitQueue

        return SQLiteHitQueue(store.connection)
    if isinstance(store, RedisStore):
        from gateway.delivery.redis_queue import RedisHitQueue

        return RedisHitQueue(store.connection, shards)
    raise TypeError(f"no hit queue for a {type(store).__name__}")


def cap_of(cap: int | QueueCap) -> QueueCap:
    return cap if isinstance(cap, QueueCap) else QueueCap(cap)
