"""The Redis store's part for people's rights and retention, mixed into `RedisStore`.

Keys (see `gateway.store.redis` for the rest of the layout):

    cg:subject:{<id>}:objection   string  the subject's objection (JSON)
    cg:objections                 zset    subject id scored by objection time: the registry's feed
    cg:choice-changes             zset    consent ids that chose again, by time: the registry's
                                          feed (their latest choice is their newest receipt)
    cg:suppressed:{<sha256>}      string  erasure time: the tombstone (never expires)
    cg:suppressions               zset    tombstone hash scored by erasure time: the registry's feed
    cg:lease:{<name>}             string  until when a periodic job is taken (expires)

Erasure is one script in the subject's slot (`redis_scripts.ERASE_SUBJECT`): it writes the
tombstone — from then on every write under the subject is refused, in the same operation — and
deletes the subject's events, email consent and objection, answering the receipts. Each
receipt is also a member of its day's receipt set (`cg:receipts:{day}`, another slot): those
copies and the registry's feeds are cleaned next, then the subject's receipts are deleted.
Last, the subject's hits waiting in the delivery queue are deleted (`_forget_queued_hits`: the
per-vendor streams live in other slots; found by the subject hash each entry carries).
Cut short, an erasure is finished by running it again (or by the next purge; a queued hit
left behind is withheld at delivery by the tombstone check). Retention is mostly Redis expiry (set on every write);
`purge(now)` removes what expiry cannot reach: old receipts and events in the keys of subjects
who are still active (their keys' expiry moves on with every write) and the tail of a day set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.consent.objections import Objection
from gateway.errors import StoreUnavailable
from gateway.model.days import day_of
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.settings import Settings
from gateway.store import retention_rules
from gateway.store.base import PurgeProgress, SubjectStanding, latest_choice
from gateway.store.hit_queue_layout import (
    DEAD_LETTER_SECONDS,
    STREAMS_KEY,
    dead_key_of,
    sending_key_of,
    share_key_of,
)
from gateway.store.redis_clients import REDIS_FAULTS
from gateway.store.redis_keys import (
    CHOICE_CHANGES_KEY,
    DAYS_KEY,
    OBJECTIONS_KEY,
    SUPPRESSIONS_KEY,
    day_receipts_key,
    email_events_key,
    lease_key,
    objection_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_scripts import ERASE_SUBJECT, FORGET_QUEUED_HITS, SET_UNLESS_ERASED

SCAN_CHUNK = 500

# KEYS: the lease. ARGV: now, until, expiry in ms. A lease is free once its time has passed.
_CLAIM = """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisRights:
    settings: Settings
    _client: Any

    async def _execute(self, pipeline: Any) -> list[Any]:
        raise NotImplementedError  # provided by RedisStore

    async def _script(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        raise NotImplementedError  # provided by RedisStore

    async def _per_subject(
        self,
        script: str,
        subjects: Sequence[str],
        keys: Sequence[Sequence[str]],
        args: Sequence[Sequence[Any]],
        common: Sequence[Any] = (),
    ) -> list[int]:
        raise NotImplementedError  # provided by RedisStore

    async def put_objection(self, objection: Objection) -> None:
        subject = objection.subject_id
        # The feed (another slot) first, taken back if the subject turns out erased: whatever
        # the order an erasure runs in against this, the feed keeps no erased id.
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zadd(OBJECTIONS_KEY, {subject: objection.updated_at})
        await self._execute(pipeline)
        (done,) = await self._per_subject(
            SET_UNLESS_ERASED,
            [subject],
            [(objection_key(subject), suppression_key(subject))],
            [(objection.to_json(),)],
        )
        if done != 1:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.zrem(OBJECTIONS_KEY, subject)
            await self._execute(pipeline)

    async def subject_objection(self, subject_id: str) -> Objection | None:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.get(objection_key(subject_id))
        (body,) = await self._execute(pipeline)
        return None if body is None else Objection.from_json(body)

    async def objections_since(self, since: float) -> list[Objection]:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(OBJECTIONS_KEY, since, "+inf")
        (subjects,) = await self._execute(pipeline)
        if not subjects:
            return []
        pipeline = self._client.pipeline(transaction=False)
        for subject in subjects:
            pipeline.get(objection_key(subject))
        return [Objection.from_json(body) for body in await self._execute(pipeline) if body]

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zadd(CHOICE_CHANGES_KEY, {subject_id: at})
        await self._execute(pipeline)

    async def choice_changes_since(self, since: float) -> list[str]:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(CHOICE_CHANGES_KEY, since, "+inf")
        (subjects,) = await self._execute(pipeline)
        return [str(subject) for subject in subjects]

    async def suppression(self, subject_id: str) -> float | None:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.get(suppression_key(subject_id))
        (erased_at,) = await self._execute(pipeline)
        return None if erased_at is None else float(erased_at)

    async def suppressions_since(self, since: float) -> dict[str, float]:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(SUPPRESSIONS_KEY, since, "+inf", withscores=True)
        (pairs,) = await self._execute(pipeline)
        return {subject_hash: float(at) for subject_hash, at in pairs}

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        subjects = list(dict.fromkeys(subject_ids))
        if not subjects:
            return {}
        pipeline = self._client.pipeline(transaction=False)
        for subject in subjects:
            pipeline.exists(suppression_key(subject))
            pipeline.get(objection_key(subject))
            pipeline.hvals(subject_receipts_key(subject))
        replies = await self._execute(pipeline)
        found = {}
        for index, subject in enumerate(subjects):
            erased, objection, bodies = replies[3 * index : 3 * index + 3]
            found[subject] = SubjectStanding(
                bool(erased),
                None if objection is None else Objection.from_json(objection),
                None if erased else latest_choice([Receipt.from_json(b) for b in bodies]),
            )
        return found

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        erased, bodies, events, consent, objection = await self._script(
            ERASE_SUBJECT,
            [
                subject_receipts_key(subject_id),
                email_events_key(subject_id),
                recipient_consent_key(subject_id),
                objection_key(subject_id),
                suppression_key(subject_id),
            ],
            [repr(erased_at)],
        )
        await self._forget_receipts(subject_id, bodies, float(erased))
        await self._forget_queued_hits(tombstone_id(subject_id))
        return dict(
            zip(
                retention_rules.ERASED_KINDS,
                (len(bodies), int(events), int(consent), int(objection)),
                strict=True,
            )
        )

    async def _forget_receipts(
        self, subject_id: str, bodies: Sequence[str], erased_at: float
    ) -> None:
        """The end of an erasure: the copies in other slots, then the receipts themselves."""
        pipeline = self._client.pipeline(transaction=False)
        for body in bodies:
            pipeline.zrem(day_receipts_key(day_of(json.loads(body)["created_at"])), body)
        pipeline.zrem(OBJECTIONS_KEY, subject_id)
        pipeline.zrem(CHOICE_CHANGES_KEY, subject_id)
        pipeline.zadd(SUPPRESSIONS_KEY, {tombstone_id(subject_id): erased_at}, nx=True)
        await self._execute(pipeline)
        pipeline = self._client.pipeline(transaction=False)
        pipeline.delete(subject_receipts_key(subject_id))
        await self._execute(pipeline)

    async def _forget_queued_hits(self, subject_hash: str) -> None:
        """Delete a subject's entries from every hit queue stream: read page by page (an
        erasure is rare; the queue is bounded), deleted per stream in its own slot."""
        try:
            for stream in await self._client.smembers(STREAMS_KEY):
                doomed: list[str] = []
                start = "-"
                while True:
                    page = await self._client.xrange(stream, start, "+", count=1000)
                    doomed += [i for i, fields in page if fields.get("s") == subject_hash]
                    if len(page) < 1000:
                        break
                    start = "(" + page[-1][0]
                for at in range(0, len(doomed), 1000):
                    await self._script(
                        FORGET_QUEUED_HITS,
                        [stream, sending_key_of(stream), share_key_of(stream)],
                        doomed[at : at + 1000],
                    )
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        try:
            return await self._purge(now, progress)
        except REDIS_FAULTS as error:  # from a SCAN; pipelines raise StoreUnavailable
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def _purge(self, now: float, progress: PurgeProgress | None) -> dict[str, int]:
        receipts_before = retention_rules.receipts_cutoff(self.settings, now)
        events_before = retention_rules.events_cutoff(self.settings, now)
        removed = {"receipts": 0, "email_events": 0, "counts": 0}
        await self._purge_receipt_days(receipts_before)
        # Choices made again longer ago than any consent token lives supersede no token.
        tokens_before = retention_rules.tokens_cutoff(self.settings, now)
        await self._client.zremrangebyscore(CHOICE_CHANGES_KEY, "-inf", f"({tokens_before}")
        # Working data, not a kind to count: the delivery queue's dead letters past their week.
        oldest_kept = max(0, int((now - DEAD_LETTER_SECONDS) * 1000))
        for stream in await self._client.smembers(STREAMS_KEY):
            await self._client.xtrim(dead_key_of(stream), minid=oldest_kept)
        chunk: list[str] = []
        async for key in self._client.scan_iter(match="cg:subject:*", count=1000):
            chunk.append(key)
            if len(chunk) >= SCAN_CHUNK:
                await self._purge_subjects(chunk, receipts_before, events_before, removed)
                chunk = []
                if progress is not None:
                    progress("receipts", removed["receipts"])
        await self._purge_subjects(chunk, receipts_before, events_before, removed)
        last_day = retention_rules.counts_first_kept_day(self.settings, now)
        old_days = [
            key
            async for key in self._client.scan_iter(match="cg:counts:*", count=1000)
            if key.removeprefix("cg:counts:{").rstrip("}") < last_day
        ]
        if old_days:
            pipeline = self._client.pipeline(transaction=False)
            for key in old_days:
                pipeline.hlen(key)
                pipeline.delete(key)
            replies = await self._execute(pipeline)
            removed["counts"] = sum(int(n) for n in replies[::2])
        return removed

    async def _purge_receipt_days(self, before: float) -> None:
        """Trim the day sets (the time index of receipts) to the retention."""
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(DAYS_KEY, "-inf", f"({before}", withscores=True)
        (days,) = await self._execute(pipeline)
        if not days:
            return
        pipeline = self._client.pipeline(transaction=False)
        for day, start in days:
            pipeline.zremrangebyscore(day_receipts_key(day), "-inf", f"({before}")
            if float(start) + 86400 <= before:
                pipeline.delete(day_receipts_key(day))
                pipeline.zrem(DAYS_KEY, day)
        await self._execute(pipeline)

    async def _purge_subjects(
        self,
        keys: Sequence[str],
        receipts_before: float,
        events_before: float,
        removed: dict[str, int],
    ) -> None:
        receipt_keys = [key for key in keys if key.endswith(":receipts")]
        event_keys = [key for key in keys if key.endswith(":email-events")]
        if not (receipt_keys or event_keys):
            return
        subjects = [_subject_of(key) for key in receipt_keys]
        pipeline = self._client.pipeline(transaction=False)
        for key, subject in zip(receipt_keys, subjects, strict=True):
            pipeline.hgetall(key)
            pipeline.get(suppression_key(subject))
        for key in event_keys:
            pipeline.zremrangebyscore(key, "-inf", f"({events_before}")
        replies = await self._execute(pipeline)
        removed["email_events"] += sum(int(n) for n in replies[2 * len(receipt_keys) :])
        pipeline = self._client.pipeline(transaction=False)
        expired_any = False
        for index, key in enumerate(receipt_keys):
            receipts, erased_at = replies[2 * index], replies[2 * index + 1]
            if erased_at is not None:  # an erasure cut short after its first step: finish it
                await self._forget_receipts(
                    subjects[index], list(receipts.values()), float(erased_at)
                )
                continue
            old = [rid for rid, body in receipts.items() if _created(body) < receipts_before]
            if old:
                pipeline.hdel(key, *old)
                removed["receipts"] += len(old)
                expired_any = True
        if expired_any:
            await self._execute(pipeline)

    async def claim(self, name: str, seconds: float, now: float) -> bool:
        try:
            taken = await self._client.eval(
                _CLAIM, 1, lease_key(name), now, now + seconds, max(int(seconds * 1000), 1)
            )
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        return bool(taken)


def _subject_of(receipts_key: str) -> str:
    """`cg:subject:{<id>}:receipts` → `<id>`."""
    return receipts_key.removeprefix("cg:subject:{").removesuffix("}:receipts")


def _created(body: str) -> float:
    return float(json.loads(body)["created_at"])
