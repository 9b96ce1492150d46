"""Counts made while the store is down survive a crash: kept on disk, taken over at the next
start — but never those of a process that is still running."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from gateway.counting.counters import EventCounter
from gateway.counting.pending_counts import PendingCountsFile
from gateway.model.counts import CountKey, PixelCount
from gateway.settings import Settings
from gateway.store import open_store
from tests.conftest import REPO

DOWN = "redis://127.0.0.1:1/0"


def crash_during_an_outage(directory: Path) -> None:
    """A real process counts hits while the store is down, then dies without closing."""
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from pathlib import Path
        from gateway.model.counts import PixelCount
        from gateway.settings import from_keys
        from gateway.store import open_store
        from gateway.counting.counters import EventCounter
        from gateway.counting.pending_counts import PendingCountsFile

        async def main():
            store = open_store(from_keys(store={DOWN!r}, store_timeout_seconds=0.2))
            await store.open()
            counter = EventCounter(store.counts, pending_file=PendingCountsFile(Path({str(directory)!r})))
            await counter.start()
            for _ in range(7):
                counter.add(PixelCount("ga4", "forward"), day="2026-11-30")
            await counter.flush()
            os._exit(9)  # a crash: nothing is closed or flushed again

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, timeout=60, check=False)
    assert done.returncode == 9


async def test_counts_of_a_process_that_crashed_during_an_outage_are_taken_over(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    crash_during_an_outage(tmp_path / "var")
    store = open_store(make_settings())
    await store.open()
    counter = EventCounter(store.counts, pending_file=PendingCountsFile(tmp_path / "var"))
    await counter.start()
    counter.add(PixelCount("ga4", "forward"), day="2026-11-30")
    await counter.close()
    assert await store.counts.counts("pixel", "2026-11-30", "2026-11-30") == {
        CountKey("2026-11-30", "pixel", "ga4:forward"): 8
    }
    assert list((tmp_path / "var").glob("counts.pending.*")) == []
    await store.close()


async def test_a_running_sibling_keeps_its_own_counts(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    down = open_store(make_settings(store=DOWN, store_timeout_seconds=0.2))
    await down.open()
    sibling = EventCounter(down.counts, pending_file=PendingCountsFile(tmp_path))
    await sibling.start()
    sibling.add(PixelCount("ga4", "block"))
    await sibling.flush()  # the store is down: saved on disk, under the sibling's lock
    assert PendingCountsFile(tmp_path).adopt() == {}
    await sibling.close()
    # Stopped while the store was still down: now they are up for adoption.
    assert sum(PendingCountsFile(tmp_path).adopt().values()) == 1
    await down.close()
