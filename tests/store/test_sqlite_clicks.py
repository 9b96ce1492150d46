"""Email click windows on SQLite hold a recipient's clicks for a minute: erasure and the purge
remove them from the file, so no subject id outlives either (on Redis the keys expire)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gateway.settings import from_keys
from gateway.store import open_store
from gateway.store.shared import CLICK_WINDOW_SECONDS, Click


def rows_naming(database: Path, subject: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        found = []
        for table in tables:
            if "click" in table:
                found += [
                    row
                    for row in connection.execute(f"SELECT * FROM {table}")
                    if any(subject in str(value) for value in row)
                ]
        return found


async def test_erasure_and_the_purge_leave_no_click_naming_a_subject(tmp_path: Path) -> None:
    database = tmp_path / "g.sqlite3"
    store = open_store(from_keys(store=f"sqlite:///{database}", data_dir=tmp_path))
    await store.open()
    now = time.time()
    try:
        clicks = [
            Click("spring|esp-42|100", "esp-42", now, 1),
            Click("spring|esp-7|100", "esp-7", now, 1),
        ]
        await store.shared.add_clicks(clicks, now)
        assert rows_naming(database, "esp-42")
        await store.rights.erase_subject("esp-42", now)
        assert rows_naming(database, "esp-42") == []
        assert rows_naming(database, "esp-7")  # others keep theirs until the window passes
        await store.retention.purge(now + CLICK_WINDOW_SECONDS + 1)
        assert rows_naming(database, "esp-7") == []
    finally:
        await store.close()
