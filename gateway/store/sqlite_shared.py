"""The SQLite backend's shared-state facet (`gateway.store.shared`): the workers of
`serve --workers N` share one database file, so they share this too."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from gateway.model.tombstones import tombstone_id
from gateway.store.shared import (
    CLICK_WINDOW_SECONDS,
    EVERY_CLICK,
    HONEYPOT_CLICK,
    Click,
    ClickSpan,
)
from gateway.store.sqlite_connection import SQLiteConnection


class SQLiteShared:
    def __init__(self, database: SQLiteConnection) -> None:
        self._database = database

    async def mark(self, name: str, now: float) -> float | None:
        row = await self._database.run(
            lambda connection: connection.execute(
                "SELECT until FROM marks WHERE name = ? AND until > ?", (name, now)
            ).fetchone()
        )
        return None if row is None else float(row[0])

    async def set_mark(self, name: str, until: float) -> None:
        def write(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", (name, until))
                connection.execute("DELETE FROM marks WHERE until < ?", (until - 86400 * 2,))

        await self._database.run(write)

    async def push_mark(self, name: str, by: float, now: float, most: float) -> float:
        def push(connection: sqlite3.Connection) -> float:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                row = connection.execute("SELECT until FROM marks WHERE name = ?", (name,))
                held = (row.fetchone() or (0.0,))[0]
                moved = min(max(held, now) + by, now + most)
                connection.execute("INSERT OR REPLACE INTO marks VALUES (?, ?)", (name, moved))
                connection.execute("DELETE FROM marks WHERE until < ?", (now,))
            return float(moved)

        return await self._database.run(push)

    async def bump_changes(self) -> None:
        await self._database.run(
            lambda connection: connection.execute(
                "INSERT INTO changes VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET counter = counter + 1"
            )
        )

    async def changes(self) -> int:
        row = await self._database.run(
            lambda connection: connection.execute("SELECT counter FROM changes").fetchone()
        )
        return 0 if row is None else int(row[0])

    async def add_clicks(self, clicks: Sequence[Click], now: float) -> None:
        rows = [(c.message, c.at, c.link, h, h) for c in clicks if (h := tombstone_id(c.subject))]

        def insert(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(  # an erased subject's clicks are not kept
                    "INSERT INTO email_clicks SELECT ?, ?, ?, ? WHERE NOT EXISTS"
                    " (SELECT 1 FROM suppressions WHERE subject_hash = ?)",
                    rows,
                )
                connection.execute(
                    "DELETE FROM email_clicks WHERE at < ?", (now - CLICK_WINDOW_SECONDS,)
                )

        if rows:
            await self._database.run(insert)

    async def message_clicks(
        self, messages: Sequence[tuple[str, str]], span: ClickSpan = EVERY_CLICK
    ) -> dict[str, list[tuple[float, int]]]:
        names = list(dict.fromkeys(message for message, _ in messages))

        def read(connection: sqlite3.Connection) -> dict[str, list[tuple[float, int]]]:
            found: dict[str, list[tuple[float, int]]] = {name: [] for name in names}
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for message, at, link in connection.execute(
                    "SELECT message, at, link FROM email_clicks"  # noqa: S608
                    f" WHERE message IN ({marks}) AND (at BETWEEN ? AND ?"
                    " OR link = ? AND at BETWEEN ? AND ?)",
                    [*chunk, span.since, span.until, HONEYPOT_CLICK, *span[2:]],
                ):
                    found[message].append((at, link))
            return found

        return await self._database.run(read) if names else {}

    async def put_heartbeat(self, instance: str, figures: str, now: float, ttl: float) -> None:
        def write(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(
                    "INSERT OR REPLACE INTO heartbeats VALUES (?, ?, ?)",
                    (instance, now + ttl, figures),
                )
                connection.execute("DELETE FROM heartbeats WHERE until < ?", (now,))

        await self._database.run(write)

    async def heartbeats(self, now: float) -> Mapping[str, str]:
        rows: list[tuple[str, str]] = await self._database.run(
            lambda connection: connection.execute(
                "SELECT instance, figures FROM heartbeats WHERE until >= ? ORDER BY instance",
                (now,),
            ).fetchall()
        )
        return dict(rows)

    async def claim(self, name: str, seconds: float, now: float) -> bool:
        def take(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO leases VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET until = excluded.until WHERE leases.until <= ?",
                (name, now + seconds, now),
            )
            return cursor.rowcount == 1

        return await self._database.run(take)
