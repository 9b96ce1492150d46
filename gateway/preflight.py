"""Checks before serving that settings alone cannot make: paths the gateway must write, and
whether the store answers. `serve` runs the path checks; `check-config` runs both.

Each problem is a `ConfigError` (one line naming the setting and what is wrong), so a server
never starts only to crash with a traceback on its first receipt.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from gateway.errors import ConfigError, StoreUnavailable
from gateway.settings import Settings
from gateway.store_url import sqlite_path, without_password


def check_writable_paths(settings: Settings) -> None:
    """Raise `ConfigError` unless the data folder (spool, dev secret) and a SQLite store's file
    can be created and written by this process — tried for real (as root, `os.access` says yes
    to everything): the folders are created, a temporary file is written and removed."""
    _check_writable_dir("data_dir", settings.site.data_dir)
    database = sqlite_path(settings.store.url)
    if database is not None:
        _check_writable_dir("store", database.parent)
        if database.is_dir():
            raise ConfigError("settings", "store", f"{database} is a directory, not a file")
        if database.exists():
            try:
                database.open("r+b").close()
            except OSError as error:
                raise ConfigError("settings", "store", _cannot(database, error)) from None


def _check_writable_dir(key: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ConfigError("settings", key, _cannot(folder, error)) from None


def _cannot(path: Path, error: OSError) -> str:
    return f"cannot write {path}: {error.strerror or type(error).__name__}"


def store_problem(settings: Settings) -> str | None:
    """None if the store answers a ping within its timeout, else why not (one line)."""
    from gateway.store import open_store  # the store's drivers load only when asked

    async def ping() -> None:
        store = open_store(settings)
        try:
            await asyncio.wait_for(store.open(), settings.store.timeout_seconds * 2)
            await asyncio.wait_for(store.ping(), settings.store.timeout_seconds * 2)
        finally:
            await store.close()

    try:
        asyncio.run(ping())
    except Exception as error:  # a probe: whatever the driver raises, the answer is "no"
        reason = str(error) if isinstance(error, StoreUnavailable) else type(error).__name__
        return f"{without_password(settings.store.url)} does not answer: {reason}"
    return None
