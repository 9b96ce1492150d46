"""The form of a URL setting, checked without connecting: what `urlsplit` refuses, and what a
store URL must look like (`sqlite:///file`, `redis://host:port/db`, cluster and sentinel)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import SplitResult, urlsplit


def url_parts(url: str) -> SplitResult | None:
    """`urlsplit(url)`, or None where it refuses (an unbalanced `[` or a bad port).

    >>> url_parts("http://[x/") is None, url_parts("https://a.example:8443/").port
    (True, 8443)
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError:
        return None
    return parts


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite://` store URL, or None for any other store.

    sqlite:///var/x.db is relative to the working directory, sqlite:////srv/x.db absolute.

    >>> sqlite_path("sqlite:///var/x.db"), sqlite_path("sqlite:////srv/x.db")
    (PosixPath('var/x.db'), PosixPath('/srv/x.db'))
    """
    if not url.startswith("sqlite://"):
        return None
    return Path(url.removeprefix("sqlite://").removeprefix("/"))


_STORE_SCHEMES = ("sqlite", "redis", "rediss", "redis+cluster", "redis+sentinel")


def without_password(url: str) -> str:
    """The URL as it may be shown (errors, logs): user and password replaced by `***`.

    >>> without_password("redis://:s3cret@redis.internal:6379/0")
    'redis://***@redis.internal:6379/0'
    """
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.partition("@")
    return f"{scheme}{sep}***@{host}" if at and "/" not in userinfo else url


def store_url_problem(url: str) -> str | None:
    """What is wrong with the form of a store URL (not whether it answers), or None.

    >>> store_url_problem("redis://localhost:notaport/0")
    "expected redis://host:port/db with a port from 1 to 65535, got 'redis://localhost:notaport/0'"
    """
    shown = without_password(url)  # a store URL may carry a password: never in a message
    expected = f"expected {', '.join(s + '://' for s in _STORE_SCHEMES)} URL, got {shown!r}"
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _STORE_SCHEMES:
        return expected
    if scheme == "sqlite":
        path = rest.removeprefix("/")
        if not path or path == ":memory:" or path.endswith("/"):
            return (
                f"expected sqlite:///relative/file.db or sqlite:////absolute/file.db, got {shown!r}"
            )
        return None
    if scheme == "redis+sentinel":
        return _sentinel_url_problem(url, rest)
    parts = url_parts(url)
    form = f"expected {scheme}://host:port/db with a port from 1 to 65535, got {shown!r}"
    if parts is None or not parts.hostname:
        return form
    if parts.port is not None and not 1 <= parts.port <= 65535:
        return form
    if parts.path not in ("", "/") and not parts.path[1:].isdigit():
        return f"expected a database number after the host (like /0), got {shown!r}"
    return None


def _sentinel_url_problem(url: str, rest: str) -> str | None:
    shown = without_password(url)
    hosts, _, path = rest.partition("/")
    form = f"expected redis+sentinel://host:port[,host:port]/service[/db], got {shown!r}"
    for host in hosts.rpartition("@")[2].split(","):
        name, colon, port = host.rpartition(":")
        if not colon:
            name, port = host, "26379"
        if not name or not port.isdigit() or not 1 <= int(port) <= 65535:
            return form
    pieces = [piece for piece in path.split("/") if piece]
    if not 1 <= len(pieces) <= 2 or (len(pieces) == 2 and not pieces[1].isdigit()):
        return form
    return None
