"""Storage: one `Store` contract, an embedded SQLite backend and a Redis (Cluster) backend."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import ConfigError
from gateway.settings import Settings
from gateway.store.base import Store


def open_store(settings: Settings) -> Store:
    """The store named by `settings.store` (not yet connected: call `await store.open()`)."""
    url = settings.store
    if url.startswith("sqlite://"):
        from gateway.store.sqlite import SQLiteStore

        # sqlite:///var/x.db is relative to the working directory, sqlite:////srv/x.db absolute.
        path = url.removeprefix("sqlite://").removeprefix("/")
        if not path or path == ":memory:":
            raise ConfigError("settings", "store", "SQLite needs a file path: sqlite:///var/x.db")
        return SQLiteStore(Path(path), settings)
    from gateway.store.redis import RedisStore

    return RedisStore(url, settings)


__all__ = ["Store", "open_store"]
