"""One SQLite connection on a database file, driven from one dedicated thread: a process's
`SQLiteStore` holds one, and every facet of it — the hit queue too — runs on it.

    database = SQLiteConnection(path, lambda: prepared(path), "sqlite-store")
    await database.open()        # waits out other processes holding the file (OPEN_SECONDS)
    rows = await database.run(lambda connection: connection.execute(...).fetchall())

Several worker processes (`serve --workers N`) open one database file at once. Start-up waits
for the others instead of failing: WAL is set only by whoever finds the file not yet in WAL
(switching needs the whole file, and SQLite answers "database is locked" at once, without
waiting, while another process writes), and opening is retried until `OPEN_SECONDS`.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from gateway.errors import StoreUnavailable
from gateway.store.sqlite_schema import migrate

T = TypeVar("T")

# Tombstone wins: appended to `INSERT … SELECT <values>` with the subject's hash as the last
# parameter, so the check and the write are one statement in one transaction.
NOT_ERASED = "WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_hash = ?)"

OPEN_SECONDS = 30.0  # how long start-up waits for other processes holding the database
BUSY_MILLISECONDS = 5000


def prepared(path: Path, busy_milliseconds: int = BUSY_MILLISECONDS) -> sqlite3.Connection:
    """A connection in WAL mode, the file's schema migrated to the current version
    (`gateway.store.sqlite_schema`; closed again if that fails)."""
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_milliseconds / 1000
    )
    try:
        connection.execute(f"PRAGMA busy_timeout={busy_milliseconds}")
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() != "wal":  # once per database: it stays in WAL for good
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def is_busy(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class SQLiteConnection:
    def __init__(self, path: Path, connect: Callable[[], sqlite3.Connection], name: str) -> None:
        self.path, self.connect, self.name = path, connect, name
        # One thread owns the connection: no cross-thread sharing, and writes are serialised.
        self._executor = self._thread()
        self._closed = False
        self._connection: sqlite3.Connection | None = None

    def _thread(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:  # its thread is gone: say so as for any unavailable store
            raise StoreUnavailable(f"the SQLite database ({self.name}) is closed")

        def call() -> T:
            if self._connection is None:
                raise StoreUnavailable(f"the SQLite database ({self.name}) is closed")
            try:
                return work(self._connection)
            except sqlite3.Error as error:
                raise StoreUnavailable(f"SQLite: {error}") from error

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def open(self) -> None:
        if self._closed:  # opened again after a close: a new thread
            self._executor, self._closed = self._thread(), False

        def connect() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            deadline = time.monotonic() + OPEN_SECONDS
            while True:
                try:
                    self._connection = self.connect()
                    return
                except sqlite3.OperationalError as error:
                    if not is_busy(error) or time.monotonic() > deadline:
                        raise StoreUnavailable(f"SQLite: {error}") from error
                except sqlite3.Error as error:
                    raise StoreUnavailable(f"SQLite: {error}") from error
                time.sleep(random.uniform(0.02, 0.1))  # noqa: S311 - jitter, not secrecy

        await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def close(self) -> None:
        def disconnect() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        if self._closed:
            return
        await asyncio.get_running_loop().run_in_executor(self._executor, disconnect)
        self._closed = True
        self._executor.shutdown(wait=True)
