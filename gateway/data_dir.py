"""One data directory (secret key, SQLite store, spool) whichever folder a command runs in.

Each command that uses a data directory notes its absolute path in a small list in the user's
state folder (`$XDG_STATE_HOME/consent-gateway/data-dirs`, at most `MAX_REMEMBERED` entries).
A command about to create a *new* secret key or an *empty* SQLite database in the default
`./var` — because it runs in another folder than the gateway — stops with one line naming the
data directory that already exists, instead of signing links the gateway rejects or showing
`0 receipt(s)` from an empty database.

    >>> remembered(Path("/nonexistent/state"))
    []
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import ConfigError
from gateway.settings import Settings
from gateway.store_url import sqlite_path

MAX_REMEMBERED = 20  # the oldest paths beyond are forgotten
DEFAULT_DATA_DIR = Path("var")
_LIST = "data-dirs"


def state_folder(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "consent-gateway"


def remembered(state: Path) -> list[Path]:
    try:
        lines = (state / _LIST).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [Path(line) for line in lines if line.startswith("/")]


def _holds_data(folder: Path) -> bool:
    return (folder / "secret.key").is_file() or (folder / "gateway.sqlite3").is_file()


def would_start_afresh(settings: Settings, *, uses_store: bool = True) -> bool:
    """True if using `settings` creates a new secret key or (`uses_store`) an empty SQLite
    database."""
    new_key = not settings.site.secret_keys and not (settings.site.data_dir / "secret.key").exists()
    database = sqlite_path(settings.store.url) if uses_store else None
    # Only the database that lives in the data directory: a store set elsewhere was chosen.
    in_data_dir = database is not None and database.parent == settings.site.data_dir
    return new_key or (in_data_dir and database is not None and not database.exists())


def check_one_data_dir(
    settings: Settings, *, uses_store: bool = True, environ: Mapping[str, str] | None = None
) -> None:
    """Raise `ConfigError` (one line) when the default `./var` would start afresh while a data
    directory this user's gateway already uses exists elsewhere; else remember this one.
    `uses_store`: false for a command that needs only the signing key (`sign-link`)."""
    environ = os.environ if environ is None else environ
    state = state_folder(environ)
    here = settings.site.data_dir.resolve()
    fresh = would_start_afresh(settings, uses_store=uses_store)
    if settings.site.data_dir == DEFAULT_DATA_DIR and fresh:
        for other in reversed(remembered(state)):
            if other != here and _holds_data(other):
                problem = (
                    f"no gateway data in {here}, but {other} holds it:"
                    f" set GATEWAY_DATA_DIR={other} (or data_dir in the --config file),"
                    f" or GATEWAY_DATA_DIR={here} to start a new gateway here"
                )
                raise ConfigError("settings", "data_dir", problem)
    _remember(state, here)


def _remember(state: Path, folder: Path) -> None:
    """Best effort: a read-only home is no reason to refuse to run."""
    paths = [path for path in remembered(state) if path != folder] + [folder]
    with contextlib.suppress(OSError):
        state.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{path}\n" for path in paths[-MAX_REMEMBERED:])
        temporary = state / f"{_LIST}.{os.getpid()}"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(state / _LIST)
