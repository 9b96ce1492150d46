"""The hit queue in the embedded store: one table, a vendor column, a lease per taken row.

Its own connection (and thread, `gateway.store.sqlite_connection`) on the store's file: WAL lets the edge append while a worker
in another process takes and acknowledges. The depth per vendor is kept by triggers, so the
cap check at append time is O(1) however long the queue is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from gateway.delivery.queue import DEAD_LETTERS_KEPT, HitQueue, QueueDepth, QueuedHit, Taken
from gateway.settings import Settings
from gateway.store.sqlite_connection import SQLiteConnection, prepared

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hit_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale ack cannot hit a new row
    vendor TEXT NOT NULL,
    queued_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT '',
    sending INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    subject_hash TEXT  -- the subject's tombstone hash: erasure deletes its entries
);
CREATE INDEX IF NOT EXISTS hit_queue_by_vendor ON hit_queue (vendor, id);
CREATE TABLE IF NOT EXISTS hit_queue_depth (
    vendor TEXT PRIMARY KEY,
    depth INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS hit_queue_in AFTER INSERT ON hit_queue BEGIN
    INSERT INTO hit_queue_depth VALUES (NEW.vendor, 1)
    ON CONFLICT (vendor) DO UPDATE SET depth = depth + 1;
END;
CREATE TRIGGER IF NOT EXISTS hit_queue_out AFTER DELETE ON hit_queue BEGIN
    UPDATE hit_queue_depth SET depth = depth - 1 WHERE vendor = OLD.vendor;
END;
CREATE TABLE IF NOT EXISTS hit_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor TEXT NOT NULL,
    dead_at REAL NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hit_dead_letters_by_vendor ON hit_dead_letters (vendor, id);
CREATE INDEX IF NOT EXISTS hit_dead_letters_by_time ON hit_dead_letters (dead_at);
"""
# After `_SCHEMA` (a queue created before the column existed gets it first).
_SUBJECT_INDEX = (
    "CREATE INDEX IF NOT EXISTS hit_queue_by_subject ON hit_queue (subject_hash)"
    " WHERE subject_hash IS NOT NULL"
)


def _prepared(path: Path) -> sqlite3.Connection:
    connection = prepared(path, _SCHEMA, busy_milliseconds=10_000)
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(hit_queue)")}
        if "subject_hash" not in columns:  # a queue from before the column
            connection.execute("ALTER TABLE hit_queue ADD COLUMN subject_hash TEXT")
        connection.execute(_SUBJECT_INDEX)
    except BaseException:
        connection.close()
        raise
    return connection


class SQLiteHitQueue(HitQueue):
    name = "sqlite"

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self._database = SQLiteConnection(path, lambda: _prepared(path), "sqlite-hits")

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._database.run(work)

    async def open(self) -> None:
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    async def append(self, hits: Sequence[QueuedHit], cap: int) -> dict[str, int]:
        rows = [(q.hit.vendor, q.queued_at, q.to_json(), q.subject_hash) for q in hits]

        def insert(connection: sqlite3.Connection) -> dict[str, int]:
            refused: dict[str, int] = {}
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                room = {
                    vendor: cap - depth
                    for vendor, depth in connection.execute(
                        "SELECT vendor, depth FROM hit_queue_depth"
                    )
                }
                accepted = []
                for row in rows:
                    left = room.get(row[0], cap)
                    if left <= 0:
                        refused[row[0]] = refused.get(row[0], 0) + 1
                        continue
                    room[row[0]] = left - 1
                    accepted.append(row)
                connection.executemany(
                    "INSERT INTO hit_queue (vendor, queued_at, body, subject_hash)"
                    " VALUES (?, ?, ?, ?)",
                    accepted,
                )
            return refused

        return await self._run(insert)

    async def take(
        self, vendor: str, consumer: str, count: int, lease_seconds: float, now: float
    ) -> list[Taken]:
        def lease(connection: sqlite3.Connection) -> list[Taken]:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                rows = connection.execute(
                    "UPDATE hit_queue SET owner = ?, lease_until = ? WHERE id IN ("
                    " SELECT id FROM hit_queue WHERE vendor = ? AND lease_until <= ?"
                    " ORDER BY id LIMIT ?) RETURNING id, sending, body",
                    (consumer, now + lease_seconds, vendor, now, count),
                ).fetchall()
            return [
                Taken(str(entry_id), _decode(body), bool(sending))
                for entry_id, sending, body in sorted(rows)
            ]

        return await self._run(lease)

    async def mark_sending(
        self,
        vendor: str,
        consumer: str,
        entry_ids: Sequence[str],
        lease_seconds: float,
        now: float,
    ) -> list[str]:
        ids = [int(entry_id) for entry_id in entry_ids]

        def update(connection: sqlite3.Connection) -> list[str]:
            marked = []
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                for entry_id in ids:
                    row = connection.execute(
                        "UPDATE hit_queue SET sending = 1, lease_until = ?"
                        " WHERE id = ? AND owner = ? AND lease_until > ? AND sending = 0 RETURNING id",
                        (now + lease_seconds, entry_id, consumer, now),
                    ).fetchone()
                    if row is not None:
                        marked.append(str(entry_id))
            return marked

        return await self._run(update) if ids else []

    async def unmark_sending(self, vendor: str, entry_ids: Sequence[str]) -> None:
        rows = [(int(entry_id),) for entry_id in entry_ids]

        def update(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("UPDATE hit_queue SET sending = 0 WHERE id = ?", rows)

        if rows:
            await self._run(update)

    async def release(self, vendor: str, consumer: str, entry_ids: Sequence[str]) -> None:
        rows = [(int(entry_id), consumer) for entry_id in entry_ids]

        def update(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "UPDATE hit_queue SET lease_until = 0, owner = ''"
                    " WHERE id = ? AND owner = ? AND sending = 0",
                    rows,
                )

        if rows:
            await self._run(update)

    async def renew(
        self, vendor: str, consumer: str, entry_ids: Sequence[str], lease_seconds: float, now: float
    ) -> None:
        rows = [(now + lease_seconds, int(entry_id), consumer) for entry_id in entry_ids]

        def update(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "UPDATE hit_queue SET lease_until = ? WHERE id = ? AND owner = ?", rows
                )

        if rows:
            await self._run(update)

    async def ack(self, vendor: str, entry_ids: Sequence[str]) -> None:
        rows = [(int(entry_id),) for entry_id in entry_ids]

        def delete(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany("DELETE FROM hit_queue WHERE id = ?", rows)

        if rows:
            await self._run(delete)

    async def dead_letter(
        self, vendor: str, entries: Sequence[tuple[str, str]], reason: str, now: float
    ) -> None:
        def move(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT INTO hit_dead_letters (vendor, dead_at, reason, body)"
                    " VALUES (?, ?, ?, ?)",
                    [(vendor, now, reason, body) for _, body in entries],
                )
                connection.executemany(
                    "DELETE FROM hit_queue WHERE id = ?", [(int(i),) for i, _ in entries]
                )
                connection.execute(
                    "DELETE FROM hit_dead_letters WHERE vendor = ? AND id <= ("
                    " SELECT id FROM hit_dead_letters WHERE vendor = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (vendor, vendor, DEAD_LETTERS_KEPT),
                )

        if entries:
            await self._run(move)

    async def depths(self, vendors: Sequence[str]) -> dict[str, QueueDepth]:
        def read(connection: sqlite3.Connection) -> dict[str, QueueDepth]:
            found = {}
            for vendor in vendors:
                row = connection.execute(
                    "SELECT depth FROM hit_queue_depth WHERE vendor = ?", (vendor,)
                ).fetchone()
                oldest = connection.execute(
                    "SELECT queued_at FROM hit_queue WHERE vendor = ? ORDER BY id LIMIT 1",
                    (vendor,),
                ).fetchone()
                found[vendor] = QueueDepth(row[0] if row else 0, oldest[0] if oldest else None)
            return found

        return await self._run(read)

    async def dead_letters(self, vendor: str, limit: int = 100) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = await self._run(
            lambda connection: connection.execute(
                "SELECT reason, body FROM hit_dead_letters WHERE vendor = ?"
                " ORDER BY id DESC LIMIT ?",
                (vendor, limit),
            ).fetchall()
        )
        return rows


def _decode(body: str) -> QueuedHit | None:
    try:
        return QueuedHit.from_json(body)
    except (ValueError, KeyError, TypeError):
        return None
