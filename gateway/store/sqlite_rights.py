"""The SQLite backend's rights facet: objections, choice changes, tombstones and erasure."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gateway.consent.objections import Objection
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.store import retention_rules
from gateway.store.base import SubjectStanding, latest_choice
from gateway.store.sqlite_connection import NOT_ERASED, SQLiteConnection


class SQLiteRights:
    def __init__(self, database: SQLiteConnection) -> None:
        self._database = database

    async def put_objection(self, objection: Objection) -> None:
        row = (
            objection.subject_id,
            objection.updated_at,
            objection.to_json(),
            tombstone_id(objection.subject_id),
        )
        await self._database.run(
            lambda connection: connection.execute(
                f"INSERT OR REPLACE INTO objections SELECT ?, ?, ? {NOT_ERASED}", row
            )
        )

    async def subject_objection(self, subject_id: str) -> Objection | None:
        row = await self._database.run(
            lambda connection: connection.execute(
                "SELECT body FROM objections WHERE subject_id = ?", (subject_id,)
            ).fetchone()
        )
        return None if row is None else Objection.from_json(row[0])

    async def objections_since(self, since: float) -> list[Objection]:
        rows = await self._database.run(
            lambda connection: connection.execute(
                "SELECT body FROM objections WHERE updated_at >= ? ORDER BY updated_at", (since,)
            ).fetchall()
        )
        return [Objection.from_json(body) for (body,) in rows]

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        row = (subject_id, at, tombstone_id(subject_id))
        await self._database.run(
            lambda connection: connection.execute(
                f"INSERT OR REPLACE INTO choice_changes SELECT ?, ? {NOT_ERASED}", row
            )
        )

    async def choice_changes_since(self, since: float) -> list[str]:
        rows = await self._database.run(
            lambda connection: connection.execute(
                "SELECT subject_id FROM choice_changes WHERE changed_at >= ?", (since,)
            ).fetchall()
        )
        return [subject for (subject,) in rows]

    async def suppression(self, subject_id: str) -> float | None:
        row = await self._database.run(
            lambda connection: connection.execute(
                "SELECT erased_at FROM suppressions WHERE subject_hash = ?",
                (tombstone_id(subject_id),),
            ).fetchone()
        )
        return None if row is None else float(row[0])

    async def suppressions_since(self, since: float) -> dict[str, float]:
        rows: list[tuple[str, float]] = await self._database.run(
            lambda connection: connection.execute(
                "SELECT subject_hash, erased_at FROM suppressions WHERE erased_at >= ?", (since,)
            ).fetchall()
        )
        return dict(rows)

    async def subject_standings(self, subject_ids: Sequence[str]) -> dict[str, SubjectStanding]:
        subjects = list(dict.fromkeys(subject_ids))

        def read(connection: sqlite3.Connection) -> dict[str, SubjectStanding]:
            erased: set[str] = set()
            objections: dict[str, Objection] = {}
            receipts: dict[str, list[Receipt]] = {}
            for at in range(0, len(subjects), 500):
                chunk = subjects[at : at + 500]
                marks = ",".join("?" * len(chunk))
                hashes = {tombstone_id(s): s for s in chunk}
                erased.update(
                    hashes[h]
                    for (h,) in connection.execute(
                        f"SELECT subject_hash FROM suppressions WHERE subject_hash IN ({marks})",  # noqa: S608
                        list(hashes),
                    )
                )
                for subject, body in connection.execute(
                    f"SELECT subject_id, body FROM objections WHERE subject_id IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    objections[subject] = Objection.from_json(body)
                for subject, body in connection.execute(
                    f"SELECT subject_id, body FROM receipts WHERE subject_id IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    receipts.setdefault(subject, []).append(Receipt.from_json(body))
            return {
                s: SubjectStanding(
                    s in erased, objections.get(s), latest_choice(receipts.get(s, ()))
                )
                for s in subjects
            }

        return await self._database.run(read) if subjects else {}

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        def erase(connection: sqlite3.Connection) -> dict[str, int]:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                counts = {
                    kind: connection.execute(
                        f"DELETE FROM {_SUBJECT_TABLES[kind]} WHERE subject_id = ?",  # noqa: S608
                        (subject_id,),
                    ).rowcount
                    for kind in retention_rules.ERASED_KINDS
                }
                # The first erasure's date stays: it is when the request was carried out.
                connection.execute(
                    "INSERT OR IGNORE INTO suppressions VALUES (?, ?)",
                    (tombstone_id(subject_id), erased_at),
                )
                # Working data, not a kind to count: the feed of choices made again, and the
                # email burst window's clicks.
                connection.execute("DELETE FROM choice_changes WHERE subject_id = ?", (subject_id,))
                connection.execute(
                    "DELETE FROM email_clicks WHERE subject_hash = ?", (tombstone_id(subject_id),)
                )
                # Working data too, but personal: the subject's hits waiting for delivery.
                connection.execute(
                    "DELETE FROM hit_queue WHERE subject_hash = ?", (tombstone_id(subject_id),)
                )
            return counts

        return await self._database.run(erase)


# Where each kind of `retention_rules.ERASED_KINDS` is kept.
_SUBJECT_TABLES = {
    "receipts": "receipts",
    "email_events": "email_events",
    "email_consent": "recipient_consents",
    "objections": "objections",
}
