"""Personal data that no allowlist lets out: URL queries on anonymous pings, e-mail addresses
everywhere.

Pure functions over the parameters a hit is about to carry (after the rule's allowlist):

- **URLs, by value.** On an anonymous ping, every value that is an absolute URL — whatever
  the parameter's name, inside JSON lists and objects too, percent-encoded once or more —
  loses its fragment and every query key outside the rule's `url_query_keys`. A site's own
  rule that forgot `url_params` still sends no `?user=…&token=…`.
- **E-mail addresses.** Every value of every hit, with or without consent, has each e-mail
  address replaced by `[email]` (plain or percent-encoded, in a query, a form or JSON). Analytics
  vendors forbid receiving them (GA4's terms say so); a rule may exempt the parameters its
  vendor's protocol carries them in by design (`email_params`: Meta's hashed `ud[em]`), and
  only on a consented hit.

`url_params` names parameters that hold a URL (absolute or not): on an anonymous ping they are
stripped the same way whatever their value looks like.

    >>> pairs, redacted = redact_params(
    ...     [("dl", "https://a.example/p?email=x%40y.example&utm_source=n#top"),
    ...      ("ep.note", "reset for ada@example.com")],
    ...     anonymous=True, url_params=NameSet(), url_query_keys=NameSet(("utm_*",)),
    ...     email_params=NameSet())
    >>> pairs, redacted
    ([('dl', 'https://a.example/p?utm_source=n'), ('ep.note', 'reset for [email]')], 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, unquote_plus

from gateway.model.encoded import Encoded
from gateway.rules.name_sets import NameSet

EMAIL_MARK = "[email]"
REDACTED_MARK = "[redacted]"
_DECODE_ROUNDS = 4  # "percent-encoded more than once": enough for any honest client
# Cheap tests on the raw value first: most values hold neither an `@` nor a scheme (a colon,
# encoded or not, followed by a slash, encoded or not).
_MAY_HOLD_EMAIL = re.compile(r"@|%(?:25)*40")
_MAY_HOLD_URL = re.compile(r"(?::|%(?:25)*3a)(?:/|%(?:25)*2f)", re.IGNORECASE)
# Every piece bounded (RFC 5321's lengths), so a crafted value costs linear time, never
# quadratic; `\w` takes the letters of any script (`ada@почта.рф`).
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[^\W_][\w-]{0,62}\.){1,8}[^\W\d_]{2,63}")
# An absolute URL anywhere in a value (`see https://a.example/p?token=…`): up to a space or quote.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,15}://[^\s\"'<>]{1,4096}")
# Still encoded after every decoding round: more layers than any honest client sends.
_STILL_ENCODED = re.compile(r"%(?:25)*(?:40|3a|2f)", re.IGNORECASE)
MAX_SCANNED = 16384  # characters of a value read for addresses and URLs; a longer one is cut


def redact_params(
    pairs: Sequence[tuple[str, Any]],
    *,
    anonymous: bool,
    url_params: NameSet,
    url_query_keys: NameSet,
    email_params: NameSet,
) -> tuple[list[tuple[str, Any]], int]:
    """The pairs with URL queries (anonymous only) and e-mail addresses taken out, and how many
    values had an e-mail address redacted."""
    redactor = _Redactor(anonymous, url_query_keys)
    kept: list[tuple[str, Any]] = []
    for name, value in pairs:
        if (
            isinstance(value, str)
            and _MAY_HOLD_EMAIL.search(value) is None
            and not (anonymous and (_MAY_HOLD_URL.search(value) or name in url_params))
        ):
            kept.append((name, value))  # nothing in it can have to go: most values
        elif not anonymous and name in email_params:
            kept.append((name, value))  # the vendor's protocol carries it, and consent was given
        elif anonymous and name in url_params and isinstance(value, str):
            kept.append((name, redactor.text(value, is_url=True)))
        else:
            kept.append((name, redactor.value(value)))
    return kept, redactor.emails


class _Redactor:
    def __init__(self, anonymous: bool, url_query_keys: NameSet) -> None:
        self.anonymous, self.url_query_keys, self.emails = anonymous, url_query_keys, 0

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value  # numbers, booleans, null

    def text(self, value: str, *, is_url: bool = False) -> str:
        """A text value as it may leave: unchanged (the same object, still encoded as it came)
        unless something had to go, then decoded and redacted."""
        may_email = _MAY_HOLD_EMAIL.search(value) is not None
        may_url = self.anonymous and (is_url or _MAY_HOLD_URL.search(value) is not None)
        if not (may_email or may_url):
            return value
        decoded = fully_decoded(value)
        plain = decoded[:MAX_SCANNED]
        if _STILL_ENCODED.search(plain):  # in doubt, nothing of it leaves
            self.emails += may_email
            return REDACTED_MARK
        changed = plain
        if may_url:
            keep = self.url_query_keys
            if is_url:
                changed = strip_url(changed.strip(), keep)
            changed = _URL.sub(lambda found: strip_url(found.group(0), keep), changed)
        if may_email:
            changed, found = _EMAIL.subn(EMAIL_MARK, changed)
            self.emails += found > 0
        return value if changed == plain and len(decoded) <= MAX_SCANNED else changed


def fully_decoded(value: str) -> str:
    """`value` percent-decoded until it no longer changes (at most a few rounds). Only a value
    still encoded as it came in a query or form (`Encoded`) reads `+` as a space."""
    if isinstance(value, Encoded):
        value = unquote_plus(value)
    for _ in range(_DECODE_ROUNDS):
        if "%" not in value:
            break
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    return value


def strip_url(url: str, keep: NameSet) -> str:
    """`url` without its fragment, and without query keys outside `keep`.

    >>> strip_url("https://a.example/p?email=x%40y&utm_source=news#top", NameSet(("utm_*",)))
    'https://a.example/p?utm_source=news'
    """
    base, _, query = url.split("#", 1)[0].partition("?")
    kept = [pair for pair in query.split("&") if pair and _query_key(pair) in keep]
    return f"{base}?{'&'.join(kept)}" if kept else base


def _query_key(pair: str) -> str:
    return unquote_plus(pair.partition("=")[0])
