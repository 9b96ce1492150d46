"""The Redis backend's receipts, counters and email records (facets of `RedisStore`).

    cg:subject:{<id>}:receipts   hash   receipt id → receipt JSON      (expires: retention)
    cg:receipts:{<YYYY-MM-DD>}   zset   receipt JSON scored by time     (expires: day + retention)
    cg:receipt-days              zset   days that hold receipts, scored by day start
    cg:counts:{<YYYY-MM-DD>}     hash   "metric|label" → count           (expires: day + retention)
    cg:subject:{<id>}:email-consent   string  the recipient's tracking choice (JSON)
    cg:subject:{<id>}:email-events    zset    event JSON scored by time   (expires: event retention)

Receipt JSON is canonical, so writing the same receipt twice changes nothing: replays are safe.
Every write under a subject is a Lua script that checks the subject's tombstone first
(`gateway.store.redis_scripts`): on a single node one call per batch, on a Cluster one per slot.
A receipt is also a member of its day set (another slot): on a Cluster that copy is written
before the subject's script and taken back if the script refused it, so whatever the order in
which an erasure runs against it, no copy of a refused receipt stays.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, timedelta

from gateway.model.days import day_of
from gateway.model.email_events import EmailEvent, RecipientConsent
from gateway.model.receipts import Receipt
from gateway.store import retention_rules
from gateway.store.base import CountKey
from gateway.store.redis_connection import Arg, RedisConnection
from gateway.store.redis_keys import (
    DAYS_KEY,
    day_counts_key,
    day_receipts_key,
    email_events_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_scripts import (
    ADD_EVENTS,
    ADD_RECEIPTS,
    ADD_SUBJECT_RECEIPTS,
    SET_UNLESS_ERASED,
)
from gateway.store.store_settings import StoreSettings

WRITTEN, REFUSED = 1, -1


class RedisReceipts:
    def __init__(self, redis: RedisConnection, settings: StoreSettings) -> None:
        self._redis, self.settings = redis, settings

    async def add_receipts(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        if not receipts:
            return []
        keep = retention_rules.receipt_retention_seconds(self.settings)
        if self._redis.cluster:
            done = await self._add_receipts_by_slot(receipts, keep)
        else:
            done = await self._add_receipts_at_once(receipts, keep)
        await self._redis.replicated()
        return [
            receipt for receipt, answer in zip(receipts, done, strict=True) if answer == WRITTEN
        ]

    async def _add_receipts_at_once(self, receipts: Sequence[Receipt], keep: int) -> list[int]:
        """One script call for the batch (`redis_scripts.ADD_RECEIPTS`): one argument per
        receipt, each day's expiry and start once."""
        keys: list[str] = []
        days: dict[str, int] = {}  # day → its number in the batch, from 1
        items: list[Arg] = []
        for receipt in receipts:
            subject, day = receipt.subject_id, receipt.day
            keys += (subject_receipts_key(subject), suppression_key(subject))
            number = days.setdefault(day, len(days) + 1)
            items.append(
                f"{number} {receipt.created_at!r} {receipt.receipt_id} {receipt.to_json()}"
            )
        keys += [day_receipts_key(day) for day in days]
        keys.append(DAYS_KEY)
        spans: list[Arg] = [
            f"{retention_rules.day_expires_at(day, keep)} {retention_rules.day_start(day)!r} {day}"
            for day in days
        ]
        answers = await self._redis.script(ADD_RECEIPTS, keys, [keep, *spans, *items])
        return [int(answer) for answer in answers]

    async def _add_receipts_by_slot(self, receipts: Sequence[Receipt], keep: int) -> list[int]:
        bodies = [receipt.to_json() for receipt in receipts]
        pipeline = self._redis.pipeline()
        days: dict[str, float] = {}
        for receipt, body in zip(receipts, bodies, strict=True):
            pipeline.zadd(day_receipts_key(receipt.day), {body: receipt.created_at})
            days[receipt.day] = retention_rules.day_start(receipt.day)
        for day in days:
            pipeline.expireat(day_receipts_key(day), retention_rules.day_expires_at(day, keep))
        pipeline.zadd(DAYS_KEY, days)
        await self._redis.execute(pipeline)
        done = await self._redis.per_subject(
            ADD_SUBJECT_RECEIPTS,
            [r.subject_id for r in receipts],
            [(subject_receipts_key(r.subject_id), suppression_key(r.subject_id)) for r in receipts],
            [(r.receipt_id, body) for r, body in zip(receipts, bodies, strict=True)],
            common=(keep,),
        )
        refused = [i for i, answer in enumerate(done) if answer == REFUSED]
        if refused:
            pipeline = self._redis.pipeline()
            for index in refused:
                pipeline.zrem(day_receipts_key(receipts[index].day), bodies[index])
            await self._redis.execute(pipeline)
        return done

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        pipeline = self._redis.pipeline()
        pipeline.hvals(subject_receipts_key(subject_id))
        pipeline.exists(suppression_key(subject_id))
        bodies, erased = await self._redis.execute(pipeline)
        if erased:  # an erasure under way keeps them until the day sets are clean
            return []
        receipts = [Receipt.from_json(body) for body in bodies]
        return sorted(receipts, key=lambda r: (r.created_at, r.receipt_id))

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        low = "-inf" if since is None else since
        high = "+inf" if until is None else f"({until}"
        pipeline = self._redis.pipeline()
        # Any moment before the first receipt is the same as none (and pre-1970 has no day key).
        first_day = (
            "-inf" if since is None or since <= 0 else retention_rules.day_start(day_of(since))
        )
        pipeline.zrangebyscore(DAYS_KEY, first_day, "+inf" if until is None else until)
        (days,) = await self._redis.execute(pipeline)
        for day in days:
            offset = 0
            while True:
                pipeline = self._redis.pipeline()
                pipeline.zrangebyscore(day_receipts_key(day), low, high, start=offset, num=page)
                (bodies,) = await self._redis.execute(pipeline)
                for body in bodies:
                    yield Receipt.from_json(body)
                if len(bodies) < page:
                    break
                offset += page

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        latest: list[Receipt] = []
        if limit <= 0:
            return latest
        pipeline = self._redis.pipeline()
        pipeline.zrevrange(DAYS_KEY, 0, -1)
        (days,) = await self._redis.execute(pipeline)
        for start in range(0, len(days), 7):  # newest days first, a week a round trip
            pipeline = self._redis.pipeline()
            for day in days[start : start + 7]:
                pipeline.zrevrange(day_receipts_key(day), 0, limit - 1)
            for bodies in await self._redis.execute(pipeline):
                latest += (Receipt.from_json(body) for body in bodies[: limit - len(latest)])
            if len(latest) >= limit:
                break
        # Receipts of one millisecond share a score: the id breaks the tie, as in SQLite.
        return sorted(latest, key=lambda r: (r.created_at, r.receipt_id), reverse=True)


class RedisCounts:
    def __init__(self, redis: RedisConnection, settings: StoreSettings) -> None:
        self._redis, self.settings = redis, settings

    async def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        if not counts:
            return
        keep = retention_rules.event_retention_seconds(self.settings)
        pipeline = self._redis.pipeline()
        days = set()
        for key, value in counts.items():
            pipeline.hincrby(day_counts_key(key.day), f"{key.metric}|{key.label}", value)
            days.add(key.day)
        for day in days:
            pipeline.expireat(day_counts_key(day), retention_rules.day_expires_at(day, keep))
        await self._redis.execute(pipeline)

    async def counts(self, metric: str, first_day: str, last_day: str) -> dict[CountKey, int]:
        days = _days(first_day, last_day)
        pipeline = self._redis.pipeline()
        for day in days:
            pipeline.hgetall(day_counts_key(day))
        result = {}
        prefix = metric + "|"
        for day, fields in zip(days, await self._redis.execute(pipeline), strict=True):
            for field, value in fields.items():
                if field.startswith(prefix):
                    result[CountKey(day, metric, field.removeprefix(prefix))] = int(value)
        return result


class RedisEmail:
    def __init__(self, redis: RedisConnection, settings: StoreSettings) -> None:
        self._redis, self.settings = redis, settings

    async def put_recipient_consent(self, consent: RecipientConsent) -> None:
        subject = consent.subject_id
        await self._redis.per_subject(
            SET_UNLESS_ERASED,
            [subject],
            [(recipient_consent_key(subject), suppression_key(subject))],
            [(consent.to_json(),)],
        )

    async def recipient_consents(self, subject_ids: Sequence[str]) -> dict[str, RecipientConsent]:
        subjects = list(dict.fromkeys(subject_ids))
        if not subjects:
            return {}
        pipeline = self._redis.pipeline()
        for subject in subjects:
            pipeline.get(recipient_consent_key(subject))
            pipeline.get(suppression_key(subject))
        replies = await self._redis.execute(pipeline)
        found = {}
        for index, subject in enumerate(subjects):
            body, erased_at = replies[2 * index], replies[2 * index + 1]
            if erased_at is not None:
                found[subject] = retention_rules.erased_consent(subject, float(erased_at))
            elif body is not None:
                found[subject] = RecipientConsent.from_json(body)
        return found

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        if not events:
            return
        keep = retention_rules.event_retention_seconds(self.settings)
        await self._redis.per_subject(
            ADD_EVENTS,
            [event.subject_id for event in events],
            [(email_events_key(e.subject_id), suppression_key(e.subject_id)) for e in events],
            [(event.created_at, event.to_json()) for event in events],
            common=(keep, retention_rules.events_cutoff(self.settings, time.time())),
        )

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        cutoff = retention_rules.events_cutoff(self.settings, time.time())
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(email_events_key(subject_id), cutoff, "+inf")
        (bodies,) = await self._redis.execute(pipeline)
        events = [EmailEvent.from_json(body) for body in bodies]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))


def _days(first_day: str, last_day: str) -> list[str]:
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
