"""Redis (or Redis Cluster) with the archive beside it, read as one store.

Redis keeps what the hot paths need and the receipts and email events of the last
`hot_days`; older ones live in PostgreSQL (`gateway.store.archive.postgres`), moved there by
`gateway.store.archive.mover`. Reads see both as one, each record once:

- a subject's records (access, export, the latest choice): Redis first, then the archive. A
  move commits to the archive before it takes a record out of Redis, so a record moved
  between the two reads is found in the second; one found in both is shown once.
- all receipts in a range (the CSV/JSONL export): the two sorted streams merged in time
  order, in constant memory. The archive's part is read in one snapshot during which no move
  commits (`Archive.receipts_between`), so nothing moved meanwhile is missed.

Erasure goes to the archive first (its tombstone, then its rows), then to Redis: a move in
flight either commits before the erasure deletes, or finds the tombstone and writes nothing.
Hot-path writes (receipts, events, counts, shared state) go to Redis only, so an archive
outage never slows them; `ping`/`check_writable` are Redis's.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import cast

from gateway.consent.objections import Objection
from gateway.errors import StoreUnavailable
from gateway.model.email_events import EmailEvent, RecipientConsent
from gateway.model.receipts import Receipt
from gateway.store import retention_rules
from gateway.store.archive.postgres import Archive
from gateway.store.base import (
    EmailRecords,
    PurgeProgress,
    Receipts,
    Retention,
    Rights,
    SubjectStanding,
)
from gateway.store.redis import RedisStore
from gateway.store.redis_connection import Client
from gateway.store.store_settings import StoreSettings


class ArchivedRedisStore(RedisStore):
    """A `RedisStore` whose receipts, email records, rights and retention facets also read
    (and erase, and purge) the archive; counts and shared state are Redis's alone."""

    name = "redis+archive"

    def __init__(self, url: str, settings: StoreSettings) -> None:
        super().__init__(url, settings)
        self.archive = Archive(settings.archive.url, settings.store.timeout_seconds)
        hot_rights = self.rights
        self.receipts = ArchivedReceipts(self.receipts, hot_rights, self.archive)
        self.email = ArchivedEmail(self.email, self.archive, settings)
        self.rights = ArchivedRights(hot_rights, self.archive)
        self.retention = ArchivedRetention(self.retention, self.archive, settings)

    @property
    def hot_client(self) -> Client:
        """The Redis client, for the mover's reads and deletes (`gateway.store.archive.hot`)."""
        return self.connection.client

    async def open(self) -> None:
        await super().open()
        await self.archive.open()

    async def close(self) -> None:
        await self.archive.close()
        await super().close()


class ArchivedReceipts:
    def __init__(self, hot: Receipts, rights: Rights, archive: Archive) -> None:
        self.hot, self.rights, self.archive = hot, rights, archive

    async def add_receipts(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        return await self.hot.add_receipts(receipts)

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        hot = await self.hot.subject_receipts(subject_id)
        if not hot and await self.rights.suppression(subject_id) is not None:
            return []  # erased: an erasure under way may not have reached the archive yet
        return _once([*hot, *await self.archive.subject_receipts(subject_id)])

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        async with self.archive.receipts_between(since, until, page) as archived:
            hot = cast(AsyncGenerator[Receipt], self.hot.iter_receipts(since, until, page))
            async with contextlib.aclosing(hot):
                async for receipt in _merged(archived, hot):
                    yield receipt

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        hot = await self.hot.latest_receipts(limit)
        if len(hot) >= limit:
            return hot
        try:
            archived = await self.archive.latest_receipts(limit)
        except StoreUnavailable:
            return hot  # the dashboard's list, not proof: what Redis holds, rather than nothing
        return _once([*hot, *archived])[::-1][:limit]


class ArchivedEmail:
    def __init__(self, hot: EmailRecords, archive: Archive, settings: StoreSettings) -> None:
        self.hot, self.archive, self.settings = hot, archive, settings

    async def put_recipient_consent(self, consent: RecipientConsent) -> None:
        await self.hot.put_recipient_consent(consent)

    async def recipient_consents(self, subject_ids: Sequence[str]) -> dict[str, RecipientConsent]:
        return await self.hot.recipient_consents(subject_ids)

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        await self.hot.add_email_events(events)

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        hot = await self.hot.email_events(subject_id)
        since = retention_rules.events_cutoff(self.settings, time.time())
        archived = await self.archive.subject_events(subject_id, since)
        seen = {event.event_id for event in hot}
        events = [*hot, *(event for event in archived if event.event_id not in seen)]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))


class ArchivedRights:
    def __init__(self, hot: Rights, archive: Archive) -> None:
        self.hot, self.archive = hot, archive

    async def put_objection(self, objection: Objection) -> None:
        await self.hot.put_objection(objection)

    async def subject_objection(self, subject_id: str) -> Objection | None:
        return await self.hot.subject_objection(subject_id)

    async def objections_since(self, since: float) -> list[Objection]:
        return await self.hot.objections_since(since)

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        await self.hot.note_choice_change(subject_id, at)

    async def choice_changes_since(self, since: float) -> list[str]:
        return await self.hot.choice_changes_since(since)

    async def suppression(self, subject_id: str) -> float | None:
        return await self.hot.suppression(subject_id)

    async def suppressions_since(self, since: float) -> dict[str, float]:
        return await self.hot.suppressions_since(since)

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        standings = await self.hot.subject_standings(subject_ids)
        # Everything newer than the archive's newest is in Redis: only subjects without a
        # choice there can have their latest one in the archive.
        missing = [s for s, standing in standings.items() if standing.latest_choice is None]
        if missing:
            archived = await self.archive.latest_choices(missing)
            for subject, receipt in archived.items():
                standing = standings[subject]
                if not standing.erased:
                    standings[subject] = SubjectStanding(False, standing.objection, receipt)
        return standings

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        archived = await self.archive.erase_subject(subject_id, erased_at)
        erased = await self.hot.erase_subject(subject_id, erased_at)
        return {kind: n + archived.get(kind, 0) for kind, n in erased.items()}


class ArchivedRetention:
    def __init__(self, hot: Retention, archive: Archive, settings: StoreSettings) -> None:
        self.hot, self.archive, self.settings = hot, archive, settings

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        removed = await self.hot.purge(now, progress)
        dropped = await self.archive.drop_expired(
            retention_rules.receipts_cutoff(self.settings, now),
            retention_rules.events_cutoff(self.settings, now),
        )
        return {kind: n + dropped.get(kind, 0) for kind, n in removed.items()}


def _once(receipts: Sequence[Receipt]) -> list[Receipt]:
    """Each receipt once (one found in Redis and in the archive, mid-move), oldest first."""
    unique = {receipt.receipt_id: receipt for receipt in receipts}
    return sorted(unique.values(), key=lambda r: (r.created_at, r.receipt_id))


async def _merged(
    first: AsyncIterator[Receipt], second: AsyncIterator[Receipt]
) -> AsyncIterator[Receipt]:
    """Two streams sorted by time as one, each receipt once: a receipt in both (moved, not
    yet taken out of Redis) has the same time in both, so only ids of one moment are kept."""
    a, b = await anext(first, None), await anext(second, None)
    moment: float | None = None
    seen: set[str] = set()
    while a is not None or b is not None:
        if b is None or (a is not None and a.created_at <= b.created_at):
            taken, a = a, await anext(first, None)
        else:
            taken, b = b, await anext(second, None)
        assert taken is not None
        if taken.created_at != moment:
            moment, seen = taken.created_at, set()
        if taken.receipt_id not in seen:
            seen.add(taken.receipt_id)
            yield taken
