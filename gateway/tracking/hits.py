"""Shaping a hit for its vendor: only allowlisted parameters, identifiers and IP as the rule says.

Pure functions: they take the rule, the decision and what the client sent, and return what may
leave the gateway. The destination is always the rule's upstream — nothing the client sends
can change the host, the scheme or the path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from gateway.consent.model import MARKETING
from gateway.decision import DENIED, Decision
from gateway.model.addresses import IPAddress, truncate_ip
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule
from gateway.tracking.consent_mode import consent_mode_params
from gateway.tracking.encoded import Encoded
from gateway.tracking.redaction import redact_params

Params = Sequence[tuple[str, Any]]
GATEWAY_AGENT = "consent-gateway"
# What a query value may hold unencoded; anything else is decoded and encoded again.
_CLEAN_VALUE = re.compile(r"(?:[A-Za-z0-9\-._~!$'()*,;:@/?=]|%[0-9A-Fa-f]{2}|\+)*")


def parse_query(raw: str) -> list[tuple[str, Any]]:
    """`a=1&b=x%20y` → [("a", Encoded("1")), ("b", Encoded("x%20y"))]; keys are decoded."""
    pairs: list[tuple[str, Any]] = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if not _CLEAN_VALUE.fullmatch(value):
            value = quote_plus(unquote_plus(value))
        pairs.append((key, Encoded(value)))
    return pairs


def allowed_params(
    rule: Rule, params: Params, *, anonymous: bool, signalled: frozenset[str] = frozenset()
) -> list[tuple[str, Any]]:
    """What the client sent that may pass, redacted (`gateway.tracking.redaction`)."""
    return _shaped_params(rule, params, anonymous=anonymous, signalled=signalled)[0]


def _shaped_params(
    rule: Rule, params: Params, *, anonymous: bool, signalled: frozenset[str]
) -> tuple[list[tuple[str, Any]], int]:
    """The allowlisted parameters (advertising ids only while marketing is signalled), with URL
    queries and e-mail addresses taken out, then the fixed ones; and how many values had an
    e-mail address redacted."""
    hit = rule.hit
    fixed = dict(hit.fixed_params)
    advertising = MARKETING in signalled
    kept = [
        (k, v)
        for k, v in params
        if k not in fixed and hit.keeps_param(k, anonymous=anonymous, advertising=advertising)
    ]
    redacted, emails = redact_params(
        kept,
        anonymous=anonymous,
        url_params=hit.url_params,
        url_query_keys=hit.url_query_keys,
        email_params=hit.email_params,
    )
    return redacted + list(hit.fixed_params), emails


def outbound_hit(
    rule: Rule,
    params: Params,
    decision: Decision,
    *,
    ip: IPAddress | None,
    user_agent: str,
) -> OutboundHit:
    """The hit to send for a `forward` or `anonymous` decision, saying no more than it allows."""
    hit = rule.hit
    assert hit.upstream is not None  # the loader requires it for forward rules
    assert decision.outcome in ("forward", "anonymous")
    anonymous = decision.outcome == "anonymous"
    pairs, redacted = _shaped_params(
        rule, params, anonymous=anonymous, signalled=decision.signalled
    )
    if hit.consent_mode:
        pairs += consent_mode_params(decision.consent_mode or DENIED)
    pairs += [(signal.name, signal.value(decision.signalled)) for signal in hit.signal_params]
    headers = [("User-Agent", GATEWAY_AGENT if anonymous else user_agent[:512] or GATEWAY_AGENT)]
    ip_text = _ip_for_vendor(hit.ip_handling(anonymous=anonymous), ip)
    if ip_text and hit.ip_param:
        pairs.append((hit.ip_param, ip_text))
    elif ip_text and hit.ip_header:
        headers.append((hit.ip_header, ip_text))

    if hit.encoding != "query":
        in_url = [(k, v) for k, v in pairs if k in hit.upstream_query_params]
        pairs = [(k, v) for k, v in pairs if k not in hit.upstream_query_params]
        url = f"{hit.upstream}?{_urlencode(in_url)}" if in_url else hit.upstream
    if hit.encoding == "json":
        nested = frozenset(signal.name for signal in hit.signal_params)
        body = json.dumps(_json_document(pairs, nested), separators=(",", ":")).encode()
        return OutboundHit(rule.id, hit.method, url, (*headers, _JSON), body, redacted)
    encoded = _urlencode(pairs)
    if hit.encoding == "form":
        return OutboundHit(rule.id, hit.method, url, (*headers, _FORM), encoded.encode(), redacted)
    url = f"{hit.upstream}?{encoded}" if encoded else hit.upstream
    return OutboundHit(rule.id, hit.method, url, tuple(headers), b"", redacted)


def _json_document(pairs: Params, nested: frozenset[str]) -> dict[str, Any]:
    """The JSON body: client values as they came (decoded); a dotted signal parameter nests
    (`consent.ad_user_data` → `{"consent": {"ad_user_data": …}}`)."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        plain = unquote_plus(value) if isinstance(value, Encoded) else value
        head, _, rest = key.partition(".")
        if key in nested and rest:
            inner = document.get(head)
            document[head] = {**(inner if isinstance(inner, dict) else {}), rest: plain}
        else:
            document[key] = plain
    return document


def redirect_location(rule: Rule, params: Params, signalled: frozenset[str] = frozenset()) -> str:
    """Where a `redirect` decision sends the browser: the rule's upstream and allowed params."""
    return redirect_target(rule, params, signalled)[0]


def redirect_target(
    rule: Rule, params: Params, signalled: frozenset[str] = frozenset()
) -> tuple[str, int]:
    """`redirect_location`, and how many values had an e-mail address redacted."""
    assert rule.hit.upstream is not None
    pairs, redacted = _shaped_params(rule, params, anonymous=False, signalled=signalled)
    encoded = _urlencode(pairs)
    return (f"{rule.hit.upstream}?{encoded}" if encoded else rule.hit.upstream), redacted


_JSON = ("Content-Type", "application/json")
_FORM = ("Content-Type", "application/x-www-form-urlencoded")


def _ip_for_vendor(handling: str, ip: IPAddress | None) -> str:
    if ip is None or handling == "drop":
        return ""
    return truncate_ip(ip) if handling == "truncate" else str(ip)


_quote_key = lru_cache(maxsize=4096)(quote_plus)  # only allowlisted keys get here


def _urlencode(pairs: Params) -> str:
    return "&".join(f"{_quote_key(key)}={_query_value(value)}" for key, value in pairs)


def _query_value(value: Any) -> str:
    if isinstance(value, Encoded):
        return value
    return quote_plus(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
