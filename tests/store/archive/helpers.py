"""What the archive suite reads straight from PostgreSQL and Redis, to check what the store
says about itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from gateway.model.receipts import Receipt
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from gateway.store.redis_keys import DAYS_KEY, day_receipts_key
from tests.store.test_contract import receipt

DAY = 86400.0


async def archived_ids(
    url: str, table: str = "archived_receipts", subject: str | None = None
) -> list[str]:
    """Every id in `table` (duplicates kept: a double would show twice). Asynchronous: a
    blocking read would wait, with the event loop, for a move in that loop to commit."""
    column = "receipt_id" if table == "archived_receipts" else "event_id"
    query = f"SELECT {column} FROM {table}"  # both names are this module's own
    async with await psycopg.AsyncConnection.connect(url) as connection:
        if subject is None:
            cursor = await connection.execute(query)
        else:
            cursor = await connection.execute(query + " WHERE subject_id = %s", (subject,))
        rows = await cursor.fetchall()
    return [row[0] for row in rows]


async def move_all(store: ArchivedRedisStore) -> None:
    """Rounds until one ends with nothing in the way: another mover (a gateway's own, in the
    background, or one just killed, whose backend PostgreSQL has not yet seen go) may hold
    the move lock for a moment, and a round that finds it held ends at once."""
    for _ in range(100):
        done = await ArchiveMover(store).run_once(lease=False)
        assert done is not None
        if not done.busy:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the move lock stayed held for 10 s")


async def hot_receipt_count(store: ArchivedRedisStore) -> int:
    """Receipts still in Redis's day sets."""
    client: Any = store.hot_client
    total = 0
    for day in await client.zrange(DAYS_KEY, 0, -1):
        total += int(await client.zcard(day_receipts_key(day)))
    return total


def old_receipts(count: int, subjects: int = 10, days_ago: float = 30) -> list[Receipt]:
    """`count` receipts of `subjects` subjects spread over three days, `days_ago` days ago
    (older than the hot window, younger than any retention)."""
    start = time.time() - days_ago * DAY
    return [
        receipt(f"subject-{n % subjects:04d}-aaaaaaaa", at=round(start + (n % 3) * DAY + n, 3))
        for n in range(count)
    ]
