"""The production store: Redis, Redis Cluster or Redis behind Sentinel, with the same code.

One `RedisStore` per store URL owns one client (`gateway.store.redis_connection`) and hands it
to its facets — receipts and counters and email records (`redis_receipts`), rights
(`redis_rights`), retention (`redis_purge`), shared state (`redis_shared`); the hit queue is
opened on the same client (`gateway.delivery.redis_queue`).

Every key of one subject shares the hash tag `{subject}`, so one subject's keys live in one
cluster slot (the names: `redis_keys`; each facet's module draws its part of the layout).
With `redis+sentinel://host:port[,host:port]/service[/db]` the client asks the sentinels for
the current primary and follows a failover (`gateway.store.redis_sentinel`).
"""

from __future__ import annotations

import asyncio

from redis.exceptions import ReadOnlyError

from gateway.errors import StoreUnavailable
from gateway.store.base import Counts, EmailRecords, Receipts, Retention, Rights
from gateway.store.redis_connection import REDIS_FAULTS, RedisConnection, unavailable
from gateway.store.redis_purge import RedisPurge
from gateway.store.redis_receipts import RedisCounts, RedisEmail, RedisReceipts
from gateway.store.redis_rights import RedisRights
from gateway.store.redis_shared import RedisShared
from gateway.store.shared import SharedState
from gateway.store.store_settings import StoreSettings

PROBE_KEY = "cg:readyz-probe"  # written by /readyz to see that writes are taken


class RedisStore:
    name = "redis"

    def __init__(self, url: str, settings: StoreSettings) -> None:
        self.url = url
        self.settings = settings
        self.connection = RedisConnection(url, settings)
        rights = RedisRights(self.connection, settings)
        self.receipts: Receipts = RedisReceipts(self.connection, settings)
        self.counts: Counts = RedisCounts(self.connection, settings)
        self.email: EmailRecords = RedisEmail(self.connection, settings)
        self.rights: Rights = rights
        self.retention: Retention = RedisPurge(self.connection, settings, rights)
        self.shared: SharedState = RedisShared(self.connection)

    async def open(self) -> None:
        await self.connection.open()

    async def close(self) -> None:
        await self.connection.close()

    async def ping(self) -> None:
        try:
            await self.connection.client.ping()
        except REDIS_FAULTS as error:
            raise unavailable(error) from error

    async def check_writable(self, within: float) -> None:
        try:
            await asyncio.wait_for(self.connection.client.set(PROBE_KEY, "1", px=10_000), within)
        except ReadOnlyError as error:
            raise StoreUnavailable("read-only: Redis answers as a replica") from error
        except TimeoutError as error:
            raise StoreUnavailable(f"Redis did not take a write within {within:g} s") from error
        except REDIS_FAULTS as error:
            raise unavailable(error) from error

    async def usage(self) -> dict[str, int]:
        try:
            reply = await self.connection.client.info("memory")
        except REDIS_FAULTS as error:
            raise unavailable(error) from error
        nodes = [reply] if "used_memory" in reply else list(reply.values())  # a Cluster: per node
        return {
            "used_bytes": sum(int(node.get("used_memory", 0)) for node in nodes),
            "limit_bytes": sum(int(node.get("maxmemory", 0)) for node in nodes),
        }
