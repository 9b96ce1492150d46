"""Shaping a hit for its vendor: only allowlisted parameters, identifiers and IP as the rule says.

Pure functions: they take the rule, the decision and what the client sent, and return what may
leave the gateway. The destination is always the rule's upstream — nothing the client sends
can change the host, the scheme or the path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from gateway.rules.model import Rule
from gateway.tracking.consent_mode import consent_mode_params
from gateway.visitors.network import IPAddress, truncate_ip

Params = Sequence[tuple[str, Any]]
GATEWAY_AGENT = "consent-gateway"


@dataclass(frozen=True, slots=True)
class OutboundHit:
    """One request the forwarder will send; everything in it was allowed by a rule."""

    vendor: str
    method: str
    url: str  # the rule's upstream, plus the query string for query-encoded hits
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


def allowed_params(rule: Rule, params: Params, *, anonymous: bool) -> list[tuple[str, Any]]:
    hit = rule.hit
    fixed = dict(hit.fixed_params)
    kept = [(k, v) for k, v in params if k not in fixed and hit.keeps_param(k, anonymous=anonymous)]
    return kept + list(hit.fixed_params)


def outbound_hit(
    rule: Rule,
    params: Params,
    *,
    anonymous: bool,
    ip: IPAddress | None,
    user_agent: str,
    granted: frozenset[str],
    chosen: bool,
) -> OutboundHit:
    """The hit to send for a `forward` (anonymous=False) or `anonymous` decision."""
    hit = rule.hit
    assert hit.upstream is not None  # the loader requires it for forward rules
    pairs = allowed_params(rule, params, anonymous=anonymous)
    if hit.consent_mode:
        pairs += consent_mode_params(granted if not anonymous else frozenset(), chosen)
    headers = [("User-Agent", GATEWAY_AGENT if anonymous else user_agent[:512] or GATEWAY_AGENT)]
    ip_text = _ip_for_vendor(hit.ip_handling(anonymous=anonymous), ip)
    if ip_text and hit.ip_param:
        pairs.append((hit.ip_param, ip_text))
    elif ip_text and hit.ip_header:
        headers.append((hit.ip_header, ip_text))

    if hit.encoding == "json":
        body = json.dumps(dict(pairs), separators=(",", ":")).encode()
        return OutboundHit(rule.id, hit.method, hit.upstream, (*headers, _JSON), body)
    encoded = urlencode([(k, _text(v)) for k, v in pairs])
    if hit.encoding == "form":
        return OutboundHit(rule.id, hit.method, hit.upstream, (*headers, _FORM), encoded.encode())
    url = f"{hit.upstream}?{encoded}" if encoded else hit.upstream
    return OutboundHit(rule.id, hit.method, url, tuple(headers))


def redirect_location(rule: Rule, params: Params) -> str:
    """Where a `redirect` decision sends the browser: the rule's upstream and allowed params."""
    assert rule.hit.upstream is not None
    encoded = urlencode([(k, _text(v)) for k, v in allowed_params(rule, params, anonymous=False)])
    return f"{rule.hit.upstream}?{encoded}" if encoded else rule.hit.upstream


_JSON = ("Content-Type", "application/json")
_FORM = ("Content-Type", "application/x-www-form-urlencoded")


def _ip_for_vendor(handling: str, ip: IPAddress | None) -> str:
    if ip is None or handling == "drop":
        return ""
    return truncate_ip(ip) if handling == "truncate" else str(ip)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
