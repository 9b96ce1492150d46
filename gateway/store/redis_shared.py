"""The Redis backend's shared-state facet (`gateway.store.shared`).

    cg:mark:{<name>}                   string  a moment (expires at it)
    cg:changes                         string  the change counter (INCR)
    cg:clicks:{<subject>}:<message>    zset    "link|time" scored by time   (expires: a minute;
                                               never written for an erased subject)
    cg:trap:{<subject>}:<message>      zset    the same, for its honeypot link's clicks
    cg:{instances}:figures             hash    instance → its figures (JSON)
    cg:{instances}:until               zset    instance scored by when its heartbeat goes stale
    cg:lease:{<name>}                  string  until when a periodic job is taken (expires)

The two instance keys share a hash tag, so one script updates both on a Cluster too.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Mapping, Sequence
from typing import TypeVar

from gateway.store.redis_connection import REDIS_FAULTS, Arg, RedisConnection, unavailable
from gateway.store.redis_keys import lease_key, suppression_key
from gateway.store.shared import (
    CLICK_WINDOW_SECONDS,
    EVERY_CLICK,
    HONEYPOT_CLICK,
    Click,
    ClickSpan,
)

T = TypeVar("T")
CHANGES_KEY = "cg:changes"
FIGURES_KEY = "cg:{instances}:figures"
UNTIL_KEY = "cg:{instances}:until"

# KEYS: the mark. ARGV: by, now, most. Returns the new moment (as a string: Lua floats truncate).
_PUSH_MARK = """
local now = tonumber(ARGV[2])
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
local moved = math.min(math.max(held, now) + tonumber(ARGV[1]), now + tonumber(ARGV[3]))
redis.call('SET', KEYS[1], tostring(moved), 'PXAT', math.ceil(moved * 1000))
return tostring(moved)
"""

# One call for a batch of clicks (per slot on a Cluster). KEYS per message: its click set and
# the subject's tombstone (one slot). ARGV: cutoff, expiry seconds, then per message the number
# of its clicks and a score and member for each: one ZADD, ZREMRANGEBYSCORE and EXPIRE per
# message, however many of its clicks the batch holds. An erased subject's clicks are not kept.
ADD_CLICKS = """
local cutoff, keep, done, a = ARGV[1], ARGV[2], {}, 3
for i = 1, #KEYS / 2 do
  local clicks, tomb, n = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[a])
  if redis.call('EXISTS', tomb) == 1 then
    done[i] = -1
  else
    done[i] = redis.call('ZADD', clicks, unpack(ARGV, a + 1, a + 2 * n))
    redis.call('ZREMRANGEBYSCORE', clicks, '-inf', '(' .. cutoff)
    redis.call('EXPIRE', clicks, keep)
  end
  a = a + 1 + 2 * n
end
return done
"""
# Clicks of one message per ZADD at most (Lua's `unpack` has a limit of a few thousand values);
# a message clicked more often in one batch (a scanner) takes several entries of the call.
MEMBERS_PER_ZADD = 500

# KEYS: the lease. ARGV: now, until, expiry in ms. A lease is free once its time has passed.
_CLAIM = """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS: figures, until. ARGV: instance, figures, until, now.
_HEARTBEAT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
for _, name in ipairs(stale) do
  redis.call('HDEL', KEYS[1], name)
  redis.call('ZREM', KEYS[2], name)
end
return #stale
"""


def mark_key(name: str) -> str:
    return f"cg:mark:{{{name}}}"


def clicks_key(message: str, subject: str) -> str:
    return f"cg:clicks:{{{subject}}}:{message}"


def trap_key(message: str, subject: str) -> str:
    """The message's honeypot clicks, apart: they are read over a wider span than the rest."""
    return f"cg:trap:{{{subject}}}:{message}"


def _score(moment: float) -> str:
    """A ZRANGEBYSCORE bound: Redis spells the infinities `-inf` and `+inf`."""
    if math.isinf(moment):
        return "+inf" if moment > 0 else "-inf"
    return repr(moment)


async def _answer(call: Awaitable[T]) -> T:
    try:
        return await call
    except REDIS_FAULTS as error:
        raise unavailable(error) from error


class RedisShared:
    def __init__(self, redis: RedisConnection) -> None:
        self._redis = redis

    async def mark(self, name: str, now: float) -> float | None:
        value = await _answer(self._redis.client.get(mark_key(name)))
        if value is None or float(value) <= now:
            return None
        return float(value)

    async def set_mark(self, name: str, until: float) -> None:
        await _answer(
            self._redis.client.set(mark_key(name), repr(until), pxat=int(until * 1000) + 1)
        )

    async def push_mark(self, name: str, by: float, now: float, most: float) -> float:
        moved = await self._redis.script(_PUSH_MARK, [mark_key(name)], [by, now, most])
        return float(str(moved))

    async def bump_changes(self) -> None:
        await _answer(self._redis.client.incr(CHANGES_KEY))

    async def changes(self) -> int:
        return int(await _answer(self._redis.client.get(CHANGES_KEY)) or 0)

    async def add_clicks(self, clicks: Sequence[Click], now: float) -> None:
        by_message: dict[tuple[str, str, bool], list[Arg]] = {}
        for click in clicks:
            trap = click.link == HONEYPOT_CLICK
            by_message.setdefault((click.message, click.subject, trap), []).extend(
                (click.at, f"{click.link}|{click.at!r}")
            )
        subjects, keys, args = [], [], []
        for (message, subject, trap), members in by_message.items():
            key = (trap_key if trap else clicks_key)(message, subject)
            for start in range(0, len(members), 2 * MEMBERS_PER_ZADD):
                part = members[start : start + 2 * MEMBERS_PER_ZADD]
                subjects.append(subject)
                keys.append((key, suppression_key(subject)))
                args.append([len(part) // 2, *part])
        if subjects:
            await self._redis.per_subject(
                ADD_CLICKS,
                subjects,
                keys,
                args,
                common=(now - CLICK_WINDOW_SECONDS, int(CLICK_WINDOW_SECONDS)),
            )

    async def message_clicks(
        self, messages: Sequence[tuple[str, str]], span: ClickSpan = EVERY_CLICK
    ) -> dict[str, list[tuple[float, int]]]:
        if not messages:
            return {}
        pipeline = self._redis.pipeline()
        bounds = [_score(moment) for moment in span]
        for message, subject in messages:
            pipeline.zrangebyscore(clicks_key(message, subject), bounds[0], bounds[1])
            pipeline.zrangebyscore(trap_key(message, subject), bounds[2], bounds[3])
        replies = await self._redis.execute(pipeline)
        found = {}
        for number, (message, _) in enumerate(messages):
            clicks = []
            for member in (*replies[2 * number], *replies[2 * number + 1]):
                link, _, at = member.partition("|")
                if span.holds(float(at), int(link)):  # a set written before the trap sets
                    clicks.append((float(at), int(link)))
            found[message] = clicks
        return found

    async def put_heartbeat(self, instance: str, figures: str, now: float, ttl: float) -> None:
        await self._redis.script(
            _HEARTBEAT, [FIGURES_KEY, UNTIL_KEY], [instance, figures, now + ttl, now]
        )

    async def heartbeats(self, now: float) -> Mapping[str, str]:
        pipeline = self._redis.pipeline()
        pipeline.zrangebyscore(UNTIL_KEY, now, "+inf")
        pipeline.hgetall(FIGURES_KEY)
        live, figures = await self._redis.execute(pipeline)
        return {name: figures[name] for name in live if name in figures}

    async def claim(self, name: str, seconds: float, now: float) -> bool:
        taken = await self._redis.script(
            _CLAIM, [lease_key(name)], [now, now + seconds, max(int(seconds * 1000), 1)]
        )
        return bool(taken)
