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
from typing import Any, cast

from gateway.errors import StoreUnavailable
from gateway.model.email_events import EmailEvent
from gateway.model.receipts import Receipt
from gateway.settings import Settings
from gateway.store import retention_rules
from gateway.store.archive.postgres import Archive
from gateway.store.base import PurgeProgress, SubjectStanding
from gateway.store.redis import RedisStore


class ArchivedRedisStore(RedisStore):
    name = "redis+archive"

    def __init__(self, url: str, settings: Settings) -> None:
        super().__init__(url, settings)
        self.archive = Archive(settings.archive.url, settings.store.timeout_seconds)

    @property
    def hot_client(self) -> Any:
        """The Redis client, for the mover's reads and deletes (`gateway.store.archive.hot`)."""
        return self._client

    async def open(self) -> None:
        await super().open()
        await self.archive.open()

    async def close(self) -> None:
        await self.archive.close()
        await super().close()

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        hot = await super().subject_receipts(subject_id)
        if not hot and await self.suppression(subject_id) is not None:
            return []  # erased: an erasure under way may not have reached the archive yet
        return _once([*hot, *await self.archive.subject_receipts(subject_id)])

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        hot = await super().email_events(subject_id)
        since = retention_rules.events_cutoff(self.settings, time.time())
        archived = await self.archive.subject_events(subject_id, since)
        seen = {event.event_id for event in hot}
        events = [*hot, *(event for event in archived if event.event_id not in seen)]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        standings = await super().subject_standings(subject_ids)
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

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        async with self.archive.receipts_between(since, until, page) as archived:
            hot = cast(AsyncGenerator[Receipt], super().iter_receipts(since, until, page))
            async with contextlib.aclosing(hot):
                async for receipt in _merged(archived, hot):
                    yield receipt

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        hot = await super().latest_receipts(limit)
        if len(hot) >= limit:
            return hot
        try:
            archived = await self.archive.latest_receipts(limit)
        except StoreUnavailable:
            return hot  # the dashboard's list, not proof: what Redis holds, rather than nothing
        return _once([*hot, *archived])[::-1][:limit]

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        archived = await self.archive.erase_subject(subject_id, erased_at)
        erased = await super().erase_subject(subject_id, erased_at)
        return {kind: n + archived.get(kind, 0) for kind, n in erased.items()}

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        removed = await super().purge(now, progress)
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
