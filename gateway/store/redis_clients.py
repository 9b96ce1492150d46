"""One place that turns a Redis store URL into a client, for the store and the hit queue:
`redis://` / `rediss://` (one server), `redis+cluster://` (a Cluster, by any node) and
`redis+sentinel://host:port[,host:port]/service[/db]` (the primary Sentinel names)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis, RedisCluster

from gateway.store.redis_sentinel import sentinel_client


def redis_client(url: str, options: dict[str, Any]) -> Any:
    """A client for `url` (Redis, RedisCluster or a Sentinel-managed Redis: the same commands)."""
    if url.startswith("redis+cluster://"):
        return RedisCluster.from_url("redis://" + url.removeprefix("redis+cluster://"), **options)
    if url.startswith("redis+sentinel://"):
        return sentinel_client(url, options)
    return Redis.from_url(url, **options)
