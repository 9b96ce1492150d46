"""SQLite under several worker processes: start-up waits for the others instead of aborting,
and readiness says when the database will not take a write (and why) instead of queueing."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import open_store, sqlite
from tests.conftest import serving


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_opening_waits_while_another_process_creates_the_database(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker is writing the brand-new file (not yet in WAL): switching to WAL then
    fails at once with "database is locked", however long the busy timeout."""
    path = tmp_path / "fresh.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, until REAL)")
    attempts = []
    prepared = sqlite._prepared

    def observed(at: Path) -> sqlite3.Connection:
        attempts.append(at)
        return prepared(at)

    monkeypatch.setattr(sqlite, "_prepared", observed)  # observed, not replaced
    store = open_store(make_settings(store=f"sqlite:///{path}"))
    opening = asyncio.ensure_future(store.open())
    await wait_until(lambda: len(attempts) >= 2 or opening.done(), "a second attempt")
    assert not opening.done() or opening.exception() is None, opening.exception()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(opening, 30)
    await store.counts.add_counts({})
    await store.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_readiness_says_the_database_is_locked_instead_of_waiting_behind_it(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(store=f"sqlite:///{tmp_path}/locked.sqlite3")
    async with serving(create_app(settings)) as http:
        assert (await http.get("/readyz")).json()["status"] == "ready"
        holder = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # e.g. a long migration or a stuck process
        try:
            answer = await http.get("/readyz")
            assert answer.status_code == 503
            assert answer.json()["status"] == "unavailable"
            assert answer.json()["reason"].startswith("locked"), answer.json()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        again = await http.get("/readyz")
        assert again.status_code == 200, again.json()


@pytest.mark.parametrize("store_url", ["redis"], indirect=True)
async def test_readiness_says_a_read_only_redis_will_not_take_writes(
    store_url: str, make_settings: Callable[..., Settings], redis_single
) -> None:
    import redis

    settings = make_settings(store=store_url)
    client = redis.Redis(port=redis_single.port)
    async with serving(create_app(settings)) as http:
        assert (await http.get("/readyz")).status_code == 200
        # A primary demoted to a replica (of nothing reachable) answers, but refuses writes.
        client.replicaof("127.0.0.1", 1)
        try:
            answer = await http.get("/readyz")
        finally:
            client.replicaof("NO", "ONE")
            client.close()
        assert answer.status_code == 503
        assert answer.json()["reason"].startswith("read-only"), answer.json()
