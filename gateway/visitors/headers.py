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
from functools import lru_cache
from typing import Final, Literal, NamedTuple

from gateway.consent.cookie import COOKIE_NAME, presented_token
from gateway.visitors.platform import APP_TRACKING_HEADER, AppTracking, app_tracking_signal

_APP_TRACKING: Final = APP_TRACKING_HEADER.encode()
_COOKIE_PREFIX: Final = f"{COOKIE_NAME}="
_Kind = Literal["cookie", "authorization", "user-agent", "sec-gpc", "app", "xff", "geo"]
_KINDS: Final[dict[bytes, _Kind]] = {
    b"cookie": "cookie",
    b"authorization": "authorization",
    b"user-agent": "user-agent",
    b"sec-gpc": "sec-gpc",
    _APP_TRACKING: "app",
    b"x-forwarded-for": "xff",
}


class DecisionHeaders(NamedTuple):
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
    module's table says. One pass; a header sent once (the common case) is one dict store."""
    seen: dict[_Kind, bytes] = {}
    repeated: dict[_Kind, list[bytes]] = {}
    for name, value in raw:
        kind = _KINDS.get(name)
        if kind is None:
            if geo_header is None or name != geo_header:
                continue
            kind = "geo"
        if kind in seen:
            repeated.setdefault(kind, [seen[kind]]).append(value)
        else:
            seen[kind] = value
    if not repeated:  # each header once: no ambiguity to resolve
        return DecisionHeaders(
            _tokens(seen.get("authorization"), seen.get("cookie")),
            seen["user-agent"].decode("latin-1") if "user-agent" in seen else "",
            seen.get("sec-gpc", b"").strip() == b"1",
            seen["geo"].decode("latin-1").strip() if "geo" in seen else "",
            app_tracking_signal((seen["app"].decode("latin-1"),) if "app" in seen else None),
            seen["xff"].decode("latin-1") if "xff" in seen else None,
        )
    every = {kind: repeated.get(kind) or [value] for kind, value in seen.items()}
    text = {kind: [value.decode("latin-1") for value in values] for kind, values in every.items()}
    regions = {value.strip() for value in text.get("geo", ())}
    forwarded = text.get("xff")
    cookies = text.get("cookie")
    return DecisionHeaders(
        # Two Authorization headers: which one speaks for the person? Neither, nor the cookie.
        ()
        if len(every.get("authorization", ())) > 1
        else _tokens(seen.get("authorization"), None, cookies),
        " ".join(text.get("user-agent", ())),
        any(value.strip() == "1" for value in text.get("sec-gpc", ())),
        regions.pop() if len(regions) == 1 else "",
        app_tracking_signal(text.get("app")),
        ", ".join(forwarded) if forwarded else None,
    )


def presented_tokens(raw: Iterable[tuple[bytes, bytes]]) -> tuple[str, ...]:
    """`read_decision_headers(raw, …).consent_tokens`, reading only the Cookie and
    Authorization headers, for the routes that need nothing else (reading, withdrawing, one's
    own receipts, a form's visitor): the same values, the same answer to a header sent twice."""
    cookies: list[str] = []
    authorization: bytes | None = None
    for name, value in raw:
        if name == b"cookie":
            cookies.append(value.decode("latin-1"))
        elif name == b"authorization":
            if authorization is not None:
                return ()  # two: which one speaks for the person? Neither, nor the cookie.
            authorization = value
    return _tokens(authorization, None, cookies)


def _tokens(
    authorization: bytes | None, cookie: bytes | None, cookies: list[str] | None = None
) -> tuple[str, ...]:
    """`Authorization: Consent <token>` (an app), else the `cg_consent` cookies."""
    if authorization is not None:
        app_token = presented_token(authorization.decode("latin-1"), None)
        if app_token:
            return (app_token,)
    if cookies is None:
        cookies = [cookie.decode("latin-1")] if cookie is not None else []
    return consent_cookies(cookies) if cookies else ()


@lru_cache(maxsize=8)
def geo_header_name(setting: str | None) -> bytes | None:
    """The configured geo header as ASGI spells header names (lower-case bytes)."""
    return setting.strip().lower().encode("latin-1") if setting else None


def consent_cookies(headers: Iterable[str]) -> tuple[str, ...]:
    """Every distinct non-empty `cg_consent` value in Cookie headers, in order.

    No cache: a cache keyed by whole Cookie headers grows with whatever clients send. The scan
    is one `str.find` per occurrence of the name (a regular expression cost 1–2 µs a header).

    >>> consent_cookies(["theme=dark; cg_consent=abc; x=1"])
    ('abc',)
    >>> consent_cookies(["xcg_consent=no", "cg_consent=abc"]), consent_cookies(["cg_consent=a; cg_consent=b"])
    (('abc',), ('a', 'b'))
    """
    values: dict[str, None] = {}
    for header in headers:
        at = header.find(_COOKIE_PREFIX)
        while at != -1:
            # The name starts the header or follows a `;` or a space: never `xcg_consent=`.
            if at == 0 or header[at - 1] in "; \t":
                start = at + len(_COOKIE_PREFIX)
                end = header.find(";", start)
                value = (header[start:] if end == -1 else header[start:end]).strip(" \t")
                if len(value) > 1 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                if value:
                    values[value] = None
                if end == -1:
                    break
                at = end  # the value runs to the `;`: a name inside it is part of it
            at = header.find(_COOKIE_PREFIX, at + 1)
    return tuple(values)
