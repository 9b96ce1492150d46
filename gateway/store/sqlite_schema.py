"""The SQLite file's schema, versioned: `PRAGMA user_version` says which migrations ran.

One file holds the store's tables and the hit queue's (their connections share it), so one
list of migrations serves both, applied in order under the write lock by whichever connection
opens first; the next finds the version current and does nothing. A change to a table is a
new migration at the end of `MIGRATIONS`, never an edit of an old one.

=======  ====================================================================================
version  what it does
=======  ====================================================================================
0        a file made before versions: whatever tables its release created
1        the baseline: every table of the first versioned release, created if missing;
         `hit_queue.subject_hash` added to a queue from before it; `message_clicks` dropped
2        `hit_queue_depth.bytes`: each vendor's queue size in bytes, kept by triggers (the
         queue's cap in bytes is checked at append in O(1))
3        `hit_queue.client` (the sender's network, hashed; indexed per vendor) and
         `hit_queue_depth.anonymous` (entries without consent): the queue's fair shares
=======  ====================================================================================
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]

_TABLES = [
    """CREATE TABLE IF NOT EXISTS receipts (
    receipt_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
)""",
    """CREATE INDEX IF NOT EXISTS receipts_by_time ON receipts (created_at, receipt_id)""",
    """CREATE INDEX IF NOT EXISTS receipts_by_subject ON receipts (subject_id, created_at)""",
    """CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL,
    metric TEXT NOT NULL,
    label TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (metric, day, label)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS recipient_consents (
    subject_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS email_events (
    event_id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
)""",
    """CREATE INDEX IF NOT EXISTS email_events_by_subject ON email_events (subject_id, created_at)""",
    """CREATE INDEX IF NOT EXISTS email_events_by_time ON email_events (created_at)""",
    """CREATE TABLE IF NOT EXISTS suppressions (
    subject_hash TEXT PRIMARY KEY,
    erased_at REAL NOT NULL
) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS suppressions_by_time ON suppressions (erased_at)""",
    """CREATE TABLE IF NOT EXISTS objections (
    subject_id TEXT PRIMARY KEY,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS objections_by_time ON objections (updated_at)""",
    """CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS email_clicks (
    message TEXT NOT NULL,
    at REAL NOT NULL,
    link INTEGER NOT NULL,
    subject_hash TEXT NOT NULL
)""",
    """CREATE INDEX IF NOT EXISTS email_clicks_by_message ON email_clicks (message, at)""",
    """CREATE INDEX IF NOT EXISTS email_clicks_by_time ON email_clicks (at)""",
    """CREATE INDEX IF NOT EXISTS email_clicks_by_subject ON email_clicks (subject_hash)""",
    """CREATE TABLE IF NOT EXISTS heartbeats (
    instance TEXT PRIMARY KEY,
    until REAL NOT NULL,
    figures TEXT NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS hit_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a stale ack cannot hit a new row
    vendor TEXT NOT NULL,
    queued_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    owner TEXT NOT NULL DEFAULT '',
    sending INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    subject_hash TEXT  -- the subject's tombstone hash: erasure deletes its entries
)""",
    """CREATE INDEX IF NOT EXISTS hit_queue_by_vendor ON hit_queue (vendor, id)""",
    """CREATE TABLE IF NOT EXISTS hit_queue_depth (
    vendor TEXT PRIMARY KEY,
    depth INTEGER NOT NULL
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS hit_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor TEXT NOT NULL,
    dead_at REAL NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL
)""",
    """CREATE INDEX IF NOT EXISTS hit_dead_letters_by_vendor ON hit_dead_letters (vendor, id)""",
    """CREATE INDEX IF NOT EXISTS hit_dead_letters_by_time ON hit_dead_letters (dead_at)""",
]

_SUBJECT_INDEX = (
    "CREATE INDEX IF NOT EXISTS hit_queue_by_subject ON hit_queue (subject_hash)"
    " WHERE subject_hash IS NOT NULL"
)


def _baseline(connection: sqlite3.Connection) -> None:
    for statement in _TABLES:
        connection.execute(statement)
    columns = {row[1] for row in connection.execute("PRAGMA table_info(hit_queue)")}
    if "subject_hash" not in columns:  # a queue from before the column
        connection.execute("ALTER TABLE hit_queue ADD COLUMN subject_hash TEXT")
    connection.execute(_SUBJECT_INDEX)
    connection.execute("DROP TABLE IF EXISTS message_clicks")
    for name in ("hit_queue_in", "hit_queue_out"):  # the depth triggers, as of version 1
        connection.execute(f"DROP TRIGGER IF EXISTS {name}")
    connection.execute(
        "CREATE TRIGGER hit_queue_in AFTER INSERT ON hit_queue BEGIN"
        " INSERT INTO hit_queue_depth VALUES (NEW.vendor, 1)"
        " ON CONFLICT (vendor) DO UPDATE SET depth = depth + 1; END"
    )
    connection.execute(
        "CREATE TRIGGER hit_queue_out AFTER DELETE ON hit_queue BEGIN"
        " UPDATE hit_queue_depth SET depth = depth - 1 WHERE vendor = OLD.vendor; END"
    )


def _queue_bytes(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE hit_queue_depth ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0")
    connection.execute("DROP TRIGGER hit_queue_in")
    connection.execute("DROP TRIGGER hit_queue_out")
    connection.execute(
        "CREATE TRIGGER hit_queue_in AFTER INSERT ON hit_queue BEGIN"
        " INSERT INTO hit_queue_depth VALUES (NEW.vendor, 1, length(CAST(NEW.body AS BLOB)))"
        " ON CONFLICT (vendor) DO UPDATE SET depth = depth + 1,"
        " bytes = bytes + length(CAST(NEW.body AS BLOB)); END"
    )
    connection.execute(
        "CREATE TRIGGER hit_queue_out AFTER DELETE ON hit_queue BEGIN"
        " UPDATE hit_queue_depth SET depth = depth - 1,"
        " bytes = bytes - length(CAST(OLD.body AS BLOB)) WHERE vendor = OLD.vendor; END"
    )
    connection.execute(
        "UPDATE hit_queue_depth SET bytes = (SELECT coalesce(sum(length(CAST(body AS BLOB))), 0)"
        " FROM hit_queue WHERE hit_queue.vendor = hit_queue_depth.vendor)"
    )


def _fair_shares(connection: sqlite3.Connection) -> None:
    connection.execute("ALTER TABLE hit_queue ADD COLUMN client TEXT")
    connection.execute(
        "CREATE INDEX hit_queue_by_client ON hit_queue (vendor, client) WHERE client IS NOT NULL"
    )
    connection.execute(
        "ALTER TABLE hit_queue_depth ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0"
    )
    connection.execute("DROP TRIGGER hit_queue_in")
    connection.execute("DROP TRIGGER hit_queue_out")
    connection.execute(
        "CREATE TRIGGER hit_queue_in AFTER INSERT ON hit_queue BEGIN"
        " INSERT INTO hit_queue_depth VALUES (NEW.vendor, 1, length(CAST(NEW.body AS BLOB)),"
        " NEW.subject_hash IS NULL)"
        " ON CONFLICT (vendor) DO UPDATE SET depth = depth + 1,"
        " bytes = bytes + length(CAST(NEW.body AS BLOB)),"
        " anonymous = anonymous + (NEW.subject_hash IS NULL); END"
    )
    connection.execute(
        "CREATE TRIGGER hit_queue_out AFTER DELETE ON hit_queue BEGIN"
        " UPDATE hit_queue_depth SET depth = depth - 1,"
        " bytes = bytes - length(CAST(OLD.body AS BLOB)),"
        " anonymous = anonymous - (OLD.subject_hash IS NULL) WHERE vendor = OLD.vendor; END"
    )
    connection.execute(
        "UPDATE hit_queue_depth SET anonymous = (SELECT count(*) FROM hit_queue"
        " WHERE hit_queue.vendor = hit_queue_depth.vendor AND subject_hash IS NULL)"
    )


def _choice_changes(connection: sqlite3.Connection) -> None:
    """The feed of consent ids that chose again (`Rights.choice_changes_since`): every instance
    reads it to let an older token read as the latest choice."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS choice_changes (subject_id TEXT PRIMARY KEY,"
        " changed_at REAL NOT NULL) WITHOUT ROWID"
    )
    connection.execute(
        "CREATE INDEX IF NOT EXISTS choice_changes_by_time ON choice_changes (changed_at)"
    )


MIGRATIONS: list[Migration] = [
    _baseline,
    _queue_bytes,
    _fair_shares,
    _choice_changes,
]  # MIGRATIONS[n] makes version n + 1
VERSION = len(MIGRATIONS)


def version_of(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(version)


def migrate(connection: sqlite3.Connection) -> None:
    """Bring the file to `VERSION`, all of it in one transaction. A file from a newer
    release is left as it is (its migrations only ever add)."""
    if version_of(connection) >= VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = version_of(connection)  # again, under the lock: another may have run them
        for migration in MIGRATIONS[version:]:
            migration(connection)
        connection.execute(f"PRAGMA user_version = {max(version, VERSION)}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
