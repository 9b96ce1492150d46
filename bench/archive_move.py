"""`python -m bench.archive_move`: the archive's figures for docs/archive.md and scaling.md.

Starts a real redis-server and PostgreSQL (tests/servers.py, tests/pg_server.py), writes
receipts and email events dated a month ago into Redis, and measures:

- the move rate (records per second from Redis to PostgreSQL, one mover, batches of 500);
- disk per archived receipt and email event (`pg_total_relation_size` of the partitions,
  indexes included, over the rows), and Redis memory freed per moved receipt;
- the cost to the hot path: the latency of `POST /consent` (a durable receipt, through the
  whole app in process, as uvicorn runs it) and of `GET /t/ga4` (a blocked hit: the edge
  alone), while idle and while a mover runs in the same event loop, as in `serve`.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import from_keys
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from tests.conftest import SITE, serving
from tests.pg_server import postgres_server
from tests.servers import redis_command, redis_server
from tests.store.archive.helpers import DAY, old_receipts
from tests.store.test_contract import email_event

RECEIPTS = 10_000
EVENTS = 10_000
SAMPLES = 300
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Origin": SITE,
}


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


async def _latencies(http: httpx.AsyncClient, n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"POST /consent": [], "GET /t/ga4": []}
    for _ in range(n):
        started = time.perf_counter()
        answer = await http.post("/consent", json={"action": "accept_all"}, headers=BROWSER)
        assert answer.status_code == 200
        times["POST /consent"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await http.get("/t/ga4/g/collect?v=2&en=page_view", headers=BROWSER)
        times["GET /t/ga4"].append((time.perf_counter() - started) * 1000)
    return times


async def main() -> None:
    with redis_server(Path(tempfile.mkdtemp())) as redis, postgres_server() as postgres:
        settings = from_keys(
            store=redis.url,
            archive=postgres.url,
            data_dir=Path(tempfile.mkdtemp()),
            allowed_origins=(SITE,),
            vendors=("ga4",),
        )
        gateway = Gateway.build(settings)
        store = gateway.store
        assert isinstance(store, ArchivedRedisStore)
        assert gateway.archive_mover is not None  # the settings name an archive
        async with serving(app_for(gateway)) as http:
            await gateway.archive_mover.close()  # the bench's own mover, timed
            await _measure(store, postgres.url, redis.port, http)


async def _measure(
    store: ArchivedRedisStore, archive_url: str, redis_port: int, http: httpx.AsyncClient
) -> None:
    month_ago = old_receipts(RECEIPTS, subjects=RECEIPTS // 4)
    for start in range(0, RECEIPTS, 1000):
        await store.receipts.add_receipts(month_ago[start : start + 1000])
    events = [
        email_event(f"esp-{n % 5000}", at=round(time.time() - 30 * DAY + n, 3))
        for n in range(EVENTS)
    ]
    for start in range(0, EVENTS, 1000):
        await store.email.add_email_events(events[start : start + 1000])
    before = _used_memory(redis_port)

    idle = await _latencies(http, SAMPLES)
    mover = ArchiveMover(store)
    started = time.perf_counter()
    moving = asyncio.create_task(mover.run_once(lease=False))
    busy = await _latencies(http, SAMPLES)
    moved = await moving
    seconds = time.perf_counter() - started
    after = _used_memory(redis_port)
    assert moved is not None
    receipt_bytes, receipt_rows = _disk(archive_url, "archived_receipts")
    event_bytes, event_rows = _disk(archive_url, "archived_email_events")

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"moved {moved.receipts} receipts + {moved.events} email events in {seconds:.1f} s")
    print(f"move rate: {(moved.receipts + moved.events) / seconds:,.0f} records/s")
    print(f"disk per archived receipt: {receipt_bytes / receipt_rows:,.0f} B ({receipt_rows} rows)")
    print(f"disk per archived email event: {event_bytes / event_rows:,.0f} B ({event_rows} rows)")
    print(f"Redis memory freed: {(before - after) / 2**20:,.1f} MiB")
    for route in idle:
        print(
            f"{route}, ms: idle p50 {p(idle[route], 50):.2f} p99 {p(idle[route], 99):.2f}; "
            f"mover running p50 {p(busy[route], 50):.2f} p99 {p(busy[route], 99):.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
