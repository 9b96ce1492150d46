"""The SQLite queue runs on its store's connection: opening waits out another process holding the
file, then the queue takes hits."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gateway.delivery.queue import open_hit_queue
from gateway.store import open_store


async def test_opening_waits_for_another_process_holding_the_file(
    tmp_path: Path, make_settings
) -> None:
    path = tmp_path / "store.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a brand-new file, not yet WAL: switching fails at once
    holder.execute("CREATE TABLE other (a)")
    store = open_store(make_settings(store=f"sqlite:///{path}"))
    opening = asyncio.ensure_future(store.open())
    # Without the retry the open fails at once; with it, it is still waiting after a while.
    await asyncio.wait([opening], timeout=0.5)
    assert not opening.done() or opening.exception() is None, opening.exception()
    holder.execute("COMMIT")
    holder.close()
    await opening
    assert await open_hit_queue(store).append([], cap=10) == {}
    await store.close()
