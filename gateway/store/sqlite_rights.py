"""The SQLite store's part for people's rights and retention: objections, tombstones, erasure,
the purge of expired data, and leases for periodic jobs. Mixed into `SQLiteStore`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from gateway.consent.objections import Objection
from gateway.email.records import tombstone_id
from gateway.receipts.model import day_of
from gateway.settings import Settings
from gateway.store.base import PurgeProgress

T = TypeVar("T")
PURGE_BATCH = 5000


class SQLiteRights:
    settings: Settings

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError  # provided by SQLiteStore

    async def put_objection(self, objection: Objection) -> None:
        row = (objection.subject_id, objection.updated_at, objection.to_json())
        await self._run(
            lambda connection: connection.execute(
                "INSERT OR REPLACE INTO objections VALUES (?, ?, ?)", row
            )
        )

    async def subject_objection(self, subject_id: str) -> Objection | None:
        row = await self._run(
            lambda connection: connection.execute(
                "SELECT body FROM objections WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        )
        return None if row is None else Objection.from_json(row[0])

    async def objections_since(self, since: float) -> list[Objection]:
        rows = await self._run(
            lambda connection: connection.execute(
                "SELECT body FROM objections WHERE updated_at >= ? ORDER BY updated_at", (since,)
            ).fetchall()
        )
        return [Objection.from_json(body) for (body,) in rows]

    async def suppression(self, subject_id: str) -> float | None:
        row = await self._run(
            lambda connection: connection.execute(
                "SELECT erased_at FROM suppressions WHERE subject_hash = ?",
                (tombstone_id(subject_id),),
            ).fetchone()
        )
        return None if row is None else float(row[0])

    async def suppressions_since(self, since: float) -> dict[str, float]:
        rows: list[tuple[str, float]] = await self._run(
            lambda connection: connection.execute(
                "SELECT subject_hash, erased_at FROM suppressions WHERE erased_at >= ?", (since,)
            ).fetchall()
        )
        return dict(rows)

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        def erase(connection: sqlite3.Connection) -> dict[str, int]:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                counts = {
                    kind: connection.execute(
                        f"DELETE FROM {table} WHERE subject_id = ?",  # noqa: S608 - fixed names
                        (subject_id,),
                    ).rowcount
                    for kind, table in _SUBJECT_TABLES.items()
                }
                connection.execute(
                    "INSERT OR REPLACE INTO suppressions VALUES (?, ?)",
                    (tombstone_id(subject_id), erased_at),
                )
            return counts

        return await self._run(erase)

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        receipts_before = now - self.settings.receipt_retention_days * 86400
        events_before = now - self.settings.event_retention_days * 86400
        plan = {
            "receipts": (
                "DELETE FROM receipts WHERE receipt_id IN (SELECT receipt_id FROM receipts"
                " WHERE created_at < ? ORDER BY created_at LIMIT ?)",
                receipts_before,
            ),
            "email_events": (
                "DELETE FROM email_events WHERE event_id IN (SELECT event_id FROM email_events"
                " WHERE created_at < ? ORDER BY created_at LIMIT ?)",
                events_before,
            ),
            "counts": (
                "DELETE FROM counts WHERE (metric, day, label) IN"
                " (SELECT metric, day, label FROM counts WHERE day < ? LIMIT ?)",
                day_of(events_before),
            ),
        }
        removed = dict.fromkeys(plan, 0)
        for kind, (statement, cutoff) in plan.items():
            # In batches: a writer waits at most one batch, however much has expired.
            def delete_batch(
                connection: sqlite3.Connection, statement: str = statement, cutoff: object = cutoff
            ) -> int:
                return int(connection.execute(statement, (cutoff, PURGE_BATCH)).rowcount)

            while True:
                deleted = await self._run(delete_batch)
                removed[kind] += deleted
                if progress is not None and deleted:
                    progress(kind, removed[kind])
                if deleted < PURGE_BATCH:
                    break
        return removed

    async def claim(self, name: str, seconds: float, now: float) -> bool:
        def take(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO leases VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET until = excluded.until WHERE leases.until <= ?",
                (name, now + seconds, now),
            )
            return cursor.rowcount == 1

        return await self._run(take)


# What `erase_subject` deletes, by the name of its count.
_SUBJECT_TABLES = {
    "receipts": "receipts",
    "email_events": "email_events",
    "email_consent": "recipient_consents",
    "objections": "objections",
}
