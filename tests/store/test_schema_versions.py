"""The SQLite file's schema versions: a database made by the release before versions opens,
is migrated once, and keeps every queued hit with its size counted."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from gateway.delivery.queue import QueueCap, QueuedHit, open_hit_queue
from gateway.model.outbound_hits import OutboundHit
from gateway.settings import Settings
from gateway.store import open_store
from gateway.store.sqlite_schema import VERSION

# The DDL of the release before schema versions (the store's, its shared state's and the hit
# queue's tables, as that release's code created them on every open), copied as it was.
PREVIOUS_RELEASE = """
CREATE TABLE IF NOT EXISTS receipts (
    receipt_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_by_time ON receipts (created_at, receipt_id);
CREATE INDEX IF NOT EXISTS receipts_by_subject ON receipts (subject_id, created_at);
CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    label TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (metric, day, label)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recipient_consents (
    subject_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS email_events (
    event_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS email_events_by_subject ON email_events (subject_id, created_at);
CREATE INDEX IF NOT EXISTS email_events_by_time ON email_events (created_at);
CREATE TABLE IF NOT EXISTS suppressions (
    subject_hash TEXT PRIMARY KEY,
    erased_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS suppressions_by_time ON suppressions (erased_at);
CREATE TABLE IF NOT EXISTS objections (
    subject_id TEXT PRIMARY KEY,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objections_by_time ON objections (updated_at);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
);
DROP TABLE IF EXISTS message_clicks;
CREATE TABLE IF NOT EXISTS email_clicks (
    message TEXT NOT NULL,
    at REAL NOT NULL,
    link INTEGER NOT NULL,
    subject_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS email_clicks_by_message ON email_clicks (message, at);
CREATE INDEX IF NOT EXISTS email_clicks_by_time ON email_clicks (at);
CREATE INDEX IF NOT EXISTS email_clicks_by_subject ON email_clicks (subject_hash);
CREATE TABLE IF NOT EXISTS heartbeats (
    instance TEXT PRIMARY KEY,
    until REAL NOT NULL,
    figures TEXT NOT NULL
) WITHOUT ROWID;

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
PREVIOUS_SUBJECT_COLUMN = (
    "CREATE INDEX IF NOT EXISTS hit_queue_by_subject ON hit_queue (subject_hash)"
    " WHERE subject_hash IS NOT NULL"
)


def hit(n: int, consent_id: str = "c1") -> QueuedHit:
    url = f"https://v.example/c?cid={consent_id}&n={n}"
    return QueuedHit(
        OutboundHit("ga4", "GET", url, (("User-Agent", "ua"),)), consent_id, 1000.0 + n
    )


def previous_release_database(path: Path, hits: list[QueuedHit]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(PREVIOUS_RELEASE)
    connection.execute(PREVIOUS_SUBJECT_COLUMN)
    connection.executemany(
        "INSERT INTO hit_queue (vendor, queued_at, body, subject_hash) VALUES (?, ?, ?, ?)",
        [(q.hit.vendor, q.queued_at, q.to_json(), q.subject_hash) for q in hits],
    )
    connection.execute("INSERT INTO receipts VALUES ('r1', 's1', 1000.0, '{}')")
    assert connection.execute("PRAGMA user_version").fetchone() == (0,)
    connection.close()


def version_and_columns(path: Path) -> tuple[int, set[str]]:
    connection = sqlite3.connect(path)
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        columns = {row[1] for row in connection.execute("PRAGMA table_info(hit_queue_depth)")}
    finally:
        connection.close()
    return version, columns


async def test_a_database_of_the_previous_release_is_migrated_and_keeps_its_hits(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = tmp_path / "old.sqlite3"
    hits = [hit(n) for n in range(5)]
    previous_release_database(path, hits)
    settings = make_settings(store=f"sqlite:///{path}")
    store = open_store(settings)
    await store.open()
    queue = open_hit_queue(store, settings.delivery.shards)
    try:
        assert version_and_columns(path) == (VERSION, {"vendor", "depth", "bytes", "anonymous"})
        depth = (await queue.depths(["ga4"]))["ga4"]
        assert depth.depth == 5
        assert depth.bytes == sum(len(q.to_json()) for q in hits)  # counted by the migration
        taken = await queue.take("ga4", "w1", 10, 30.0, now=2000.0)
        assert [t.hit for t in taken] == hits
        await queue.ack("ga4", [t.entry_id for t in taken[:2]])
        assert (await queue.depths(["ga4"]))["ga4"].bytes == sum(len(q.to_json()) for q in hits[2:])
        # The byte cap holds on the migrated queue: no room for one more of these.
        full = QueueCap(100, sum(len(q.to_json()) for q in hits[2:]) + 10)
        assert await queue.append([hit(9)], full) == {"ga4": {"cap": 1}}
        # Erasure still finds the migrated entries by their subject.
        await store.rights.erase_subject("c1", 3000.0)
        assert (await queue.depths(["ga4"]))["ga4"].depth == 0
    finally:
        await store.close()


async def test_opening_again_migrates_nothing_and_a_new_file_starts_current(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    path = tmp_path / "new.sqlite3"
    for _ in range(2):
        queue_store = open_store(make_settings(store=f"sqlite:///{path}"))
        await queue_store.open()
        queue = open_hit_queue(queue_store)
        await queue.append([hit(1)], cap=10)
        await queue_store.close()
        assert version_and_columns(path) == (VERSION, {"vendor", "depth", "bytes", "anonymous"})
    queue_store = open_store(make_settings(store=f"sqlite:///{path}"))
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    try:
        depth = (await queue.depths(["ga4"]))["ga4"]
        assert (depth.depth, depth.bytes) == (2, 2 * len(hit(1).to_json()))
    finally:
        await queue_store.close()
