"""The archive itself: receipts and email events in PostgreSQL, through a psycopg 3 pool.

Writes come only from the mover (`gateway.store.archive.mover`) and are idempotent: a row whose
(time, id) is already archived is left as it is, so a batch moved twice lands once. Each
write checks the subject's tombstone (`archive_tombstones`) in the same statement.

A move batch takes the advisory lock `MOVE_LOCK` exclusively, without waiting (held: it
writes nothing, the round ends and the records wait in Redis); an erasure and an export hold
it shared. So an erasure either waits for a batch in flight to commit and then deletes what it
wrote, or comes first and the batch, later, finds the tombstone: nothing of an erased subject
stays. And no batch commits during an export, whose snapshot therefore holds every record
taken out of Redis while it runs.

Every operation raises `StoreUnavailable` when PostgreSQL does not answer in time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway.errors import StoreUnavailable
from gateway.model.email_events import EmailEvent
from gateway.model.receipts import Receipt
from gateway.model.tombstones import tombstone_id
from gateway.store.archive.hot import HotRecord
from gateway.store.archive.schema import (
    MOVE_LOCK,
    TABLES,
    create_partition,
    migrate,
    month_bounds,
    month_of,
    partition_month,
    partition_name,
)
from gateway.store.base import NOT_CHOICES

POOL_SIZE = 4  # connections per process: the mover, rights reads and an export at once
FAULTS = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError)

_ADD = """
INSERT INTO {table} (created_at, {id}, subject_id, body)
SELECT r.created_at, r.id, r.subject_id, r.body
FROM unnest(%s::float8[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS r(created_at, id, subject_id, body, tombstone_id)
WHERE NOT EXISTS (SELECT 1 FROM archive_tombstones t WHERE t.tombstone_id = r.tombstone_id)
ON CONFLICT DO NOTHING
"""


class Archive:
    """PostgreSQL at `url` (`postgresql://user:password@host:port/db`); `open()` before use."""

    def __init__(self, url: str, timeout: float) -> None:
        self.timeout = timeout
        self._pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
            timeout=timeout,  # to get a connection: then the caller hears StoreUnavailable
            kwargs={"autocommit": True, "connect_timeout": max(1, round(timeout))},
            configure=self._configure,
            name="archive",
        )
        self._partitions: set[str] = set()  # made already (a cache: CREATE … IF NOT EXISTS)
        self._migrated = False

    async def _configure(self, connection: psycopg.AsyncConnection[Any]) -> None:
        timeout_ms = int(self.timeout * 1000)
        await connection.execute(f"SET statement_timeout = {timeout_ms * 5}")

    async def open(self) -> None:
        """Open the pool without waiting for the server: an archive that is down at start
        delays moves, never the gateway (receipts wait in Redis)."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def _ready(self) -> None:
        if not self._migrated:
            async with self._pool.connection() as connection:
                await migrate(connection)
            self._migrated = True

    async def ping(self) -> None:
        try:
            await self._ready()
            async with self._pool.connection() as connection:
                await connection.execute("SELECT 1")
        except FAULTS as error:
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error

    async def add_receipts(self, receipts: Sequence[HotRecord]) -> int | None:
        """Archive receipts as Redis held them; returns how many rows were new, or None when
        nothing was written because an export or an erasure holds `MOVE_LOCK`."""
        return await self._add("archived_receipts", "receipt_id", receipts)

    async def add_email_events(self, events: Sequence[HotRecord]) -> int | None:
        return await self._add("archived_email_events", "event_id", events)

    async def _add(self, table: str, id_column: str, rows: Sequence[HotRecord]) -> int | None:
        if not rows:
            return 0
        months = {month_of(row.created_at) for row in rows}
        columns = [
            [row.created_at for row in rows],
            [row.record_id for row in rows],
            [row.subject_id for row in rows],
            [row.body for row in rows],
            [tombstone_id(row.subject_id) for row in rows],
        ]
        statement = sql.SQL(_ADD).format(table=sql.Identifier(table), id=sql.Identifier(id_column))
        missing = [m for m in sorted(months) if partition_name(table, *m) not in self._partitions]
        try:
            await self._ready()
            async with self._pool.connection() as connection:
                # New months first, in a transaction of their own: making a partition locks
                # the whole table against readers, for as short a time as can be.
                if missing and not await self._make_partitions(connection, table, missing):
                    return None
                async with connection.transaction():
                    if not await _try_move_lock(connection):
                        return None  # an export or an erasure holds it: try next round
                    cursor = await connection.execute(statement, columns)
                    return int(max(cursor.rowcount, 0))
        except FAULTS as error:
            self._partitions.clear()  # a rolled-back CREATE made nothing
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error

    async def _make_partitions(
        self, connection: psycopg.AsyncConnection[Any], table: str, months: list[tuple[int, int]]
    ) -> bool:
        """Make the partitions of `months` (under the move lock, so that two instances never
        race to make one); False if the lock was held."""
        async with connection.transaction():
            if not await _try_move_lock(connection):
                return False
            for year, month in months:
                await connection.execute(create_partition(table, year, month))
        self._partitions.update(partition_name(table, *month) for month in months)
        return True

    async def subject_receipts(self, subject_id: str) -> list[Receipt]:
        bodies = await self._bodies(
            "SELECT body FROM archived_receipts WHERE subject_id = %s "
            "ORDER BY created_at, receipt_id",
            (subject_id,),
        )
        return [Receipt.from_json(body) for body in bodies]

    async def subject_events(self, subject_id: str, since: float) -> list[EmailEvent]:
        bodies = await self._bodies(
            "SELECT body FROM archived_email_events WHERE subject_id = %s AND created_at >= %s "
            "ORDER BY created_at, event_id",
            (subject_id, since),
        )
        return [EmailEvent.from_json(body) for body in bodies]

    async def latest_choices(self, subject_ids: Sequence[str]) -> dict[str, Receipt]:
        """Each subject's newest archived receipt that records a choice (not an objection,
        not a form's purposes), for those that have one."""
        bodies = await self._bodies(
            "SELECT DISTINCT ON (subject_id) body FROM archived_receipts "
            "WHERE subject_id = ANY(%s) AND (body::jsonb ->> 'action') <> ALL(%s) "
            "ORDER BY subject_id, created_at DESC, receipt_id DESC",
            (list(subject_ids), sorted(NOT_CHOICES)),
        )
        receipts = [Receipt.from_json(body) for body in bodies]
        return {receipt.subject_id: receipt for receipt in receipts}

    async def latest_receipts(self, limit: int) -> list[Receipt]:
        bodies = await self._bodies(
            "SELECT body FROM archived_receipts ORDER BY created_at DESC, receipt_id DESC LIMIT %s",
            (limit,),
        )
        return [Receipt.from_json(body) for body in bodies]

    async def _bodies(self, query: str, parameters: Sequence[Any]) -> list[str]:
        try:
            await self._ready()
            async with self._pool.connection() as connection:
                cursor = await connection.execute(query, parameters)
                return [row[0] for row in await cursor.fetchall()]
        except FAULTS as error:
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error

    @contextlib.asynccontextmanager
    async def receipts_between(
        self, since: float | None, until: float | None, page: int
    ) -> AsyncIterator[AsyncIterator[Receipt]]:
        """Receipts with `since <= created_at < until`, oldest first, `page` rows at a time
        through a server-side cursor: constant memory whatever the range holds.

        Until the block ends it holds `MOVE_LOCK` shared, so no move commits meanwhile: a
        receipt taken out of Redis during the block was archived before it began, and is in
        this snapshot. (A move that finds the lock held waits for its next round.)"""
        low = float("-inf") if since is None else since
        high = float("inf") if until is None else until
        try:
            await self._ready()
            async with (
                self._pool.connection() as connection,
                connection.transaction(),
                connection.cursor(name="archive_export") as cursor,
            ):
                await connection.execute("SELECT pg_advisory_xact_lock_shared(%s)", (MOVE_LOCK,))
                cursor.itersize = page
                await cursor.execute(
                    "SELECT body FROM archived_receipts WHERE created_at >= %s AND created_at < %s "
                    "ORDER BY created_at, receipt_id",
                    (low, high),
                )
                yield (Receipt.from_json(body) async for (body,) in cursor)
        except FAULTS as error:
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error

    async def erase_subject(self, subject_id: str, erased_at: float) -> dict[str, int]:
        """Leave the tombstone and delete the subject's rows, after any move in flight."""
        try:
            await self._ready()
            async with self._pool.connection() as connection, connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock_shared(%s)", (MOVE_LOCK,))
                await connection.execute(
                    "INSERT INTO archive_tombstones VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (tombstone_id(subject_id), erased_at),
                )
                receipts = await connection.execute(
                    "DELETE FROM archived_receipts WHERE subject_id = %s", (subject_id,)
                )
                events = await connection.execute(
                    "DELETE FROM archived_email_events WHERE subject_id = %s", (subject_id,)
                )
                return {"receipts": receipts.rowcount, "email_events": events.rowcount}
        except FAULTS as error:
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error

    async def drop_expired(self, receipts_before: float, events_before: float) -> dict[str, int]:
        """Drop every monthly partition whose rows are all older than the cutoff of its table,
        and delete the older rows of the one month the cutoff falls in (by the time index);
        returns the rows removed per kind (`receipts`, `email_events`)."""
        removed = {"receipts": 0, "email_events": 0}
        cutoffs = {"archived_receipts": receipts_before, "archived_email_events": events_before}
        kinds = {"archived_receipts": "receipts", "archived_email_events": "email_events"}
        try:
            await self._ready()
            async with self._pool.connection() as connection:
                for table in TABLES:
                    cutoff = cutoffs[table]
                    for name in await _partitions(connection, table):
                        month = partition_month(table, name)
                        if month is None or month_bounds(*month)[1] > cutoff:
                            continue
                        removed[kinds[table]] += await _drop(connection, name)
                        self._partitions.discard(name)
                    older = sql.SQL("DELETE FROM {} WHERE created_at < %s").format(
                        sql.Identifier(table)
                    )
                    cursor = await connection.execute(older, (cutoff,))
                    removed[kinds[table]] += max(cursor.rowcount, 0)
        except FAULTS as error:
            raise StoreUnavailable(f"archive: {type(error).__name__}") from error
        return removed


async def _partitions(connection: psycopg.AsyncConnection[Any], table: str) -> list[str]:
    cursor = await connection.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
        (table,),
    )
    return [row[0] for row in await cursor.fetchall()]


async def _try_move_lock(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Take `MOVE_LOCK` exclusively for this transaction if nobody holds it; never wait."""
    cursor = await connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (MOVE_LOCK,))
    row = await cursor.fetchone()
    return bool(row and row[0])


async def _drop(connection: psycopg.AsyncConnection[Any], partition: str) -> int:
    """Drop a partition whole; returns how many rows it held."""
    async with connection.transaction():
        count = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(partition))
        row = await (await connection.execute(count)).fetchone()
        await connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(partition)))
    return int(row[0]) if row else 0
