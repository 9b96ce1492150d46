"""The Redis backend's rights facet: objections, choice changes, tombstones and erasure.

Keys (see `gateway.store.redis_receipts` for the rest of the layout):

    cg:subject:{<id>}:objection   string  the subject's objection (JSON)
    cg:objections                 zset    subject id scored by objection time: the registry's feed
    cg:choice-changes             zset    consent ids that chose again, by time: the registry's
                                          feed (their latest choice is their newest receipt)
    cg:suppressed:{<sha256>}      string  erasure time: the tombstone (never expires)
    cg:suppressions               zset    tombstone hash scored by erasure time: the registry's feed

Erasure is one script in the subject's slot (`redis_scripts.ERASE_SUBJECT`): it writes the
tombstone — from then on every write under the subject is refused, in the same operation — and
deletes the subject's events, email consent and objection, answering the receipts. Each
receipt is also a member of its day's receipt set (`cg:receipts:{day}`, another slot): those
copies and the registry's feeds are cleaned next, then the subject's receipts are deleted.
Last, the subject's hits waiting in the delivery queue are deleted (`_forget_queued_hits`: the
per-vendor streams live in other slots; found by the subject hash each entry carries).
Cut short, an erasure is finished by running it again (or by the next purge; a queued hit
left behind is withheld at delivery by the tombstone check). The purge of expired data:
`gateway.store.redis_purge`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gateway.consent.objections import Objection
from gateway.model.days import day_of
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.store import retention_rules
from gateway.store.base import SubjectStanding, latest_choice
from gateway.store.hit_queue_layout import STREAMS_KEY, sending_key_of, share_key_of
from gateway.store.redis_connection import REDIS_FAULTS, RedisConnection, Reply, unavailable
from gateway.store.redis_keys import (
    CHOICE_CHANGES_KEY,
    OBJECTIONS_KEY,
    SUPPRESSIONS_KEY,
    day_receipts_key,
    email_events_key,
    objection_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_scripts import ERASE_SUBJECT, FORGET_QUEUED_HITS, SET_UNLESS_ERASED
from gateway.store.store_settings import StoreSettings


class RedisRights:
    def __init__(self, redis: RedisConnection, settings: StoreSettings) -> None:
        self._redis, self.settings = redis, settings

    async def put_objection(self, objection: Objection) -> None:
        subject = objection.subject_id
        # The feed (another slot) first, taken back if the subject turns out erased: whatever
        # the order an erasure runs in against this, the feed keeps no erased id.
        pipeline = self._redis.pipeline()
        pipeline.zadd(OBJECTIONS_KEY, {subject: objection.updated_at})
        await self._redis.execute(pipeline)
        (done,) = await self._redis.per_subject(
            SET_UNLESS_ERASED,
            [subject],
            [(objection_key(subject), suppression_key(subject))],
            [(objection.to_json(),)],
        )
        if done != 1:
            pipeline = self._redis.pipeline()
            pipeline.zrem(OBJECTIONS_KEY, subject)
            await self._redis.execute(pipeline)

    async def subject_objection(self, subject_id: str) -> Objection | None:
        pipeline = self._redis.pipeline()
        pipeline.get(objection_key(subject_id))
        (body,) = await self._redis.execute(pipeline)
        return None if body is None else Objection.from_json(body)

    async def objections_since(self, since: float) -> list[Objection]:
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(OBJECTIONS_KEY, since, "+inf")
        (subjects,) = await self._redis.execute(pipeline)
        if not subjects:
            return []
        pipeline = self._redis.pipeline()
        for subject in subjects:
            pipeline.get(objection_key(subject))
        return [Objection.from_json(body) for body in await self._redis.execute(pipeline) if body]

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        pipeline = self._redis.pipeline()
        pipeline.zadd(CHOICE_CHANGES_KEY, {subject_id: at})
        await self._redis.execute(pipeline)

    async def choice_changes_since(self, since: float) -> list[str]:
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(CHOICE_CHANGES_KEY, since, "+inf")
        (subjects,) = await self._redis.execute(pipeline)
        return [str(subject) for subject in subjects]

    async def suppression(self, subject_id: str) -> float | None:
        pipeline = self._redis.pipeline()
        pipeline.get(suppression_key(subject_id))
        (erased_at,) = await self._redis.execute(pipeline)
        return None if erased_at is None else float(erased_at)

    async def suppressions_since(self, since: float) -> dict[str, float]:
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(SUPPRESSIONS_KEY, since, "+inf", withscores=True)
        (pairs,) = await self._redis.execute(pipeline)
        return {subject_hash: float(at) for subject_hash, at in pairs}

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        subjects = list(dict.fromkeys(subject_ids))
        if not subjects:
            return {}
        pipeline = self._redis.pipeline()
        for subject in subjects:
            pipeline.exists(suppression_key(subject))
            pipeline.get(objection_key(subject))
            pipeline.hvals(subject_receipts_key(subject))
        replies = await self._redis.execute(pipeline)
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
        erased, bodies, events, consent, objection = await self._redis.script(
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
        await self.forget_receipts(subject_id, bodies, float(erased))
        await self._forget_queued_hits(tombstone_id(subject_id))
        return dict(
            zip(
                retention_rules.ERASED_KINDS,
                (len(bodies), int(events), int(consent), int(objection)),
                strict=True,
            )
        )

    async def forget_receipts(
        self, subject_id: str, bodies: Sequence[str], erased_at: float
    ) -> None:
        """The end of an erasure: the copies in other slots, then the receipts themselves."""
        pipeline = self._redis.pipeline()
        for body in bodies:
            pipeline.zrem(day_receipts_key(day_of(json.loads(body)["created_at"])), body)
        pipeline.zrem(OBJECTIONS_KEY, subject_id)
        pipeline.zrem(CHOICE_CHANGES_KEY, subject_id)
        pipeline.zadd(SUPPRESSIONS_KEY, {tombstone_id(subject_id): erased_at}, nx=True)
        await self._redis.execute(pipeline)
        pipeline = self._redis.pipeline()
        pipeline.delete(subject_receipts_key(subject_id))
        await self._redis.execute(pipeline)

    async def _forget_queued_hits(self, subject_hash: str) -> None:
        """Delete a subject's entries from every hit queue stream: read page by page (an
        erasure is rare; the queue is bounded), deleted per stream in its own slot."""
        try:
            streams: Reply = await self._redis.client.smembers(STREAMS_KEY)
            for stream in streams:
                doomed: list[str] = []
                start = "-"
                while True:
                    page: Reply = await self._redis.client.xrange(stream, start, "+", count=1000)
                    doomed += [i for i, fields in page if fields.get("s") == subject_hash]
                    if len(page) < 1000:
                        break
                    start = "(" + page[-1][0]
                for at in range(0, len(doomed), 1000):
                    await self._redis.script(
                        FORGET_QUEUED_HITS,
                        [stream, sending_key_of(stream), share_key_of(stream)],
                        doomed[at : at + 1000],
                    )
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
