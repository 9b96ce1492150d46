"""The embedded store: stdlib sqlite3 in WAL mode, driven from one dedicated thread
(`gateway.store.sqlite_connection`: how several processes open one file at once).

One `SQLiteStore` per database file owns one connection and hands it to its facets —
receipts and counters and email records (`sqlite_receipts`), rights (`sqlite_rights`),
retention (`sqlite_purge`), shared state (`sqlite_shared`); the hit queue runs on the same
connection (`gateway.delivery.sqlite_queue`). The file's schema and its versions:
`gateway.store.sqlite_schema`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from gateway.errors import StoreUnavailable
from gateway.store.sqlite_connection import BUSY_MILLISECONDS, SQLiteConnection, is_busy, prepared
from gateway.store.sqlite_purge import SQLitePurge
from gateway.store.sqlite_receipts import SQLiteCounts, SQLiteEmail, SQLiteReceipts
from gateway.store.sqlite_rights import SQLiteRights
from gateway.store.sqlite_shared import SQLiteShared
from gateway.store.store_settings import StoreSettings


def _prepared(path: Path) -> sqlite3.Connection:
    return prepared(path, BUSY_MILLISECONDS)


def _why_not_writable(error: sqlite3.Error) -> str:
    if "readonly" in str(error).lower().replace("-", "").replace(" ", ""):
        return f"read-only: {error}"
    if is_busy(error):
        return "locked: another connection holds the write lock"
    return f"SQLite: {error}"


class SQLiteStore:
    name = "sqlite"

    def __init__(self, path: Path, settings: StoreSettings) -> None:
        self.path = path
        # `_prepared` looked up when opening (a test observes it).
        self.connection = SQLiteConnection(path, lambda: _prepared(path), "sqlite-store")
        self.receipts = SQLiteReceipts(self.connection)
        self.counts = SQLiteCounts(self.connection)
        self.email = SQLiteEmail(self.connection, settings)
        self.rights = SQLiteRights(self.connection)
        self.retention = SQLitePurge(self.connection, settings)
        self.shared = SQLiteShared(self.connection)

    async def open(self) -> None:
        await self.connection.open()

    async def close(self) -> None:
        await self.connection.close()

    async def ping(self) -> None:
        await self.connection.run(lambda connection: connection.execute("SELECT 1").fetchone())

    async def check_writable(self, within: float) -> None:
        """Take the write lock on a connection of its own (so it does not queue behind this
        process's writes) within `within` seconds, write nothing, and let go."""

        def probe() -> None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=within)
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT OR REPLACE INTO leases VALUES ('readyz-probe', 0)")
                connection.execute("ROLLBACK")
            finally:
                connection.close()

        try:
            await asyncio.wait_for(asyncio.to_thread(probe), within + 1.0)
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(_why_not_writable(error)) from error
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite: {error}") from error
        except TimeoutError as error:
            raise StoreUnavailable("locked: the database did not take a write in time") from error

    async def usage(self) -> dict[str, int]:
        def measure(connection: sqlite3.Connection) -> int:
            (pages,) = connection.execute("PRAGMA page_count").fetchone()
            (size,) = connection.execute("PRAGMA page_size").fetchone()
            return int(pages) * int(size)

        return {"used_bytes": await self.connection.run(measure), "limit_bytes": 0}
