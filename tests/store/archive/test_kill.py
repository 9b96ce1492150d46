"""A mover killed with SIGKILL at random moments — before a commit, between the commit and
the delete from Redis — while receipts keep arriving: 0 receipts lost, 0 doubled."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gateway.settings import Settings
from gateway.store import open_store
from gateway.store.archive.store import ArchivedRedisStore
from tests.store.archive.helpers import (
    DAY,
    archived_ids,
    hot_receipt_count,
    move_all,
    old_receipts,
)
from tests.store.test_contract import receipt

REPO = Path(__file__).resolve().parents[3]


async def test_killed_movers_under_load_lose_and_double_nothing(
    archived_settings: Callable[..., Settings], archive_url: str, tmp_path: Path
) -> None:
    settings = archived_settings()
    store = open_store(settings)
    assert isinstance(store, ArchivedRedisStore)
    await store.open()
    written = old_receipts(600, subjects=50)
    await store.receipts.add_receipts(written)
    rng = random.Random()
    log = (tmp_path / "mover.log").open("ab")
    try:
        for kill in range(3):
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.store.archive.mover_child",
                    settings.store.url,
                    archive_url,
                ],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=log,
            )
            assert child.stdout is not None
            try:
                # Off the loop, with a deadline: a child that hangs fails the test, not the run.
                ready = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
                assert ready.strip() == b"ready"
                # Load while it moves: old receipts (to move) and young ones (to stay).
                deadline = time.monotonic() + rng.uniform(0.1, 0.8)
                while time.monotonic() < deadline:
                    more = [
                        *old_receipts(20, subjects=50, days_ago=10 + kill),
                        receipt(f"young-{kill}-{rng.random()}", at=round(time.time(), 3)),
                    ]
                    await store.receipts.add_receipts(more)
                    written += more
                    await asyncio.sleep(0.01)
            finally:
                child.kill()  # SIGKILL: wherever it was
                child.wait(timeout=15)
                child.stdout.close()
        await move_all(store)  # what is left
        ids = await archived_ids(archive_url)
        assert len(ids) == len(set(ids))  # nothing doubled
        young = [r for r in written if r.created_at > time.time() - 7 * DAY]
        assert len(ids) == len(written) - len(young)
        assert await hot_receipt_count(store) == len(young)
        exported = [r.receipt_id async for r in store.receipts.iter_receipts()]
        assert sorted(exported) == sorted(r.receipt_id for r in written)  # nothing lost
    finally:
        log.close()
        await store.close()
