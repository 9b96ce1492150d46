"""The archive's schema (versioned, monthly partitions, retention by dropping them) and its
two settings (`archive`, `hot_days`), each refused in one line naming the key."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from gateway.errors import ConfigError
from gateway.settings import load_settings
from gateway.store.archive import schema
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from tests.store.archive.helpers import DAY, archived_ids
from tests.store.test_contract import email_event, receipt


def partitions(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY 1",
            (table,),
        ).fetchall()
    return [row[0] for row in rows]


async def test_migrations_run_once_and_record_their_version(archive_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(archive_url, autocommit=True) as connection:
        assert await schema.migrate(connection) == 0
        assert await schema.migrate(connection) == schema.VERSION  # a second start: nothing
        cursor = await connection.execute("SELECT version FROM archive_schema")
        assert [row[0] for row in await cursor.fetchall()] == [schema.VERSION]


def test_months_and_their_partitions() -> None:
    start, after = schema.month_bounds(2026, 12)
    assert (start, after) == (1796083200.0, 1798761600.0)  # 2026-12-01, 2027-01-01 UTC
    assert schema.month_of(after - 0.001) == (2026, 12)
    assert schema.month_of(after) == (2027, 1)
    name = schema.partition_name("archived_receipts", 2026, 12)
    assert name == "archived_receipts_2026_12"
    assert schema.partition_month("archived_receipts", name) == (2026, 12)
    assert schema.partition_month("archived_receipts", "archived_email_events_2026_12") is None


async def test_records_land_in_their_months_partition_and_retention_drops_it(
    archived: ArchivedRedisStore, archive_url: str
) -> None:
    now = time.time()
    keep = archived.settings.retention.receipt_days * DAY
    ancient = receipt("subject-ancient-aaaa", at=round(now - keep + 40 * DAY, 3))
    recent = receipt("subject-recent-aaaaa", at=round(now - 30 * DAY, 3))
    event = email_event("esp-1", at=now - 30 * DAY)
    await archived.receipts.add_receipts([ancient, recent])
    await archived.email.add_email_events([event])
    await ArchiveMover(archived).run_once(lease=False)
    names = partitions(archive_url, "archived_receipts")
    expected = {
        schema.partition_name("archived_receipts", *schema.month_of(r.created_at))
        for r in (ancient, recent)
    }
    assert set(names) == expected
    assert partitions(archive_url, "archived_email_events") == [
        schema.partition_name("archived_email_events", *schema.month_of(event.created_at))
    ]

    # Nothing has outlived its retention yet; 100 days on, the ancient one's month has.
    assert await archived.retention.purge(now) == {"receipts": 0, "email_events": 0, "counts": 0}
    removed = await archived.retention.purge(now + 100 * DAY)
    assert removed["receipts"] == 1
    assert await archived_ids(archive_url) == [recent.receipt_id]
    ancient_month = schema.partition_name("archived_receipts", *schema.month_of(ancient.created_at))
    assert ancient_month not in partitions(archive_url, "archived_receipts")
    # The year ahead: the event (395 days) goes too, and the export still reads.
    assert (await archived.retention.purge(now + 400 * DAY))["email_events"] == 1
    assert [r.receipt_id async for r in archived.receipts.iter_receipts()] == [recent.receipt_id]


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"GATEWAY_ARCHIVE": "mysql://db/x", "GATEWAY_STORE": "redis://r:6379/0"}, "archive"),
        ({"GATEWAY_ARCHIVE": "postgresql:///nohost", "GATEWAY_STORE": "redis://r/0"}, "archive"),
        ({"GATEWAY_ARCHIVE": "postgresql://pg/db"}, "archive"),  # beside SQLite: refused
        ({"GATEWAY_HOT_DAYS": "0"}, "hot_days"),
        ({"GATEWAY_HOT_DAYS": "seven"}, "hot_days"),
    ],
)
def test_bad_archive_settings_stop_start_up_naming_the_key(
    environ: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ)
    assert error.value.key == key
    assert "\n" not in str(error.value)


def test_archive_settings_are_read_and_the_password_never_shown() -> None:
    values: dict[str, Any] = {
        "GATEWAY_STORE": "redis+cluster://r:7000",
        "GATEWAY_ARCHIVE": "postgresql://gw:s3cret@pg:5432/consent",
        "GATEWAY_HOT_DAYS": "3",
    }
    settings = load_settings(environ=values)
    assert (settings.archive.url, settings.archive.hot_days) == (values["GATEWAY_ARCHIVE"], 3)
    assert "s3cret" not in repr(settings)


def test_the_archive_table_in_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[store]\nurl = "redis://r:6379/0"\n\n'
        '[archive]\nurl = "postgresql://gw@pg:5432/consent"\nhot_days = 14\n'
    )
    settings = load_settings(config, environ={})
    assert (settings.archive.url, settings.archive.hot_days) == (
        "postgresql://gw@pg:5432/consent",
        14,
    )
    config.write_text('[store]\nurl = "redis://r:6379/0"\n\n[archive]\nhot_days = 0\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert "hot_days" in str(error.value)
    assert str(config) in str(error.value)
