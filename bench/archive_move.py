"""`python -m bench.archive_move`: the archive's figures for docs/archive.md and scaling.md.

Starts a real redis-server and PostgreSQL (tests/servers.py, tests/pg_server.py), writes
receipts and email events dated a month ago into Redis, and measures:

- the move rate (records per second from Redis to PostgreSQL, one mover, batches of 500);
- disk per archived receipt and email event (`pg_total_relation_size` of the partitions,
  indexes included, over the rows), and Redis memory freed per moved receipt;
- the cost to the hot path: the latency of writing one receipt to Redis (`add_receipts`, as
  `POST /consent` does) while idle and while the mover runs.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import psycopg

from gateway.settings import Settings
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from tests.pg_server import postgres_server
from tests.servers import redis_command, redis_server
from tests.store.archive.helpers import DAY, old_receipts
from tests.store.test_contract import email_event, receipt

RECEIPTS = 10_000
EVENTS = 10_000
SAMPLES = 400


def _used_memory(port: int) -> int:
    info = redis_command(port, "INFO", "memory")
    return int(
        next(line for line in info.splitlines() if line.startswith("used_memory:")).split(":")[1]
    )


def _disk(url: str, table: str) -> tuple[int, int]:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            (table,),
        ).fetchone()
        count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    assert count is not None
    return int(row[0]), int(count[0])


async def _write_latencies(store: ArchivedRedisStore, n: int) -> list[float]:
    times = []
    for index in range(n):
        one = receipt(f"hot-{index}-cccccccc", at=round(time.time(), 3))
        started = time.perf_counter()
        await store.add_receipts([one])
        times.append((time.perf_counter() - started) * 1000)
    return times


async def main() -> None:
    with redis_server(Path(tempfile.mkdtemp())) as redis, postgres_server() as postgres:
        settings = Settings(store=redis.url, archive=postgres.url)
        store = ArchivedRedisStore(redis.url, settings)
        await store.open()
        month_ago = old_receipts(RECEIPTS, subjects=RECEIPTS // 4)
        for start in range(0, RECEIPTS, 1000):
            await store.add_receipts(month_ago[start : start + 1000])
        events = [
            email_event(f"esp-{n % 5000}", at=round(time.time() - 30 * DAY + n, 3))
            for n in range(EVENTS)
        ]
        for start in range(0, EVENTS, 1000):
            await store.add_email_events(events[start : start + 1000])
        before = _used_memory(redis.port)

        idle = await _write_latencies(store, SAMPLES)
        mover = ArchiveMover(store, batch=int(__import__("os").environ.get("BATCH", "500")))
        started = time.perf_counter()
        moving = asyncio.create_task(mover.run_once(lease=False))
        busy = await _write_latencies(store, SAMPLES)
        moved = await moving
        seconds = time.perf_counter() - started
        after = _used_memory(redis.port)
        assert moved is not None
        receipt_bytes, receipt_rows = _disk(postgres.url, "archived_receipts")
        event_bytes, event_rows = _disk(postgres.url, "archived_email_events")
        await store.close()

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"moved {moved.receipts} receipts + {moved.events} email events in {seconds:.1f} s")
    print(f"move rate: {(moved.receipts + moved.events) / seconds:,.0f} records/s")
    print(f"disk per archived receipt: {receipt_bytes / receipt_rows:,.0f} B ({receipt_rows} rows)")
    print(f"disk per archived email event: {event_bytes / event_rows:,.0f} B ({event_rows} rows)")
    print(f"Redis memory freed: {(before - after) / 2**20:,.1f} MiB")
    print(
        f"receipt write to Redis, ms: idle p50 {p(idle, 50):.2f} p99 {p(idle, 99):.2f}; "
        f"mover running p50 {p(busy, 50):.2f} p99 {p(busy, 99):.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
