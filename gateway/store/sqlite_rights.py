"""The SQLite store's part for people's rights and retention: objections, tombstones, erasure,
the purge of expired data, and leases for periodic jobs. Mixed into `SQLiteStore`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from gateway.consent.objections import Objection
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.settings import Settings
from gateway.store import retention_rules
from gateway.store.base import PurgeProgress, SubjectStanding, latest_choice
from gateway.store.hit_queue_layout import DEAD_LETTER_SECONDS
from gateway.store.shared import CLICK_WINDOW_SECONDS

T = TypeVar("T")
PURGE_BATCH = 5000

# Tombstone wins: appended to `INSERT … SELECT <values>` with the subject's hash as the last
# parameter, so the check and the write are one statement in one transaction.
NOT_ERASED = "WHERE NOT EXISTS (SELECT 1 FROM suppressions WHERE subject_hash = ?)"


class SQLiteRights:
    settings: Settings

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError  # provided by SQLiteStore

    async def put_objection(self, objection: Objection) -> None:
        row = (
            objection.subject_id,
            objection.updated_at,
            objection.to_json(),
            tombstone_id(objection.subject_id),
        )
        await self._run(
            lambda connection: connection.execute(
                f"INSERT OR REPLACE INTO objections SELECT ?, ?, ? {NOT_ERASED}", row
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

    async def note_choice_change(self, subject_id: str, at: float) -> None:
        row = (subject_id, at, tombstone_id(subject_id))
        await self._run(
            lambda connection: connection.execute(
                f"INSERT OR REPLACE INTO choice_changes SELECT ?, ? {NOT_ERASED}", row
            )
        )

    async def choice_changes_since(self, since: float) -> list[str]:
        rows = await self._run(
            lambda connection: connection.execute(
                "SELECT subject_id FROM choice_changes WHERE changed_at >= ?", (since,)
            ).fetchall()
        )
        return [subject for (subject,) in rows]

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

        return await self._run(read) if subjects else {}

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
                if _has_table(connection, "hit_queue"):
                    connection.execute(
                        "DELETE FROM hit_queue WHERE subject_hash = ?", (tombstone_id(subject_id),)
                    )
            return counts

        return await self._run(erase)

    async def purge(self, now: float, progress: PurgeProgress | None = None) -> dict[str, int]:
        receipts_before = retention_rules.receipts_cutoff(self.settings, now)
        events_before = retention_rules.events_cutoff(self.settings, now)
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
                retention_rules.counts_first_kept_day(self.settings, now),
            ),
        }
        # Working data, not a kind to count: click windows past their minute.
        await self._run(
            lambda connection: connection.execute(
                "DELETE FROM email_clicks WHERE at < ?", (now - CLICK_WINDOW_SECONDS,)
            )
        )
        # Choices made again longer ago than any consent token lives: no token they supersede.
        await self._run(
            lambda connection: connection.execute(
                "DELETE FROM choice_changes WHERE changed_at < ?",
                (retention_rules.tokens_cutoff(self.settings, now),),
            )
        )
        # And the delivery queue's dead letters past their week (`hit_queue_layout`).
        await self._run(
            lambda connection: (
                _has_table(connection, "hit_dead_letters")
                and connection.execute(
                    "DELETE FROM hit_dead_letters WHERE dead_at < ?", (now - DEAD_LETTER_SECONDS,)
                )
            )
        )
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


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    """The delivery queue's tables exist once a queue was opened on this file."""
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None


# Where each kind of `retention_rules.ERASED_KINDS` is kept.
_SUBJECT_TABLES = {
    "receipts": "receipts",
    "email_events": "email_events",
    "email_consent": "recipient_consents",
    "objections": "objections",
}
