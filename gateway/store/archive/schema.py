"""The archive's tables in PostgreSQL, their versions, and the monthly partitions.

=======  ====================================================================================
version  what it does
=======  ====================================================================================
1        `archived_receipts` and `archived_email_events`, each partitioned by month on
         `created_at` (epoch seconds), keyed by (`created_at`, id) — the time index exports
         and the dashboard read in order — with an index on (`subject_id`, `created_at`) for
         access, export and erasure; `archive_tombstones` (SHA-256 of an erased id → time)
=======  ====================================================================================

`migrate` runs when the archive opens, under an advisory lock, so several instances may start
at once. A database of a newer release is used as it is: its migrations only ever add.

A row's `body` is the record's canonical JSON, exactly as Redis held it, so a record read back
from the archive is the record that was moved. Partitions are named for their month
(`archived_receipts_2026_12`), made before the first row of that month moves in, and dropped
whole once every row in them has outlived its retention.
"""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg import AsyncConnection, sql

VERSION = 1
MIGRATE_LOCK = 0x63670001  # advisory lock ids of this application ("cg" 0001)
MOVE_LOCK = 0x63670002  # a move batch holds it exclusively, an erasure shared
TABLES = ("archived_receipts", "archived_email_events")

_STEPS = {
    1: """
    CREATE TABLE archived_receipts (
        created_at double precision NOT NULL,
        receipt_id text NOT NULL,
        subject_id text NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (created_at, receipt_id)
    ) PARTITION BY RANGE (created_at);
    CREATE INDEX archived_receipts_subject ON archived_receipts (subject_id, created_at);
    CREATE TABLE archived_email_events (
        created_at double precision NOT NULL,
        event_id text NOT NULL,
        subject_id text NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (created_at, event_id)
    ) PARTITION BY RANGE (created_at);
    CREATE INDEX archived_email_events_subject ON archived_email_events (subject_id, created_at);
    CREATE TABLE archive_tombstones (
        tombstone_id text PRIMARY KEY,
        erased_at double precision NOT NULL
    );
    """,
}


async def migrate(connection: AsyncConnection[object]) -> int:
    """Bring the database to `VERSION`; returns the version found before."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS archive_schema (version integer NOT NULL)"
        )
        cursor = await connection.execute("SELECT max(version) FROM archive_schema")
        row = await cursor.fetchone()
        found = int(row[0]) if row and row[0] is not None else 0  # type: ignore[index]
        for version in range(found + 1, VERSION + 1):
            await connection.execute(_STEPS[version])
            await connection.execute("INSERT INTO archive_schema VALUES (%s)", (version,))
    return found


def month_of(timestamp: float) -> tuple[int, int]:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.year, moment.month


def month_bounds(year: int, month: int) -> tuple[float, float]:
    """The first moment of the month and of the next (epoch seconds, UTC)."""
    start = datetime(year, month, 1, tzinfo=UTC)
    after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), after.timestamp()


def partition_name(table: str, year: int, month: int) -> str:
    return f"{table}_{year:04d}_{month:02d}"


def create_partition(table: str, year: int, month: int) -> sql.Composed:
    start, after = month_bounds(year, month)
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})"
    ).format(
        sql.Identifier(partition_name(table, year, month)),
        sql.Identifier(table),
        sql.Literal(start),
        sql.Literal(after),
    )


def partition_month(table: str, name: str) -> tuple[int, int] | None:
    """The (year, month) of a partition of `table` by its name, or None for another table."""
    tail = name.removeprefix(table + "_")
    year, _, month = tail.partition("_")
    if tail == name or not (year.isdigit() and month.isdigit()):
        return None
    return int(year), int(month)
