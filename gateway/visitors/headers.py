"""The request headers a decision reads, read once and alike on every path.

`read_decision_headers` takes the raw ASGI header list — the pure-ASGI fast path and the
Starlette endpoints both pass `scope["headers"]` — so there is exactly one reading of each
header, and one answer to a header sent more than once. An ambiguous signal never means more
tracking:

=====================  =============================================================
header sent twice      reads as
=====================  =============================================================
``Authorization``      no token at all (the cookie does not count either): no consent
``Cookie``             the headers are joined (HTTP/2 splits them); every distinct
                       ``cg_consent`` value is kept: the codec reads them as one
                       consent only if the valid ones share one consent id
                       (`ConsentCodec.decode_presented`), else as no consent
``App-Tracking``       refused, unless every copy says ``authorized``
``Sec-GPC``            on if any copy says ``1``
``User-Agent``         the copies joined by a space (a bot's mark in either counts)
the geo header         no region (the opt-in default) unless every copy agrees
``X-Forwarded-For``    the copies joined in order, as RFC 9110 combines field lines
=====================  =============================================================

    >>> facts = read_decision_headers(
    ...     [(b"cookie", b"a=1; cg_consent=tok"), (b"app-tracking", b"denied"),
    ...      (b"app-tracking", b"authorized")], geo_header=None)
    >>> facts.consent_tokens, facts.app_tracking
    (('tok',), 'refused')
    >>> read_decision_headers([(b"authorization", b"Consent x"),
    ...                        (b"authorization", b"Consent y")], None).consent_tokens
    ()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from gateway.consent.cookie import COOKIE_NAME, presented_token
from gateway.visitors.platform import APP_TRACKING_HEADER, AppTracking, app_tracking_signal

_APP_TRACKING: Final = APP_TRACKING_HEADER.encode()
_COOKIE_PREFIX: Final = COOKIE_NAME + "="
_Kind = Literal["cookie", "authorization", "user-agent", "sec-gpc", "app", "xff", "geo"]
_KINDS: Final[dict[bytes, _Kind]] = {
    b"cookie": "cookie",
    b"authorization": "authorization",
    b"user-agent": "user-agent",
    b"sec-gpc": "sec-gpc",
    _APP_TRACKING: "app",
    b"x-forwarded-for": "xff",
}


@dataclass(frozen=True, slots=True)
class DecisionHeaders:
    """What a request's headers say for a consent decision (values, not raw headers)."""

    # `Authorization: Consent …` (apps), else every distinct `cg_consent` cookie value.
    consent_tokens: tuple[str, ...]
    user_agent: str
    gpc: bool
    region: str  # from the configured geo header, "" when absent or ambiguous
    app_tracking: AppTracking
    forwarded_for: str | None


def read_decision_headers(
    raw: Iterable[tuple[bytes, bytes]], geo_header: bytes | None
) -> DecisionHeaders:
    """The decision's view of raw ASGI headers (lower-case names), duplicates resolved as the
    module's table says."""
    seen: dict[_Kind, list[str]] = {}
    for name, value in raw:
        kind = _KINDS.get(name) or ("geo" if name == geo_header else None)
        if kind is not None:
            seen.setdefault(kind, []).append(value.decode("latin-1"))
    authorizations = seen.get("authorization", ())
    cookies = seen.get("cookie")
    tokens: tuple[str, ...] = ()
    if len(authorizations) == 1:
        app_token = presented_token(authorizations[0], None)
        tokens = (app_token,) if app_token else ()
    if not authorizations or (len(authorizations) == 1 and not tokens):
        tokens = consent_cookies(cookies) if cookies else ()
    # Two Authorization headers: which one speaks for the person? Neither, nor the cookie.
    regions = {value.strip() for value in seen.get("geo", ())}
    forwarded = seen.get("xff")
    return DecisionHeaders(
        consent_tokens=tokens,
        user_agent=" ".join(seen.get("user-agent", ())),
        gpc=any(value.strip() == "1" for value in seen.get("sec-gpc", ())),
        region=regions.pop() if len(regions) == 1 else "",
        app_tracking=app_tracking_signal(seen.get("app")),
        forwarded_for=", ".join(forwarded) if forwarded else None,
    )


@lru_cache(maxsize=8)
def geo_header_name(setting: str | None) -> bytes | None:
    """The configured geo header as ASGI spells header names (lower-case bytes)."""
    return setting.strip().lower().encode("latin-1") if setting else None


def consent_cookies(headers: Iterable[str]) -> tuple[str, ...]:
    """Every distinct non-empty `cg_consent` value in Cookie headers, in order.

    No cache: a cache keyed by whole Cookie headers grows with whatever clients send. The scan
    is one `find` per occurrence of the name.

    >>> consent_cookies(["theme=dark; cg_consent=abc; x=1"])
    ('abc',)
    >>> consent_cookies(["xcg_consent=no", "cg_consent=abc"]), consent_cookies(["cg_consent=a; cg_consent=b"])
    (('abc',), ('a', 'b'))
    """
    values: dict[str, None] = {}
    for header in headers:
        start = header.find(_COOKIE_PREFIX)
        while start != -1:
            before = start - 1
            while before >= 0 and header[before] in " \t":
                before -= 1
            value_at = start + len(_COOKIE_PREFIX)
            end = header.find(";", value_at)
            if before < 0 or header[before] == ";":  # the name itself, not `xcg_consent`
                value = header[value_at : end if end != -1 else len(header)].strip()
                unquoted = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
                if unquoted:
                    values[unquoted] = None
            start = header.find(_COOKIE_PREFIX, value_at)
    return tuple(values)
