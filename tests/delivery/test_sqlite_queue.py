"""The SQLite queue opens like the store: it waits out another process holding the file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gateway.delivery.queue import open_hit_queue


async def test_opening_waits_for_another_process_holding_the_file(
    tmp_path: Path, make_settings
) -> None:
    path = tmp_path / "store.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a brand-new file, not yet WAL: switching fails at once
    holder.execute("CREATE TABLE other (a)")
    queue = open_hit_queue(make_settings(store=f"sqlite:///{path}"))
    opening = asyncio.ensure_future(queue.open())
    # Without the retry the open fails at once; with it, it is still waiting after a while.
    await asyncio.wait([opening], timeout=0.5)
    assert not opening.done() or opening.exception() is None, opening.exception()
    holder.execute("COMMIT")
    holder.close()
    await opening
    assert await queue.append([], cap=10) == {}
    await queue.close()
