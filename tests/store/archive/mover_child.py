"""A mover in a process of its own, for the test that kills it with SIGKILL mid-move:
`python -m tests.store.archive.mover_child REDIS_URL ARCHIVE_URL` moves in small batches,
round after round, until killed."""

from __future__ import annotations

import asyncio
import sys

from gateway.settings import from_keys
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from gateway.store.store_settings import StoreSettings


async def main(store_url: str, archive_url: str) -> None:
    settings = from_keys(store=store_url, archive=archive_url)
    store = ArchivedRedisStore(store_url, StoreSettings.of(settings))
    await store.open()
    mover = ArchiveMover(store, batch=10)
    print("ready", flush=True)
    while True:
        await mover.run_once(lease=False)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
