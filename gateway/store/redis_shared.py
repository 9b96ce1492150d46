"""The Redis store's shared state (`gateway.store.shared`), mixed into `RedisStore`.

    cg:mark:{<name>}                   string  a moment (expires at it)
    cg:changes                         string  the change counter (INCR)
    cg:clicks:{<subject>}:<message>    zset    "link|time" scored by time   (expires: a minute;
                                               never written for an erased subject)
    cg:{instances}:figures             hash    instance → its figures (JSON)
    cg:{instances}:until               zset    instance scored by when its heartbeat goes stale

The two instance keys share a hash tag, so one script updates both on a Cluster too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from gateway.errors import StoreUnavailable
from gateway.store.redis_clients import REDIS_FAULTS
from gateway.store.redis_keys import suppression_key
from gateway.store.shared import CLICK_WINDOW_SECONDS, Click

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

# KEYS per click: the message's click set, the subject's tombstone (one slot). ARGV: cutoff,
# expiry seconds, then time and member per click. An erased subject's clicks are not kept.
ADD_CLICKS = """
local cutoff, keep, done = ARGV[1], ARGV[2], {}
for i = 1, #KEYS / 2 do
  local clicks, tomb, a = KEYS[2 * i - 1], KEYS[2 * i], 3 + (i - 1) * 2
  if redis.call('EXISTS', tomb) == 1 then
    done[i] = -1
  else
    done[i] = redis.call('ZADD', clicks, ARGV[a], ARGV[a + 1])
    redis.call('ZREMRANGEBYSCORE', clicks, '-inf', '(' .. cutoff)
    redis.call('EXPIRE', clicks, keep)
  end
end
return done
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


async def _answer(call: Awaitable[T]) -> T:
    try:
        return await call
    except REDIS_FAULTS as error:
        raise StoreUnavailable(f"Redis: {type(error).__name__}") from error


class RedisShared:
    _client: Any

    async def _execute(self, pipeline: Any) -> list[Any]:
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

    async def mark(self, name: str, now: float) -> float | None:
        value = await _answer(self._client.get(mark_key(name)))
        if value is None or float(value) <= now:
            return None
        return float(value)

    async def set_mark(self, name: str, until: float) -> None:
        await _answer(self._client.set(mark_key(name), repr(until), pxat=int(until * 1000) + 1))

    async def push_mark(self, name: str, by: float, now: float, most: float) -> float:
        moved = await _answer(self._client.eval(_PUSH_MARK, 1, mark_key(name), by, now, most))
        return float(moved)

    async def bump_changes(self) -> None:
        await _answer(self._client.incr(CHANGES_KEY))

    async def changes(self) -> int:
        return int(await _answer(self._client.get(CHANGES_KEY)) or 0)

    async def add_clicks(self, clicks: Sequence[Click], now: float) -> None:
        if not clicks:
            return
        await self._per_subject(
            ADD_CLICKS,
            [click.subject for click in clicks],
            [(clicks_key(c.message, c.subject), suppression_key(c.subject)) for c in clicks],
            [(c.at, f"{c.link}|{c.at!r}") for c in clicks],
            common=(now - CLICK_WINDOW_SECONDS, int(CLICK_WINDOW_SECONDS)),
        )

    async def message_clicks(
        self, messages: Sequence[tuple[str, str]]
    ) -> dict[str, list[tuple[float, int]]]:
        if not messages:
            return {}
        pipeline = self._client.pipeline(transaction=False)
        for message, subject in messages:
            pipeline.zrange(clicks_key(message, subject), 0, -1)
        found = {}
        for (message, _), members in zip(messages, await self._execute(pipeline), strict=True):
            clicks = []
            for member in members:
                link, _, at = member.partition("|")
                clicks.append((float(at), int(link)))
            found[message] = clicks
        return found

    async def put_heartbeat(self, instance: str, figures: str, now: float, ttl: float) -> None:
        await _answer(
            self._client.eval(
                _HEARTBEAT, 2, FIGURES_KEY, UNTIL_KEY, instance, figures, now + ttl, now
            )
        )

    async def heartbeats(self, now: float) -> Mapping[str, str]:
        pipeline = self._client.pipeline(transaction=False)
        pipeline.zrangebyscore(UNTIL_KEY, now, "+inf")
        pipeline.hgetall(FIGURES_KEY)
        live, figures = await self._execute(pipeline)
        return {name: figures[name] for name in live if name in figures}

    async def usage(self) -> dict[str, int]:
        reply = await _answer(self._client.info("memory"))
        nodes = [reply] if "used_memory" in reply else list(reply.values())  # a Cluster: per node
        return {
            "used_bytes": sum(int(node.get("used_memory", 0)) for node in nodes),
            "limit_bytes": sum(int(node.get("maxmemory", 0)) for node in nodes),
        }
