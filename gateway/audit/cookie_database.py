"""What a cookie or storage key is: a database in the Open Cookie Database's CSV format.

    ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,
    Data Controller,User Privacy & GDPR Rights Portals,Wildcard match

A row with `Wildcard match` = 1 names a prefix (`_ga_` matches `_ga_X1Y2`); an exact name wins
over a prefix, and a longer prefix over a shorter one. The package ships a small database of
its own authoring in that format (`cookies/`, see its README); `consent-gateway cookie-database
refresh` fetches the real Open Cookie Database for `--cookie-database`.

>>> database = parse_database("ID,Platform,Category,Cookie / Data Key name,Domain,Description,"
...     "Retention period,Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\\n"
...     "1,Hotjar,Analytics,_hjSessionUser_,(3rd party),Visitor id,1 year,Hotjar,"
...     "https://www.hotjar.com/legal/policies/privacy/,1\\n", "example.csv")
>>> database.lookup("_hjSessionUser_123").platform, database.lookup("_hj") is None
('Hotjar', True)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gateway.errors import ConfigError

SHIPPED = Path(__file__).resolve().parent / "cookies" / "open-cookie-database.csv"
SHIPPED_SOURCE = "consent-gateway's own database in the Open Cookie Database format"
OPEN_COOKIE_DATABASE_URL = (
    "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/"
    "open-cookie-database.csv"
)
COLUMNS = (
    "ID", "Platform", "Category", "Cookie / Data Key name", "Domain", "Description",
    "Retention period", "Data Controller", "User Privacy & GDPR Rights Portals", "Wildcard match",
)  # fmt: skip
MAX_BYTES = 20_000_000  # the real database is ~1 MB; a bigger answer is not it
MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class CookieEntry:
    """One row: a cookie or storage key (or a prefix of them), its platform and purpose."""

    name: str
    platform: str
    category: str  # Functional, Preferences, Analytics, Marketing or Security
    domain: str
    description: str
    retention: str
    controller: str
    privacy_portal: str
    wildcard: bool


@dataclass(frozen=True, slots=True)
class CookieDatabase:
    """Entries by name, and the prefixes longest first; `source` says where they came from."""

    exact: dict[str, CookieEntry]
    prefixes: tuple[CookieEntry, ...]
    source: str

    def lookup(self, name: str) -> CookieEntry | None:
        """The entry for a cookie or storage key name, or None when the database has none."""
        entry = self.exact.get(name)
        if entry is not None:
            return entry
        for prefix in self.prefixes:
            if name.startswith(prefix.name) and name != prefix.name:
                return prefix
        return None

    def __len__(self) -> int:
        return len(self.exact) + len(self.prefixes)


def parse_database(text: str, source: str) -> CookieDatabase:
    """Parse the CSV; raises `ConfigError` naming the source and the row at fault."""
    try:
        return _parse_rows(csv.reader(io.StringIO(text.lstrip("\ufeff"))), source)
    except csv.Error as error:  # e.g. a field over the csv module's size limit
        raise ConfigError(source, "(csv)", f"not a CSV file: {error}") from None


def _parse_rows(rows: Iterator[list[str]], source: str) -> CookieDatabase:
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header[: len(COLUMNS)]) != COLUMNS:
        raise ConfigError(source, "header", f"expected the columns {', '.join(COLUMNS)}")
    exact: dict[str, CookieEntry] = {}
    prefixes: list[CookieEntry] = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(COLUMNS):
            raise ConfigError(source, f"row {number}", f"expected {len(COLUMNS)} columns")
        if number > MAX_ENTRIES:
            raise ConfigError(source, f"row {number}", f"expected at most {MAX_ENTRIES} rows")
        cells = [cell.strip() for cell in row]
        entry = CookieEntry(
            name=cells[3], platform=cells[1], category=cells[2], domain=cells[4],
            description=cells[5], retention=cells[6], controller=cells[7],
            privacy_portal=cells[8], wildcard=cells[9] == "1",
        )  # fmt: skip
        if not entry.name:
            raise ConfigError(source, f"row {number}", "expected a cookie or data key name")
        if entry.wildcard:
            prefixes.append(entry)
        else:
            exact.setdefault(entry.name, entry)
    prefixes.sort(key=lambda entry: len(entry.name), reverse=True)
    return CookieDatabase(exact, tuple(prefixes), source)


@cache
def load_database(path: Path | None = None) -> CookieDatabase:
    """The database at `path` (default: the one shipped); raises `ConfigError` when unreadable."""
    chosen = path or SHIPPED
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            "--cookie-database", str(chosen), f"cannot read: {error.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("--cookie-database", str(chosen), "expected UTF-8 CSV") from None
    label = SHIPPED_SOURCE if path is None else _described(chosen)
    return parse_database(text, label)


def _described(path: Path) -> str:
    """The path, with the URL and date `refresh` noted next to it, when it was refreshed."""
    try:
        note = json.loads(path.with_name(path.name + ".source.json").read_text(encoding="utf-8"))
        return f"{path} (from {note['url']}, fetched {note['fetched']})"
    except (OSError, ValueError, KeyError, TypeError):
        return str(path)


def refresh_database(target: Path, url: str = OPEN_COOKIE_DATABASE_URL) -> CookieDatabase:
    """Download the database from `url`, check it parses, then replace `target` atomically.

    Next to it, `TARGET.source.json` notes the URL, the time and the file's SHA-256.
    """
    if not url.startswith(("https://", "http://")):
        raise ConfigError("cookie-database", url, "expected an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (http(s) only)
            body = answer.read(MAX_BYTES + 1)
    except (OSError, ValueError) as error:
        raise ConfigError("cookie-database", url, f"cannot download: {error}") from None
    if len(body) > MAX_BYTES:
        raise ConfigError("cookie-database", url, f"expected at most {MAX_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("cookie-database", url, "expected UTF-8 CSV") from None
    database = parse_database(text, url)
    target.parent.mkdir(parents=True, exist_ok=True)
    note = {
        "url": url,
        "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sha256": hashlib.sha256(body).hexdigest(),
        "entries": len(database),
    }
    _replace(target, body)
    _replace(target.with_name(target.name + ".source.json"), json.dumps(note).encode())
    load_database.cache_clear()
    return database


def _replace(target: Path, body: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "wb") as file:
        file.write(body)
    os.replace(temporary, target)
