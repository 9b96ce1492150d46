"""The SQLite backend's purge of expired data: receipts past the receipt retention, email
events and counters past the event retention, in batches (a writer waits at most one batch);
and working data: click windows past their minute, choices made again before any living
consent token, the delivery queue's dead letters past their week."""

from __future__ import annotations

import sqlite3

from gateway.store import retention_rules
from gateway.store.base import PurgeProgress
from gateway.store.hit_queue_layout import DEAD_LETTER_SECONDS
from gateway.store.shared import CLICK_WINDOW_SECONDS
from gateway.store.sqlite_connection import SQLiteConnection
from gateway.store.store_settings import StoreSettings

PURGE_BATCH = 5000


class SQLitePurge:
    def __init__(self, database: SQLiteConnection, settings: StoreSettings) -> None:
        self._database, self.settings = database, settings

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
        await self._database.run(
            lambda connection: connection.execute(
                "DELETE FROM email_clicks WHERE at < ?", (now - CLICK_WINDOW_SECONDS,)
            )
        )
        # Choices made again longer ago than any consent token lives: no token they supersede.
        await self._database.run(
            lambda connection: connection.execute(
                "DELETE FROM choice_changes WHERE changed_at < ?",
                (retention_rules.tokens_cutoff(self.settings, now),),
            )
        )
        # And the delivery queue's dead letters past their week (`hit_queue_layout`).
        await self._database.run(
            lambda connection: connection.execute(
                "DELETE FROM hit_dead_letters WHERE dead_at < ?", (now - DEAD_LETTER_SECONDS,)
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
                deleted = await self._database.run(delete_batch)
                removed[kind] += deleted
                if progress is not None and deleted:
                    progress(kind, removed[kind])
                if deleted < PURGE_BATCH:
                    break
        return removed
