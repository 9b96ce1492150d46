"""The hit queue in the embedded store: one table, a vendor column, a lease per taken row.

It runs on its store's connection (and thread, `gateway.store.sqlite_connection`); WAL lets
the edge append while a worker in another process takes and acknowledges. The depth and
size in bytes per vendor are kept by triggers (the file's schema and its versions:
`gateway.store.sqlite_schema`), so the cap check at append time is O(1) however long the
queue is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from gateway.delivery.queue import (
    DEAD_LETTERS_KEPT,
    QueueCap,
    QueueDepth,
    QueuedHit,
    Refused,
    Taken,
    cap_of,
)
from gateway.store.sqlite_connection import SQLiteConnection

T = TypeVar("T")


class SQLiteHitQueue:
    def __init__(self, database: SQLiteConnection) -> None:
        self._database = database

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._database.run(work)

    async def append(self, hits: Sequence[QueuedHit], cap: int | QueueCap) -> Refused:
        limit = cap_of(cap)

        def insert(connection: sqlite3.Connection) -> Refused:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                shares = _Shares(connection, limit)
                accepted = [q for q in hits if shares.admit(q)]
                connection.executemany(
                    "INSERT INTO hit_queue (vendor, queued_at, body, subject_hash, client)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (q.hit.vendor, q.queued_at, q.to_json(), q.subject_hash, q.client)
                        for q in accepted
                    ],
                )
            return shares.refused

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
                    "SELECT depth, bytes FROM hit_queue_depth WHERE vendor = ?", (vendor,)
                ).fetchone()
                oldest = connection.execute(
                    "SELECT queued_at FROM hit_queue WHERE vendor = ? ORDER BY id LIMIT 1",
                    (vendor,),
                ).fetchone()
                depth, size = row if row else (0, 0)
                found[vendor] = QueueDepth(depth, oldest[0] if oldest else None, size)
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


class _Shares:
    """What each vendor's queue still admits, read once per append (under its write lock)."""

    def __init__(self, connection: sqlite3.Connection, cap: QueueCap) -> None:
        self.connection, self.cap = connection, cap
        self.room = {
            vendor: [depth, size, anonymous]
            for vendor, depth, size, anonymous in connection.execute(
                "SELECT vendor, depth, bytes, anonymous FROM hit_queue_depth"
            )
        }
        self.clients: dict[tuple[str, str], int] = {}
        self.refused: Refused = {}

    def admit(self, queued: QueuedHit) -> bool:
        vendor, cap = queued.hit.vendor, self.cap
        used = self.room.setdefault(vendor, [0, 0, 0])
        size = len(queued.encoded())  # its JSON as stored (UTF-8)
        reason = None
        if used[0] >= cap.entries or used[1] + size > cap.bytes:
            reason = "cap"
        elif queued.anonymous and used[2] >= cap.anonymous_most:
            reason = "anonymous_share"
        elif queued.client and used[0] * 2 >= cap.entries:
            held = self._held(vendor, queued.client)
            if held >= cap.client_most:
                reason = "client_share"
        if reason is not None:
            counts = self.refused.setdefault(vendor, {})
            counts[reason] = counts.get(reason, 0) + 1
            return False
        used[0], used[1], used[2] = used[0] + 1, used[1] + size, used[2] + queued.anonymous
        if queued.client:
            key = (vendor, queued.client)
            self.clients[key] = self._held(vendor, queued.client) + 1
        return True

    def _held(self, vendor: str, client: str) -> int:
        """How many entries `client` holds in `vendor`'s queue (counted once per append)."""
        key = (vendor, client)
        if key not in self.clients:
            (self.clients[key],) = self.connection.execute(
                "SELECT count(*) FROM hit_queue WHERE vendor = ? AND client = ?", key
            ).fetchone()
        return self.clients[key]


def _decode(body: str) -> QueuedHit | None:
    try:
        return QueuedHit.from_json(body)
    except (ValueError, KeyError, TypeError):
        return None
