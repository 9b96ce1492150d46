"""The Redis layout's version: the key `cg:schema-version`, and the migrations to reach it.

=======  ====================================================================================
version  what it does
=======  ====================================================================================
0        a store written before versions (no key): streams, sending sets, dead letters
1        (the same layout, first versioned)
2        `cg:hits-share:{…}` per stream: how many entries are anonymous (`anon`) and how many
         each client holds (`a:<client>`), for the queue's fair shares; counted from the
         streams once (entries written before have no client: only `anon` is counted)
=======  ====================================================================================

The hit queue runs `migrate` once, before its first read or write. Several processes may run
it at once: each step is idempotent (it sets counts, never adds to them). A store of a newer
release is used as it is: its migrations only ever add.
"""

from __future__ import annotations

from gateway.store.hit_queue_layout import STREAMS_KEY, share_key_of
from gateway.store.redis_connection import Client, Reply

SCHEMA_KEY = "cg:schema-version"
VERSION = 2
PAGE = 1000


async def migrate(client: Client) -> int:
    """Bring the store to `VERSION`; returns the version found before."""
    found = int(await client.get(SCHEMA_KEY) or 0)
    if found < 2:
        streams: Reply = await client.smembers(STREAMS_KEY)
        for stream in streams:
            await client.hset(share_key_of(stream), "anon", await _anonymous(client, stream))
    if found < VERSION:
        await client.set(SCHEMA_KEY, VERSION)
    return found


async def _anonymous(client: Client, stream: str) -> int:
    """Entries of `stream` without a subject (no consent behind them), page by page."""
    count, start = 0, "-"
    while True:
        page: Reply = await client.xrange(stream, start, "+", count=PAGE)
        count += sum(1 for _, fields in page if "s" not in fields)
        if len(page) < PAGE:
            return count
        start = "(" + page[-1][0]
