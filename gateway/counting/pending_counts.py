"""Counts the store could not take yet, kept on disk so a crash during an outage loses none.

While the store is down, `EventCounter` keeps its sums in memory; after each failed flush it
also writes them here (`counts.pending.<owner>.json`, replaced atomically and fsync'd). A
successful flush removes the file. Each owner (a counter in a process) holds an exclusive
`flock` on its own `counts.pending.<owner>.lock` for as long as it lives, so at start-up a process adopts exactly
the files whose owner is gone — crashed or stopped while the store was down — and never those
of a sibling worker that is still running.

(Consent counts do not need this: they are made from receipts as the store takes them, and a
receipt waits in the spool while the store is down.)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from gateway.model.counts import CountKey

log = logging.getLogger("gateway.counters")

PREFIX = "counts.pending."


class PendingCountsFile:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path = directory / f"{PREFIX}{owner}.json"
        self.lock_path = directory / f"{PREFIX}{owner}.lock"
        self._lock: int | None = None

    def adopt(self) -> Counter[CountKey]:
        """Take over the counts of processes that are gone (then hold this process's lock)."""
        adopted: Counter[CountKey] = Counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        for data in sorted(self.directory.glob(f"{PREFIX}*.json")):
            lock = self._lock_if_orphan(data.with_suffix(".lock"))
            if lock is None:
                continue  # its owner is alive
            try:
                adopted.update(_read(data))
                data.unlink()
            finally:
                os.close(lock)
            with contextlib.suppress(FileNotFoundError):
                data.with_suffix(".lock").unlink()
        if adopted:
            log.warning("counters: took over %d count(s) left by a stopped process", len(adopted))
        self._hold_own_lock()
        return adopted

    def save(self, counts: Mapping[CountKey, int]) -> None:
        if self._lock is None:
            self._hold_own_lock()
        rows = [[key.day, key.metric, key.label, amount] for key, amount in counts.items()]
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w") as file:
            json.dump(rows, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def close(self) -> None:
        """Let go; counts still saved stay on disk for the next process to adopt."""
        if self._lock is not None:
            if not self.path.exists():
                with contextlib.suppress(FileNotFoundError):
                    self.lock_path.unlink()
            os.close(self._lock)
            self._lock = None

    def _hold_own_lock(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a name of its own: never held
        self._lock = descriptor

    def _lock_if_orphan(self, lock_path: Path) -> int | None:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        return descriptor


def _read(path: Path) -> Counter[CountKey]:
    try:
        rows = json.loads(path.read_text())
        return Counter({CountKey(day, metric, label): int(n) for day, metric, label, n in rows})
    except (OSError, ValueError, TypeError) as error:
        log.warning("counters: unreadable %s (%s); skipped", path.name, type(error).__name__)
        return Counter()
