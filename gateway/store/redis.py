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
Every write under a subject is a Lua script that checks the subject's tombstone first
(`gateway.store.redis_scripts`): on a single node one call per batch, on a Cluster one per slot.
A receipt is also a member of its day set (another slot): on a Cluster that copy is written
before the subject's script and taken back if the script refused it, so whatever the order in
which an erasure runs against it, no copy of a refused receipt stays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, ReadOnlyError

from gateway.errors import StoreUnavailable
from gateway.model.days import day_of
from gateway.model.email_events import EmailEvent, RecipientConsent
from gateway.model.receipts import Receipt
from gateway.settings import Settings
from gateway.store import retention_rules
from gateway.store.base import CountKey, Store
from gateway.store.redis_clients import REDIS_FAULTS, redis_client
from gateway.store.redis_keys import (
    DAYS_KEY,
    day_counts_key,
    day_receipts_key,
    email_events_key,
    key_slot,
    recipient_consent_key,
    slot_tag,
    subject_receipts_key,
    suppression_key,
)
from gateway.store.redis_rights import RedisRights
from gateway.store.redis_scripts import (
    ADD_EVENTS,
    ADD_RECEIPTS,
    ADD_SUBJECT_RECEIPTS,
    ERASE_SUBJECT,
    FORGET_QUEUED_HITS,
    SET_UNLESS_ERASED,
)
from gateway.store.redis_sentinel import sentinel_address
from gateway.store.redis_shared import ADD_CLICKS, RedisShared

WRITTEN, REFUSED = 1, -1
REPLICAS_CHECK_SECONDS = 1.0  # how often a Sentinel primary is asked how many replicas it has
PROBE_KEY = "cg:readyz-probe"  # written by /readyz to see that writes are taken


class RedisStore(RedisRights, RedisShared, Store):
    name = "redis"

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self._client: Any = None  # Redis | RedisCluster: the same commands on both
        self._cluster = url.startswith("redis+cluster://")
        self._sentinel = url.startswith("redis+sentinel://")
        if self._sentinel:
            sentinel_address(url)  # a bad URL fails at start, naming the setting
        self._replicas, self._replicas_checked_at = 0, float("-inf")
        self._scripts: dict[str, Any] = {}

    async def open(self) -> None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": self.settings.store.timeout_seconds,
            "socket_connect_timeout": self.settings.store.timeout_seconds,
            # Fail fast when the server is gone: receipts go to the spool instead of waiting.
            "retry": Retry(NoBackoff(), 1),
        }
        self._client = redis_client(self.url, options)
        if self._cluster:
            await asyncio.to_thread(slot_tag, "")  # the slot table, built once, off the loop
        self._scripts = {
            script: self._client.register_script(script)
            for script in (
                ADD_RECEIPTS,
                ADD_SUBJECT_RECEIPTS,
                ADD_EVENTS,
                SET_UNLESS_ERASED,
                ERASE_SUBJECT,
                ADD_CLICKS,
                FORGET_QUEUED_HITS,
            )
        }

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _execute(self, pipeline: Any) -> list[Any]:
        try:
            return list(await pipeline.execute())
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def _script(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await self._scripts[script](keys=keys, args=args)
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def _per_subject(
        self,
        script: str,
        subjects: Sequence[str],
        keys: Sequence[Sequence[str]],
        args: Sequence[Sequence[Any]],
        common: Sequence[Any] = (),
    ) -> list[int]:
        """Run `script` for items that each belong to one subject (`keys[i]`, `args[i]`): one
        call on a single node, one call per slot on a Cluster. Returns the answer per item."""
        groups: dict[int, list[int]] = {}
        for index, subject in enumerate(subjects):
            groups.setdefault(key_slot(subject) if self._cluster else 0, []).append(index)

        calls = [
            (
                [key for i in indexes for key in keys[i]],
                [*common, *(arg for i in indexes for arg in args[i])],
            )
            for indexes in groups.values()
        ]
        if self._cluster:
            replies = await self._scripts_by_slot(script, calls)
        else:
            replies = [await self._script(script, *calls[0])]
        done = [0] * len(subjects)
        for indexes, reply in zip(groups.values(), replies, strict=True):
            for index, answer in zip(indexes, reply, strict=True):
                done[index] = int(answer)
        return done

    async def _scripts_by_slot(
        self, script: str, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        """One script call per slot, all in one pipeline (a round trip per node)."""
        sha = self._scripts[script].sha
        for attempt in range(2):
            pipeline = self._client.pipeline(transaction=False)
            for keys, args in calls:
                pipeline.execute_command("EVALSHA", sha, len(keys), *keys, *args)
            try:
                return list(await pipeline.execute())
            except NoScriptError as error:  # a node restarted or newly added: load it again
                if attempt:
                    raise StoreUnavailable("Redis: NoScriptError") from error
                await self._client.script_load(script)
            except REDIS_FAULTS as error:
                raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        raise AssertionError("unreachable")

    async def _replicated(self) -> None:
        """Behind Sentinel a receipt counts as stored once a replica has it too: a failover
        promotes a replica, and what only the old primary held would be lost with it. Until
        then the batch is `StoreUnavailable`, so the writer spools it and replays it (writes
        are idempotent). With no replica connected there is nothing to wait for."""
        try:
            now = time.monotonic()
            if now - self._replicas_checked_at >= REPLICAS_CHECK_SECONDS:
                info = await self._client.info("replication")
                self._replicas = int(info.get("connected_slaves", 0))
                self._replicas_checked_at = now
            if not self._replicas:
                return
            timeout_ms = int(self.settings.store.timeout_seconds * 1000)
            acknowledged = int(await self._client.wait(1, timeout_ms))
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error
        if acknowledged < 1:
            raise StoreUnavailable("Redis: no replica acknowledged the write in time")

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def check_writable(self, within: float) -> None:
        try:
            await asyncio.wait_for(self._client.set(PROBE_KEY, "1", px=10_000), within)
        except ReadOnlyError as error:
            raise StoreUnavailable("read-only: Redis answers as a replica") from error
        except TimeoutError as error:
            raise StoreUnavailable(f"Redis did not take a write within {within:g} s") from error
        except REDIS_FAULTS as error:
            raise StoreUnavailable(f"Redis: {type(error).__name__}") from error

    async def add_receipts(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        if not receipts:
            return []
        keep = retention_rules.receipt_retention_seconds(self.settings)
        if self._cluster:
            done = await self._add_receipts_by_slot(receipts, keep)
        else:
            done = await self._add_receipts_at_once(receipts, keep)
        if self._sentinel:
            await self._replicated()
        return [
            receipt for receipt, answer in zip(receipts, done, strict=True) if answer == WRITTEN
        ]

    async def _add_receipts_at_once(self, receipts: Sequence[Receipt], keep: int) -> list[int]:
        keys: list[str] = []
        args: list[str | int | float] = [keep]
        for receipt in receipts:
            day, subject = receipt.day, receipt.subject_id
            start = retention_rules.day_start(day)
            keys += (subject_receipts_key(subject), suppression_key(subject), day_receipts_key(day))
            args += (
                receipt.receipt_id,
                receipt.to_json(),
                receipt.created_at,
                retention_rules.day_expires_at(day, keep),
                start,
                day,
            )
        keys.append(DAYS_KEY)
        return [int(answer) for answer in await self._script(ADD_RECEIPTS, keys, args)]

    async def _add_receipts_by_slot(self, receipts: Sequence[Receipt], keep: int) -> list[int]:
        bodies = [receipt.to_json() for receipt in receipts]
        pipeline = self._client.pipeline(transaction=False)
        days: dict[str, float] = {}
        for receipt, body in zip(receipts, bodies, strict=True):
            pipeline.zadd(day_receipts_key(receipt.day), {body: receipt.created_at})
            days[receipt.day] = retention_rules.day_start(receipt.day)
        for day in days:
            pipeline.expireat(day_receipts_key(day), retention_rules.day_expires_at(day, keep))
        pipeline.zadd(DAYS_KEY, days)
        await self._execute(pipeline)
        done = await self._per_subject(
            ADD_SUBJECT_RECEIPTS,
            [r.subject_id for r in receipts],
            [(subject_receipts_key(r.subject_id), suppression_key(r.subject_id)) for r in receipts],
            [(r.receipt_id, body) for r, body in zip(receipts, bodies, strict=True)],
            common=(keep,),
        )
        refused = [i for i, answer in enumerate(done) if answer == REFUSED]
        if refused:
            pipeline = self._client.pipeline(transaction=False)
            for index in refused:
                pipeline.zrem(day_receipts_key(receipts[index].day), bodies[index])
            await self._execute(pipeline)
        return done

    async def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        if not counts:
            return
        keep = retention_rules.event_retention_seconds(self.settings)
        pipeline = self._client.pipeline(transaction=False)
        days = set()
        for key, value in counts.items():
            pipeline.hincrby(day_counts_key(key.day), f"{key.metric}|{key.label}", value)
            days.add(key.day)
        for day in days:
            pipeline.expireat(day_counts_key(day), retention_rules.day_expires_at(day, keep))
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
        pipeline.exists(suppression_key(subject_id))
        bodies, erased = await self._execute(pipeline)
        if erased:  # an erasure under way keeps them until the day sets are clean
            return []
        receipts = [Receipt.from_json(body) for body in bodies]
        return sorted(receipts, key=lambda r: (r.created_at, r.receipt_id))

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        low = "-inf" if since is None else since
        high = "+inf" if until is None else f"({until}"
        pipeline = self._client.pipeline(transaction=False)
        # Any moment before the first receipt is the same as none (and pre-1970 has no day key).
        first_day = (
            "-inf" if since is None or since <= 0 else retention_rules.day_start(day_of(since))
        )
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
        subject = consent.subject_id
        await self._per_subject(
            SET_UNLESS_ERASED,
            [subject],
            [(recipient_consent_key(subject), suppression_key(subject))],
            [(consent.to_json(),)],
        )

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
                found[subject] = retention_rules.erased_consent(subject, float(erased_at))
            elif body is not None:
                found[subject] = RecipientConsent.from_json(body)
        return found

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        if not events:
            return
        keep = retention_rules.event_retention_seconds(self.settings)
        await self._per_subject(
            ADD_EVENTS,
            [event.subject_id for event in events],
            [(email_events_key(e.subject_id), suppression_key(e.subject_id)) for e in events],
            [(event.created_at, event.to_json()) for event in events],
            common=(keep, retention_rules.events_cutoff(self.settings, time.time())),
        )

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        cutoff = retention_rules.events_cutoff(self.settings, time.time())
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(email_events_key(subject_id), cutoff, "+inf")
        (bodies,) = await self._execute(pipeline)
        events = [EmailEvent.from_json(body) for body in bodies]
        return sorted(events, key=lambda e: (e.created_at, e.event_id))


def _days(first_day: str, last_day: str) -> list[str]:
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
