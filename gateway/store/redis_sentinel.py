"""`redis+sentinel://host:port[,host:port…]/service_name[/db]`: Redis behind Sentinel.

The client asks the sentinels which server is the primary of `service_name`, and asks again
when a connection fails or the server says it is a replica now, so after a failover the next
write reaches the new primary. A write that fails during the failover raises
`StoreUnavailable` like any outage: receipts go to the spool and are replayed.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from gateway.errors import ConfigError

SCHEME = "redis+sentinel://"


def sentinel_address(url: str) -> tuple[list[tuple[str, int]], str, int]:
    """The sentinels, the service name and the database of a `redis+sentinel://` URL.

    >>> sentinel_address("redis+sentinel://10.0.0.1:26379,10.0.0.2/gateway/2")
    ([('10.0.0.1', 26379), ('10.0.0.2', 26379)], 'gateway', 2)
    """
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "26379")
        if not name or not port.isdigit():
            raise ConfigError("settings", "store", f"bad sentinel address {host!r}: host:port")
        sentinels.append((name, int(port)))
    path = [unquote(piece) for piece in parts.path.split("/") if piece]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ConfigError(
            "settings", "store", "expected redis+sentinel://host:port[,host:port]/service[/db]"
        )
    return sentinels, path[0], int(path[1]) if len(path) == 2 else 0


def sentinel_client(url: str, timeout: float) -> Redis:
    """A client of the current primary of the URL's service; a call fails after `timeout`
    seconds and is tried once more (on the primary the sentinels name then)."""
    sentinels, service, db = sentinel_address(url)
    parts = urlsplit(url)
    password = unquote(parts.password) if parts.password else None
    watcher = Sentinel(sentinels, socket_timeout=timeout, socket_connect_timeout=timeout)
    client: Redis = watcher.master_for(
        service,
        db=db,
        password=password,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
    )
    return client
