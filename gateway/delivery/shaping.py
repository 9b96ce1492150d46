"""A decided hit as its vendor's request: done by the delivery worker right before sending.

Pure: the rule, the decided hit (`gateway.model.decided_hits`) and the categories it was
decided for in; the `OutboundHit` to send out. The edge already kept only what the decision
allows; here the rule's fixed parameters, the Consent Mode and signal parameters, the address
and the User-Agent are added, and everything is encoded the way the vendor reads it. The
destination is always the rule's upstream — nothing the client sent can change the host,
the scheme or the path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from gateway.model.decided_hits import DecidedHit
from gateway.model.encoded import Encoded
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule

Params = Sequence[tuple[str, Any]]
GATEWAY_AGENT = "consent-gateway"
_JSON = ("Content-Type", "application/json")
_FORM = ("Content-Type", "application/x-www-form-urlencoded")


def vendor_request(rule: Rule, decided: DecidedHit, signalled: frozenset[str]) -> OutboundHit:
    """The one request that carries `decided` to its vendor, saying no more than it allows."""
    hit = rule.hit
    assert hit.upstream is not None  # the loader requires it for forward rules
    pairs = [*decided.pairs, *hit.fixed_params, *decided.consent_mode]
    pairs += [(signal.name, signal.value(signalled)) for signal in hit.signal_params]
    agent = GATEWAY_AGENT if decided.anonymous else decided.user_agent or GATEWAY_AGENT
    headers = [("User-Agent", agent)]
    if decided.ip and hit.ip_param:
        pairs.append((hit.ip_param, decided.ip))
    elif decided.ip and hit.ip_header:
        headers.append((hit.ip_header, decided.ip))

    url = hit.upstream
    if hit.encoding != "query":
        in_url = [(k, v) for k, v in pairs if k in hit.upstream_query_params]
        pairs = [(k, v) for k, v in pairs if k not in hit.upstream_query_params]
        url = f"{hit.upstream}?{urlencode(in_url)}" if in_url else hit.upstream
    if hit.encoding == "json":
        nested = frozenset(signal.name for signal in hit.signal_params)
        body = json.dumps(_json_document(pairs, nested), separators=(",", ":")).encode()
        return OutboundHit(rule.id, hit.method, url, (*headers, _JSON), body, decided.redacted)
    encoded = urlencode(pairs)
    if hit.encoding == "form":
        form = (*headers, _FORM)
        return OutboundHit(rule.id, hit.method, url, form, encoded.encode(), decided.redacted)
    url = f"{hit.upstream}?{encoded}" if encoded else hit.upstream
    return OutboundHit(rule.id, hit.method, url, tuple(headers), b"", decided.redacted)


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


_quote_key = lru_cache(maxsize=4096)(quote_plus)  # only allowlisted keys get here


def urlencode(pairs: Params) -> str:
    """`pairs` as a query string: a value still encoded as it came goes as it came."""
    return "&".join(f"{_quote_key(key)}={_query_value(value)}" for key, value in pairs)


def _query_value(value: Any) -> str:
    if isinstance(value, Encoded):
        return value
    return quote_plus(value if isinstance(value, str) else json.dumps(value, separators=(",", ":")))
