"""Who objected to what, who was erased and who chose again: the in-memory mirror of the store
that `/t`, `GET /consent` and the email recorder consult, kept current on every instance.

Objections are rare and `/t` must not wait on the store for each hit, so every instance keeps
them in memory. Every objection and erasure bumps a change counter in the store
(`SharedState.bump_changes`); each instance reads that counter a few times a second
(`watch_seconds`, a single cheap read) and re-reads what changed when it moves, so a change
made on one instance is enforced on all of them within about a second — on SQLite, Redis,
Sentinel and Cluster alike, with no subscription to lose in a failover. A full re-read every
`refresh_seconds` is the safety net should an announcement be lost.

It also holds the latest choice of every consent id that chose again (a narrower or wider
choice, a vendor refused, a withdrawal) within the cookie's lifetime: a token signed before
that choice reads as it (`gateway.consent.supersede`). Recording such a choice notes its id in
the store's feed of choice changes and bumps the same change counter; the other instances read
the ids and their latest receipts (`Rights.subject_standings`). At most `MAX_LATEST_CHOICES`
are kept: past that the oldest are forgotten, and a token older than the newest forgotten
choice reads as no consent (counted as `forgotten`), never as its old grant.

The registry also holds the suppression tombstones of subjects erased within the consent
cookie's lifetime, so a cookie still carrying an erased consent id is treated as an objection
to everything (an older cookie has expired anyway, which bounds the memory). Until the first
read from the store succeeds, every subject counts as objecting to everything: in doubt, no
tracking.

    >>> from gateway.settings import Settings
    >>> from gateway.store import open_store
    >>> registry = ObjectionRegistry(open_store(Settings()), categories=("analytics", "marketing"),
    ...                              refresh_seconds=5, tombstone_days=180)
    >>> sorted(registry.objected("consent-id"))  # nothing read from the store yet: everything
    ['analytics', 'marketing']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from gateway.background import Repeating
from gateway.consent.model import Consent
from gateway.consent.objections import NOTHING, Objection
from gateway.consent.supersede import LatestChoice, supersede, withdrawn
from gateway.errors import StoreUnavailable
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.store.base import Store

log = logging.getLogger("gateway.objections")

MAX_LATEST_CHOICES = 1_000_000  # ~200 B each: about 200 MB at the bound
STANDINGS_CHUNK = 500  # latest choices read per store round
CLOCK_SKEW_SECONDS = 120.0  # re-read this much before the last refresh: instances' clocks differ
WATCH_SECONDS = 0.25


class ObjectionRegistry:
    """Objections and recent erasures as known to this process: changes made here at once,
    changes made elsewhere within about `watch_seconds` plus one store round trip."""

    def __init__(
        self,
        store: Store,
        *,
        categories: Iterable[str],
        refresh_seconds: float,
        tombstone_days: int,
        watch_seconds: float = WATCH_SECONDS,
        clock: Callable[[], float] = time.time,
        on_superseded: Callable[[str], None] = lambda how: None,
        on_change: Sequence[Callable[[], None]] = (),
        max_latest_choices: int = MAX_LATEST_CHOICES,
    ) -> None:
        self.store, self.refresh_seconds, self.clock = store, refresh_seconds, clock
        self.everything = frozenset(categories)
        self.tombstone_seconds = tombstone_days * 86400.0
        self._objected: dict[str, frozenset[str]] = {}
        self._suppressed: dict[str, float] = {}  # tombstone hash → erasure time
        self._latest: dict[str, LatestChoice] = {}  # consent id → its latest choice
        self._forgotten_before = 0  # tokens older than this whose id is not known: no consent
        self._choices_from = float("-inf")
        self.max_latest_choices = max_latest_choices
        self.on_superseded = on_superseded
        self._objections_from = float("-inf")
        self._suppressions_from = float("-inf")
        self._changes_seen: int | None = None
        self._refreshed_at = float("-inf")
        self._watcher = Repeating("objections-watch", watch_seconds, self.watch)
        self.loaded = False
        # Called when another instance announced a change: caches of per-subject state that
        # could now be stale (a recipient's consent) drop what they hold. Given here, when the
        # registry is built, by whoever built those caches first (`Gateway.build`).
        self.on_change = tuple(on_change)

    # ------------------------------------------------------------ the hot path: memory only

    def objected(self, subject_id: str) -> frozenset[str]:
        """The categories `subject_id` objected to; every category if it was erased."""
        if not self.loaded:
            return self.everything
        if self._suppressed and tombstone_id(subject_id) in self._suppressed:
            return self.everything
        return self._objected.get(subject_id, NOTHING)

    def standing(self, consent: Consent | None) -> Consent | None:
        """What a token's consent means now: itself, or its id's latest stored choice
        (`gateway.consent.supersede`); every instance within about a second."""
        if consent is None or not (self._latest or self._forgotten_before):
            return consent
        latest = self._latest.get(consent.consent_id)
        now = supersede(consent, latest, forgotten_before=self._forgotten_before)
        if now is not consent:
            self.on_superseded(_how(consent, latest, now))
        return now

    def is_suppressed(self, subject_id: str) -> bool:
        return bool(self._suppressed) and tombstone_id(subject_id) in self._suppressed

    # ------------------------------------------------------------ changes made here

    def note(self, objection: Objection) -> None:
        self._objected[objection.subject_id] = frozenset(objection.categories)

    def note_choice(self, consent_id: str, latest: LatestChoice) -> None:
        """A consent id chose again (recorded here): older tokens read as `latest` at once."""
        known = self._latest.get(consent_id)
        if known is None or known.chosen_at <= latest.chosen_at:
            self._latest[consent_id] = latest
        if len(self._latest) > self.max_latest_choices:
            self._forget_oldest()

    async def choice_changed(self, consent_id: str, receipt: Receipt) -> None:
        """A consent id chose again (`receipt`, already recorded): every token signed before
        reads as this choice — here at once, on every other instance within about a second."""
        self.note_choice(consent_id, latest_choice_of(receipt))
        try:
            await self.store.rights.note_choice_change(consent_id, receipt.created_at)
        except StoreUnavailable:
            log.warning("objections: could not record a choice change; delivery still checks it")
            return
        await self.announce()

    def _forget_oldest(self) -> None:
        """Down to nine tenths of the bound, oldest first (one sort per tenth, not per id)."""
        keep = sorted(self._latest.items(), key=lambda item: item[1].chosen_at)
        cut = len(keep) - self.max_latest_choices * 9 // 10
        self._forgotten_before = max(self._forgotten_before, keep[cut - 1][1].chosen_at + 1)
        self._latest = dict(keep[cut:])

    def note_erased(self, subject_id: str, erased_at: float) -> None:
        self._objected.pop(subject_id, None)
        self._latest.pop(subject_id, None)
        self._suppressed[tombstone_id(subject_id)] = erased_at

    async def announce(self) -> None:
        """Tell every other instance that objections or erasures changed (after the store
        write). If the store cannot take it, they catch up with their next full re-read."""
        try:
            await self.store.shared.bump_changes()
        except StoreUnavailable:
            log.warning(
                "objections: could not announce a change; others see it within %s s",
                self.refresh_seconds,
            )

    # ------------------------------------------------------------ keeping up with the store

    async def watch(self) -> None:
        """One round of the watcher: re-read if the change counter moved or a full re-read
        is due."""
        seen = await self.store.shared.changes()
        moved = self._changes_seen is not None and seen != self._changes_seen
        if seen != self._changes_seen or self._full_reread_due():
            await self.refresh()
            self._changes_seen = seen
        if moved:
            for listener in self.on_change:
                listener()

    def _full_reread_due(self) -> bool:
        return self.clock() - self._refreshed_at >= self.refresh_seconds

    async def refresh(self) -> None:
        """Read what changed in the store since the last refresh (everything the first time)."""
        started = self.clock()
        oldest_cookie = started - self.tombstone_seconds
        objections = await self.store.rights.objections_since(self._objections_from)
        suppressions = await self.store.rights.suppressions_since(
            max(self._suppressions_from, oldest_cookie)
        )
        for objection in objections:
            self.note(objection)
        changed = await self.store.rights.choice_changes_since(
            max(self._choices_from, oldest_cookie)
        )
        for at in range(0, len(changed), STANDINGS_CHUNK):
            standings = await self.store.rights.subject_standings(
                changed[at : at + STANDINGS_CHUNK]
            )
            for consent_id, standing in standings.items():
                if standing.latest_choice is not None:
                    self.note_choice(consent_id, latest_choice_of(standing.latest_choice))
        if self._latest and self._full_reread_due():  # expired tokens need no entry
            self._latest = {i: c for i, c in self._latest.items() if c.chosen_at >= oldest_cookie}
        self._suppressed.update(suppressions)
        if any(at < oldest_cookie for at in self._suppressed.values()):
            self._suppressed = {h: at for h, at in self._suppressed.items() if at >= oldest_cookie}
        self._objections_from = self._suppressions_from = started - CLOCK_SKEW_SECONDS
        self._choices_from = started - CLOCK_SKEW_SECONDS
        self._refreshed_at = started
        self.loaded = True

    async def start(self) -> None:
        try:
            await self.watch()
        except StoreUnavailable:
            log.warning("objections: store unavailable at start; retrying in the background")
        self._watcher.start()  # a store outage keeps what is known until the next round

    async def close(self) -> None:
        await self._watcher.stop()


def latest_choice_of(receipt: Receipt) -> LatestChoice:
    """A stored choice (its receipt) as tokens see it: to the second, as a token's `t`."""
    return LatestChoice(
        chosen_at=int(receipt.created_at),
        revision=receipt.policy_revision,
        granted=frozenset(receipt.granted),
        refused_vendors=frozenset(receipt.refused_vendors),
        withdrawn=receipt.action == "withdraw",
    )


def _how(token: Consent, latest: LatestChoice | None, now: Consent) -> str:
    if latest is None:
        return "forgotten"
    if withdrawn(now):
        return "withdrawn"
    return "same_second" if now.chosen_at == token.chosen_at else "later_choice"
