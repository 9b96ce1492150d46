"""The production store: Redis or Redis Cluster with the same code.

Key layout (every key of one subject shares the hash tag `{subject}`, so one subject's keys
live in one cluster slot):

    cg:subject:{<id>}:receipts   hash   receipt id → receipt JSON      (expires: retention)
    cg:receipts:{<YYYY-MM-DD>}   zset   receipt JSON scored by time     (expires: day + retention)
    cg:receipt-days              zset   days that hold receipts, scored by day start
    cg:counts:{<YYYY-MM-DD>}     hash   "metric|label" → count           (expires: day + retention)
    cg:subject:{<id>}:email-consent   string  the recipient's tracking choice (JSON)
    cg:subject:{<id>}:email-events    zset    event JSON scored by time   (expires: event retention)
    cg:suppressed:{<sha256 of id>}    string  erasure time: the tombstone of an erased subject
    (objections, the tombstone feed and leases: `gateway.store.redis_rights`; names: `redis_keys`)

Receipt JSON is canonical, so writing the same receipt twice changes nothing: replays are safe.
With `redis+sentinel://host:port[,host:port]/service[/db]` the client asks the sentinels for
the current primary and follows a failover (`gateway.store.redis_sentinel`).
On a single Redis node (or a Sentinel-watched primary) a batch of receipts is written by one Lua script call (one reply to
parse instead of three per receipt); on a Cluster, whose keys span slots, by a pipeline.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.email.records import EmailEvent, RecipientConsent
from gateway.errors import StoreUnavailable
from gateway.receipts.model import Receipt, day_of
from gateway.settings import Settings
from gateway.store.base import CountKey, Store
from gateway.store.redis_keys import (
    DAYS_KEY,
    day_counts_key,
    day_receipts_key,
    email_events_key,
    recipient_consent_key,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_rights import RedisRights
from gateway.store.redis_sentinel import sentinel_address, sentinel_client
from gateway.store.redis_shared import RedisShared

# KEYS: subject hash, day set (pairs, one per receipt), then DAYS_KEY.
# ARGV: retention seconds, then per receipt: id, body, time, day expiry, day start, day name.
_ADD_RECEIPTS = """
local keep = ARGV[1]
for i = 1, (#KEYS - 1) / 2 do
  local subject, day, a = KEYS[2 * i - 1], KEYS[2 * i], 2 + (i - 1) * 6
  redis.call('HSETNX', subject, ARGV[a], ARGV[a + 1])
  redis.call('EXPIRE', subject, keep)
  redis.call('ZADD', day, ARGV[a + 2], ARGV[a + 1])
  redis.call('EXPIREAT', day, ARGV[a + 3])
  redis.call('ZADD', KEYS[#KEYS], ARGV[a + 4], ARGV[a + 5])
end
return #KEYS
"""


@lru_cache(maxsize=64)
def _day_start(day: str) -> float:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()


class RedisStore(RedisRights, RedisShared, Store):
    name = "redis"

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self._client: Any = None  # Redis | RedisCluster: the same commands on both
        self._cluster = url.startswith("redis+cluster://")
        if url.startswith("redis+sentinel://"):
            sentinel_address(url)  # a bad URL fails at start, naming the setting
        self._add_script: Any = None

    async def open(self) -> None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": self.settings.store_timeout_seconds,
            "socket_connect_timeout": self.settings.store_timeout_seconds,
            # Fail fast when the server is gone: receipts go to the spool instead of waiting.
            "retry": Retry(NoBackoff(), 1),
        }
        if self.url.startswith("redis+cluster://"):
            url = "redis://" + self.url.removeprefix("redis+cluster://")
            self._client = RedisCluster.from_url(url, **options)
        elif self.url.startswith("redis+sentinel://"):
            self._client = sentinel_client(self.url, options)
            self._add_script = self._client.register_script(_ADD_RECEIPTS)
        else:
            self._client = Redis.from_url(self.url, **options)
            self._add_script = self._client.register_script(_ADD_RECEIPTS)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _execute(self, pipeline: Any) -> list[Any]:
        try:
            return list(await pipeline.execute())
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def add_receipts(self, receipts: Sequence[Receipt]) -> None:
        if not receipts:
            return
        keep = self.settings.receipt_retention_days * 86400
        if not self._cluster:
            await self._add_receipts_by_script(receipts, keep)
            return
        pipeline = self._client.pipeline(transaction=False)
        days: dict[str, float] = {}
        for receipt in receipts:
            body = receipt.to_json()
            subject_key = subject_receipts_key(receipt.subject_id)
            pipeline.hsetnx(subject_key, receipt.receipt_id, body)
            pipeline.expire(subject_key, keep)
            pipeline.zadd(day_receipts_key(receipt.day), {body: receipt.created_at})
            days[receipt.day] = _day_start(receipt.day)
        for day, start in days.items():
            pipeline.expireat(day_receipts_key(day), int(start + 86400 + keep))
        pipeline.zadd(DAYS_KEY, days)
        await self._execute(pipeline)

    async def _add_receipts_by_script(self, receipts: Sequence[Receipt], keep: int) -> None:
        keys: list[str] = []
        args: list[str | int | float] = [keep]
        for receipt in receipts:
            day = receipt.day
            start = _day_start(day)
            keys += (subject_receipts_key(receipt.subject_id), day_receipts_key(day))
            args += (
                receipt.receipt_id,
                receipt.to_json(),
                receipt.created_at,
                int(start + 86400 + keep),
                start,
                day,
            )
        keys.append(DAYS_KEY)
        try:
            await self._add_script(keys=keys, args=args)
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        if not counts:
            return
        keep = self.settings.event_retention_days * 86400
        pipeline = self._client.pipeline(transaction=False)
        days = set()
        for key, value in counts.items():
            pipeline.hincrby(day_counts_key(key.day), f"{key.metric}|{key.label}", value)
            days.add(key.day)
        for day in days:
            pipeline.expireat(day_counts_key(day), int(_day_start(day) + 86400 + keep))
        await self._execute(pipeline)

    async def counts(self, metric: str, first_day: str, last_day: str) -> dict[CountKey, int]:
        days = _days(first_day, last_day)
        pipeline = self._client.pipeline(transaction=False)
        for day in days:
            pipeline.hgetall(day_counts_key(day))
        result = {}
        prefix = metric + "|"
        for day, fields in zip(days, await self._execute(pipeline), strict=True):
            for field, value in fields.items():
                if field.startswith(prefix):
                    result[CountKey(day, metric, field.removeprefix(prefix))] = int(value)
        return result

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.hvals(subject_receipts_key(subject_id))
        (bodies,) = await self._execute(pipeline)
        receipts = [Receipt.from_json(body) for body in bodies]
        return sorted(receipts, key=lambda r: (r.created_at, r.receipt_id))

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        low = "-inf" if since is None else since
        high = "+inf" if until is None else f"({until}"
        pipeline = self._client.pipeline(transaction=False)
        # Any moment before the first receipt is the same as none (and pre-1970 has no day key).
        first_day = "-inf" if since is None or since <= 0 else _day_start(day_of(since))
        pipeline.zrangebyscore(DAYS_KEY, first_day, "+inf" if until is None else until)
        (days,) = await self._execute(pipeline)
        for day in days:
            offset = 0
            while True:
                pipeline = self._client.pipeline(transaction=False)
                pipeline.zrangebyscore(day_receipts_key(day), low, high, start=offset, num=page)
                (bodies,) = await self._execute(pipeline)
                for body in bodies:
                    yield Receipt.from_json(body)
                if len(bodies) < page:
                    break
                offset += page

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        latest: list[Receipt] = []
        if limit <= 0:
            return latest
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrevrange(DAYS_KEY, 0, -1)
        (days,) = await self._execute(pipeline)
        for start in range(0, len(days), 7):  # newest days first, a week a round trip
            pipeline = self._client.pipeline(transaction=False)
            for day in days[start : start + 7]:
                pipeline.zrevrange(day_receipts_key(day), 0, limit - 1)
            for bodies in await self._execute(pipeline):
                latest += (Receipt.from_json(body) for body in bodies[: limit - len(latest)])
            if len(latest) >= limit:
                break
        # Receipts of one millisecond share a score: the id breaks the tie, as in SQLite.
        return sorted(latest, key=lambda r: (r.created_at, r.receipt_id), reverse=True)

    async def put_recipient_consent(self, consent: RecipientConsent) -> None:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.set(recipient_consent_key(consent.subject_id), consent.to_json())
        await self._execute(pipeline)

    async def recipient_consents(self, subject_ids: Sequence[str]) -> dict[str, RecipientConsent]:
        subjects = list(dict.fromkeys(subject_ids))
        if not subjects:
            return {}
        pipeline = self._client.pipeline(transaction=False)
        for subject in subjects:
            pipeline.get(recipient_consent_key(subject))
            pipeline.get(suppression_key(subject))
        replies = await self._execute(pipeline)
        found = {}
        for index, subject in enumerate(subjects):
            body, erased_at = replies[2 * index], replies[2 * index + 1]
            if erased_at is not None:
                found[subject] = RecipientConsent(subject, "erased", float(erased_at))
            elif body is not None:
                found[subject] = RecipientConsent.from_json(body)
        return found

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        if not events:
            return
        keep = self.settings.event_retention_days * 86400
        by_subject: dict[str, dict[str, float]] = {}
        for event in events:
            by_subject.setdefault(event.subject_id, {})[event.to_json()] = event.created_at
        pipeline = self._client.pipeline(transaction=False)
        cutoff = time.time() - keep
        for subject, members in by_subject.items():
            key = email_events_key(subject)
            pipeline.zadd(key, members)
            pipeline.zremrangebyscore(key, "-inf", f"({cutoff}")
            pipeline.expire(key, keep)
        await self._execute(pipeline)

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        cutoff = time.time() - self.settings.event_retention_days * 86400
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(email_events_key(subject_id), cutoff, "+inf")
        (bodies,) = await self._execute(pipeline)
        events = [EmailEvent.from_json(body) for body in bodies]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))


def _days(first_day: str, last_day: str) -> list[str]:
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
