"""One place that turns a Redis store URL into a client, for the store and the hit queue:
`redis://` / `rediss://` (one server), `redis+cluster://` (a Cluster, by any node) and
`redis+sentinel://host:port[,host:port]/service[/db]` (the primary Sentinel names)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from gateway.store.redis_sentinel import sentinel_client

# What a Redis call raises when the server or the path to it fails: the client's own errors,
# the socket's, and uvloop's RuntimeError for a transport closed under the client mid-call (seen
# during a Sentinel failover). Each means "the store did not answer" (`StoreUnavailable`):
# receipts spool, tracking fails closed — never a 500.
REDIS_FAULTS: tuple[type[BaseException], ...] = (RedisError, OSError, RuntimeError)


def redis_client(url: str, options: dict[str, Any]) -> Any:
    """A client for `url` (Redis, RedisCluster or a Sentinel-managed Redis: the same commands)."""
    if url.startswith("redis+cluster://"):
        return RedisCluster.from_url("redis://" + url.removeprefix("redis+cluster://"), **options)
    if url.startswith("redis+sentinel://"):
        return sentinel_client(url, options)
    return Redis.from_url(url, **options)
