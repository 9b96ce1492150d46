"""Flat values worked out from others before the sections are built: the privacy policy's URL
per language, and one data directory whichever folder a command runs in.

    >>> values = {"policy_url": (("en", "https://example.com/p"), ("ru", "https://example.com/ru"))}
    >>> split_policy_urls(values)
    >>> values["policy_url"]
    'https://example.com/p'
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from gateway.store_url import sqlite_path

DEFAULT_DATABASE = "gateway.sqlite3"


def split_policy_urls(values: MutableMapping[str, Any]) -> None:
    """A per-language `policy_url` becomes `policy_urls`, and `policy_url` the fallback one
    (English, else the first language): what a receipt cites when no language is known."""
    urls = values.get("policy_url")
    if isinstance(urls, tuple):
        values["policy_urls"] = urls
        values["policy_url"] = dict(urls).get("en") or (urls[0][1] if urls else "")


def anchor_paths(values: MutableMapping[str, Any], config_file: Path | None) -> None:
    """Relative `data_dir`/`rules`/SQLite paths from a config file are relative to that file,
    so every command finds the same data whatever its working directory; an unset SQLite
    store lives in the data directory (`GATEWAY_DATA_DIR` moves both)."""
    base = config_file.resolve().parent if config_file is not None else None
    from_file = values.pop("_from_file", ())
    for key in ("data_dir", "rules"):
        path = values.get(key)
        if isinstance(path, Path) and base is not None and key in from_file:
            values[key] = base / path if not path.is_absolute() else path
    store = values.get("store")
    if store is None and "data_dir" in values:
        values["store"] = f"sqlite:///{Path(values['data_dir']) / DEFAULT_DATABASE}"
    elif isinstance(store, str) and base is not None and "store" in from_file:
        database = sqlite_path(store)
        if database is not None and database.name and not database.is_absolute():
            values["store"] = f"sqlite:///{base / database}"
