"""One Redis connection pool per store URL, shared by every facet of the Redis backend (the
store's and the hit queue's): the client, the fault mapping, and script calls per slot.

`redis://` / `rediss://` (one server), `redis+cluster://` (a Cluster, by any node) and
`redis+sentinel://host:port[,host:port]/service[/db]` (the primary Sentinel names) give the
same commands. Every Lua script of the backend runs through `script` / `per_subject`, which
load it on first use (and again on a node that lost it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeAlias

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from gateway.errors import StoreUnavailable
from gateway.store.redis_keys import key_slot, slot_tag
from gateway.store.redis_sentinel import sentinel_address, sentinel_client
from gateway.store.store_settings import StoreSettings

# What a Redis call raises when the server or the path to it fails: the client's own errors,
# the socket's, and uvloop's RuntimeError for a transport closed under the client mid-call
# (seen during a Sentinel failover). Each means "the store did not answer"
# (`StoreUnavailable`): receipts spool, tracking fails closed — never a 500. (redis-py 8.1 let
# an AttributeError/TypeError out of a write on a connection whose writer was gone,
# redis/redis-py#4287; 8.2.0, pinned, raises its ConnectionError.)
REDIS_FAULTS: tuple[type[BaseException], ...] = (RedisError, OSError, RuntimeError)
REPLICAS_CHECK_SECONDS = 1.0  # how often a Sentinel primary is asked how many replicas it has

Client: TypeAlias = "Redis | RedisCluster"
Batch: TypeAlias = "Pipeline | ClusterPipeline"
Arg: TypeAlias = "str | int | float"
# What a command or a script answers, as the server sends it (integers, strings, lists and
# maps of them): each caller reads the shape its command or script gives.
Reply: TypeAlias = Any


def unavailable(error: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"Redis: {type(error).__name__}")


class RedisConnection:
    """The client of one store URL (made by `open`), and the calls every facet makes on it."""

    def __init__(self, url: str, settings: StoreSettings) -> None:
        self.url = url
        self.timeout = settings.store.timeout_seconds
        self.cluster = url.startswith("redis+cluster://")
        self.sentinel = url.startswith("redis+sentinel://")
        if self.sentinel:
            sentinel_address(url)  # a bad URL fails at start, naming the setting
        self._client: Client | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._replicas, self._replicas_checked_at = 0, float("-inf")

    @property
    def client(self) -> Client:
        if self._client is None:
            raise StoreUnavailable("the Redis store is closed")
        return self._client

    async def open(self) -> None:
        timeout = self.timeout
        if self.cluster:
            # Fail fast when the server is gone: receipts go to the spool instead of waiting.
            self._client = RedisCluster.from_url(
                "redis://" + self.url.removeprefix("redis+cluster://"),
                decode_responses=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1),
            )
        elif self.sentinel:
            self._client = sentinel_client(self.url, timeout)
        else:
            self._client = Redis.from_url(
                self.url,
                decode_responses=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1),
            )
        self._scripts = {}
        # The slot table (tombstone keys, every mode), built once off the loop at start, not
        # in the first request or delivery round that needs it (0.3-0.9 s of a busy loop).
        await asyncio.to_thread(slot_tag, "")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def pipeline(self) -> Batch:
        return self.client.pipeline(transaction=False)

    async def execute(self, pipeline: Batch) -> list[Reply]:
        try:
            return list(await pipeline.execute())
        except REDIS_FAULTS as error:
            raise unavailable(error) from error

    def _registered(self, source: str) -> AsyncScript:
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client.register_script(source)
        return script

    async def script(self, source: str, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        """Run a Lua script (EVALSHA, loading it if the server lacks it)."""
        try:
            return await self._registered(source)(keys=keys, args=args)
        except REDIS_FAULTS as error:
            raise unavailable(error) from error

    async def per_subject(
        self,
        source: str,
        subjects: Sequence[str],
        keys: Sequence[Sequence[str]],
        args: Sequence[Sequence[Arg]],
        common: Sequence[Arg] = (),
    ) -> list[int]:
        """Run `source` for items that each belong to one subject (`keys[i]`, `args[i]`): one
        call on a single node, one call per slot on a Cluster. Returns the answer per item."""
        groups: dict[int, list[int]] = {}
        for index, subject in enumerate(subjects):
            groups.setdefault(key_slot(subject) if self.cluster else 0, []).append(index)
        calls = [
            (
                [key for i in indexes for key in keys[i]],
                [*common, *(arg for i in indexes for arg in args[i])],
            )
            for indexes in groups.values()
        ]
        if self.cluster:
            replies = await self._scripts_by_slot(source, calls)
        else:
            replies = [await self.script(source, *calls[0])]
        done = [0] * len(subjects)
        for indexes, reply in zip(groups.values(), replies, strict=True):
            for index, answer in zip(indexes, reply, strict=True):
                done[index] = int(answer)
        return done

    async def _scripts_by_slot(
        self, source: str, calls: Sequence[tuple[Sequence[str], Sequence[Arg]]]
    ) -> list[Reply]:
        """One script call per slot, all in one pipeline (a round trip per node)."""
        sha = self._registered(source).sha
        for attempt in range(2):
            pipeline = self.pipeline()
            for keys, args in calls:
                pipeline.execute_command("EVALSHA", sha, len(keys), *keys, *args)
            try:
                return list(await pipeline.execute())
            except NoScriptError as error:  # a node restarted or newly added: load it again
                if attempt:
                    raise unavailable(error) from error
                await self.client.script_load(source)
            except REDIS_FAULTS as error:
                raise unavailable(error) from error
        raise AssertionError("unreachable")

    async def replicated(self) -> None:
        """Behind Sentinel a receipt counts as stored once a replica has it too: a failover
        promotes a replica, and what only the old primary held would be lost with it. Until
        then the batch is `StoreUnavailable`, so the writer spools it and replays it (writes
        are idempotent). With no replica connected there is nothing to wait for."""
        if not self.sentinel:
            return
        try:
            now = time.monotonic()
            if now - self._replicas_checked_at >= REPLICAS_CHECK_SECONDS:
                info = await self.client.info("replication")
                self._replicas = int(info.get("connected_slaves", 0))
                self._replicas_checked_at = now
            if not self._replicas:
                return
            acknowledged = int(await self.client.wait(1, int(self.timeout * 1000)))
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
        if acknowledged < 1:
            raise StoreUnavailable("Redis: no replica acknowledged the write in time")
