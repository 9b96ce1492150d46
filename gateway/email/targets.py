"""Click targets: checked and normalised once, when a link is signed.

A signed click token can only ever redirect to the URL it carries, so the whole defence against
open redirects is here: only `http(s)://host/…`, no userinfo (`https://bank.com@evil.test`), no
control characters, backslashes or whitespace tricks, a length cap, an optional host allowlist.
Hosts are lower-cased and IDNA-encoded (a Cyrillic look-alike becomes its visible `xn--` form,
which no allowlist entry matches by accident); other non-ASCII is percent-encoded, so the
`Location` header is exactly the signed text.

    >>> checked_target("HTTPS://Example.COM/a b?x=1")
    'https://example.com/a%20b?x=1'
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from gateway.errors import Unprocessable
from gateway.model.link_limits import MAX_TARGET_LENGTH

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# Kept as they are in a path, query or fragment; everything else (spaces, quotes, non-ASCII) is
# percent-encoded. '%' stays, so existing escapes are not encoded twice.
_KEEP = "!#$%&'()*+,-./:;=?@[]_~"
_REDIRECTABLE = re.compile(r"https?://[\x21-\x5b\x5d-\x7e]+")  # printable ASCII but '\'


def checked_target(url: object, allowed_hosts: Sequence[str] = ()) -> str:
    """The normalised target, or `Unprocessable` naming what is wrong with it."""
    if not isinstance(url, str) or not url:
        raise Unprocessable("a target URL must be non-empty text")
    if len(url) > MAX_TARGET_LENGTH:
        raise Unprocessable(f"a target URL may be at most {MAX_TARGET_LENGTH} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in url):
        raise Unprocessable("a target URL may not contain control characters (CR, LF, tab, …)")
    if url != url.strip():
        raise Unprocessable("a target URL may not start or end with whitespace")
    if "\\" in url:
        raise Unprocessable("a target URL may not contain backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced '[' or ']' in the host
        raise Unprocessable("a target URL has an invalid host") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(scheme) :].startswith("://"):
        raise Unprocessable("a target URL must start with http:// or https://")
    if "@" in parts.netloc:
        raise Unprocessable("a target URL may not carry a user name or password (user@host)")
    host = _ascii_host(parts.hostname or "", parts.netloc)
    try:
        port = parts.port
    except ValueError:
        raise Unprocessable("a target URL has an invalid port") from None
    netloc = host if port is None else f"{host}:{port}"
    target = f"{scheme}://{netloc}{quote(parts.path, safe=_KEEP)}"
    if parts.query:
        target += "?" + quote(parts.query, safe=_KEEP)
    if parts.fragment:
        target += "#" + quote(parts.fragment, safe=_KEEP)
    if len(target) > MAX_TARGET_LENGTH:
        raise Unprocessable(f"a target URL may be at most {MAX_TARGET_LENGTH} characters")
    if allowed_hosts and not host_allowed(host, allowed_hosts):
        raise Unprocessable(f"the target host {host!r} is not in the allowed target hosts")
    return target


def _ascii_host(hostname: str, netloc: str) -> str:
    if not hostname:
        raise Unprocessable("a target URL needs a host")
    if netloc.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(hostname)}]"
        except ValueError:
            raise Unprocessable("a target URL has an invalid IPv6 host") from None
    try:
        host = hostname.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Unprocessable("a target URL has an invalid host name") from None
    if _HOST.fullmatch(host) is None or len(host) > 253:
        raise Unprocessable("a target URL has an invalid host name")
    return host


def host_allowed(host: str, allowed_hosts: Sequence[str]) -> bool:
    """`example.com` in the allowlist admits `example.com` and its subdomains, nothing else."""
    return any(host == entry or host.endswith("." + entry) for entry in allowed_hosts)


def is_redirectable(target: str) -> bool:
    """A last, cheap check before a signed target goes into `Location` (defence in depth)."""
    return _REDIRECTABLE.fullmatch(target) is not None
