"""What the store alerts read (`cg_store_up`, `cg_store_used_bytes`, `cg_store_limit_bytes`):
a real redis-server with a memory limit, the same server stopped, and SQLite (no limit)."""

from __future__ import annotations

from pathlib import Path

from gateway.store import open_store
from gateway.store_health import StoreHealth
from tests.servers import redis_server

LIMIT = 64 * 1024 * 1024


async def test_redis_memory_and_limit_then_the_server_gone(make_settings, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis", "--save", "", "--maxmemory", str(LIMIT)) as server:
        store = open_store(make_settings(store=server.url, store_timeout_seconds=0.5))
        await store.open()
        try:
            health = StoreHealth(store, timeout_seconds=0.5)
            assert health.figures() == {}  # nothing before the first reading: no false alarm
            await health.refresh()
            figures = health.figures()
            assert figures["up"] == 1.0
            assert figures["limit_bytes"] == LIMIT
            assert 0 < figures["used_bytes"] < LIMIT
            server.stop()
            await health.refresh()
            assert health.figures()["up"] == 0.0
            assert health.figures()["limit_bytes"] == LIMIT  # the last reading, kept
        finally:
            await store.close()


async def test_sqlite_has_no_limit(make_settings) -> None:
    store = open_store(make_settings())
    await store.open()
    try:
        health = StoreHealth(store, timeout_seconds=0.5)
        await health.refresh()
        assert health.figures()["up"] == 1.0
        assert health.figures()["limit_bytes"] == 0.0  # the memory alert never fires on it
        assert health.figures()["used_bytes"] > 0
    finally:
        await store.close()
