"""Make whatever a site stores safe to show: in JSON, XML 1.0, HTML and on a terminal.

A site controls the names, URLs and errors the audit records, so any of them may hold a lone
surrogate (not encodable as UTF-8), a control character (not allowed in XML 1.0, and a
terminal escape on stderr) or a URL's `user:password@`. `safe_text` writes the first two as
visible escapes and drops the third; `scrubbed` does it to every string of a record.

>>> safe_text("http://user:secret@shop.example/a?b=1")
'http://shop.example/a?b=1'
>>> safe_text("lone\\ud800 key\\x01") == "lone\\\\ud800 key\\\\x01"
True
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit, urlunsplit

T = TypeVar("T")
# A URL's user information: from the scheme to the last '@' before its path, query or fragment.
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
# Not allowed in XML 1.0 (or a terminal escape): C0 controls but tab and newlines, DEL, C1
# controls, lone surrogates (a valid pair is one code point in a Python string), U+FFFE/FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: str) -> str:
    """`text` without URL credentials, with unsafe characters as `\\xNN` / `\\uNNNN` escapes."""
    return _UNSAFE.sub(_escape, _CREDENTIALS.sub(r"\1", text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def scrubbed(value: T) -> T:
    """A copy of `value` (strings, containers, dataclasses) with every string made safe."""
    return cast(T, _scrub(value))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_scrub(v) for v in value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _scrub(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its `user:password@`, and that pair (for HTTP authentication), if any.

    >>> without_credentials("https://ann:pw@staging.example:8443/shop")
    ('https://staging.example:8443/shop', ('ann', 'pw'))
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))
