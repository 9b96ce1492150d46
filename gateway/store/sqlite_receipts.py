"""The SQLite backend's receipts, counters and email records (facets of `SQLiteStore`).

Tombstone wins: each write under a subject is `INSERT … SELECT … WHERE NOT EXISTS` its
tombstone (`NOT_ERASED`), one statement in one transaction.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence

from gateway.model.email_events import EmailEvent, RecipientConsent
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.store import retention_rules
from gateway.store.base import CountKey
from gateway.store.sqlite_connection import NOT_ERASED, SQLiteConnection
from gateway.store.store_settings import StoreSettings


class SQLiteReceipts:
    def __init__(self, database: SQLiteConnection) -> None:
        self._database = database

    async def add_receipts(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        rows = [
            (r.receipt_id, r.subject_id, r.created_at, r.to_json(), tombstone_id(r.subject_id))
            for r in receipts
        ]

        def insert(connection: sqlite3.Connection) -> list[Receipt]:
            stored = []
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                for receipt, row in zip(receipts, rows, strict=True):
                    cursor = connection.execute(
                        f"INSERT OR IGNORE INTO receipts SELECT ?, ?, ?, ? {NOT_ERASED}", row
                    )
                    if cursor.rowcount == 1:
                        stored.append(receipt)
            return stored

        return await self._database.run(insert) if rows else []

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        rows = await self._database.run(
            lambda connection: connection.execute(
                "SELECT body FROM receipts WHERE subject_id = ? ORDER BY created_at, receipt_id",
                (subject_id,),
            ).fetchall()
        )
        return [Receipt.from_json(body) for (body,) in rows]

    async def iter_receipts(
        self, since: float | None = None, until: float | None = None, page: int = 1000
    ) -> AsyncIterator[Receipt]:
        after = (float("-inf") if since is None else since, "")
        end = float("inf") if until is None else until
        query = (
            "SELECT created_at, receipt_id, body FROM receipts"
            " WHERE (created_at, receipt_id) > (?, ?) AND created_at < ?"
            " ORDER BY created_at, receipt_id LIMIT ?"
        )
        while True:
            arguments = (*after, end, page)
            rows: list[tuple[float, str, str]] = await self._database.run(
                lambda connection: connection.execute(query, arguments).fetchall()  # noqa: B023
            )
            for _, _, body in rows:
                yield Receipt.from_json(body)
            if len(rows) < page:
                return
            after = (rows[-1][0], rows[-1][1])

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        rows = await self._database.run(
            lambda connection: connection.execute(
                "SELECT body FROM receipts ORDER BY created_at DESC, receipt_id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [Receipt.from_json(body) for (body,) in rows]


class SQLiteCounts:
    def __init__(self, database: SQLiteConnection) -> None:
        self._database = database

    async def add_counts(self, counts: Mapping[CountKey, int]) -> None:
        rows = [(key.day, key.metric, key.label, value) for key, value in counts.items()]

        def upsert(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT INTO counts VALUES (?, ?, ?, ?) ON CONFLICT (metric, day, label)"
                    " DO UPDATE SET value = value + excluded.value",
                    rows,
                )

        await self._database.run(upsert)

    async def counts(self, metric: str, first_day: str, last_day: str) -> dict[CountKey, int]:
        rows: list[tuple[str, str, int]] = await self._database.run(
            lambda connection: connection.execute(
                "SELECT day, label, value FROM counts WHERE metric = ? AND day BETWEEN ? AND ?",
                (metric, first_day, last_day),
            ).fetchall()
        )
        return {CountKey(day, metric, label): value for day, label, value in rows}


class SQLiteEmail:
    def __init__(self, database: SQLiteConnection, settings: StoreSettings) -> None:
        self._database, self.settings = database, settings

    async def put_recipient_consent(self, consent: RecipientConsent) -> None:
        row = (consent.subject_id, consent.to_json(), tombstone_id(consent.subject_id))
        await self._database.run(
            lambda connection: connection.execute(
                f"INSERT OR REPLACE INTO recipient_consents SELECT ?, ? {NOT_ERASED}", row
            )
        )

    async def recipient_consents(self, subject_ids: Sequence[str]) -> dict[str, RecipientConsent]:
        subjects = list(dict.fromkeys(subject_ids))

        def read(connection: sqlite3.Connection) -> dict[str, RecipientConsent]:
            found: dict[str, RecipientConsent] = {}
            for start in range(0, len(subjects), 500):
                chunk = subjects[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for (body,) in connection.execute(
                    f"SELECT body FROM recipient_consents WHERE subject_id IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    consent = RecipientConsent.from_json(body)
                    found[consent.subject_id] = consent
                hashes = {tombstone_id(subject): subject for subject in chunk}
                for subject_hash, erased_at in connection.execute(
                    f"SELECT subject_hash, erased_at FROM suppressions WHERE subject_hash IN ({marks})",  # noqa: S608
                    list(hashes),
                ):
                    subject = hashes[subject_hash]
                    found[subject] = retention_rules.erased_consent(subject, erased_at)
            return found

        return await self._database.run(read)

    def _event_cutoff(self) -> float:
        return retention_rules.events_cutoff(self.settings, time.time())

    async def add_email_events(self, events: Sequence[EmailEvent]) -> None:
        rows = [
            (e.event_id, e.subject_id, e.created_at, e.to_json(), tombstone_id(e.subject_id))
            for e in events
        ]
        cutoff = self._event_cutoff()

        def insert(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    f"INSERT OR IGNORE INTO email_events SELECT ?, ?, ?, ? {NOT_ERASED}", rows
                )
                # Retention: expired events go as new ones arrive (an indexed range, usually empty).
                connection.execute("DELETE FROM email_events WHERE created_at < ?", (cutoff,))

        await self._database.run(insert)

    async def email_events(self, subject_id: str) -> list[EmailEvent]:
        rows = await self._database.run(
            lambda connection: connection.execute(
                "SELECT body FROM email_events WHERE subject_id = ? AND created_at >= ?"
                " ORDER BY created_at, event_id",
                (subject_id, self._event_cutoff()),
            ).fetchall()
        )
        return [EmailEvent.from_json(body) for (body,) in rows]
