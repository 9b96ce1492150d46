"""Storage: one backend object per store URL — embedded SQLite, or Redis (single node,
Cluster, Sentinel) — exposing its facets (`gateway.store.base`)."""

from __future__ import annotations

from gateway.errors import ConfigError
from gateway.settings import Settings
from gateway.store.base import Store
from gateway.store.store_settings import StoreSettings
from gateway.store_url import sqlite_path


def open_store(settings: Settings) -> Store:
    """The store named by `settings.store.url` (not yet connected: call `await store.open()`),
    given the settings it reads (`StoreSettings`), not the gateway's."""
    url = settings.store.url
    narrowed = StoreSettings.of(settings)
    path = sqlite_path(url)
    if path is not None:
        from gateway.store.sqlite import SQLiteStore

        if str(path) in (".", ":memory:"):
            raise ConfigError("settings", "store", "SQLite needs a file path: sqlite:///var/x.db")
        return SQLiteStore(path, narrowed)
    if settings.archive.url:
        from gateway.store.archive.store import ArchivedRedisStore

        return ArchivedRedisStore(url, narrowed)
    from gateway.store.redis import RedisStore

    return RedisStore(url, narrowed)


__all__ = ["Store", "open_store"]
