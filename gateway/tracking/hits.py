"""Deciding what of a hit may leave: only allowlisted parameters, identifiers and IP as the
rule says.

Pure functions: they take the rule, the decision and what the client sent, and return what may
leave the gateway. The edge keeps that as a `DecidedHit` (`decided_hit`), the queue holds it,
and the delivery worker encodes it for its vendor (`gateway.delivery.shaping`); a redirect is
shaped here at once (`redirect_target`). The destination is always the rule's upstream —
nothing the client sends can change the host, the scheme or the path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from gateway.consent.model import MARKETING
from gateway.decision import DENIED, Decision
from gateway.delivery.shaping import GATEWAY_AGENT, urlencode, vendor_request
from gateway.model.addresses import IPAddress, truncate_ip
from gateway.model.decided_hits import MAX_AGENT, DecidedHit
from gateway.model.encoded import Encoded
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule
from gateway.tracking.consent_mode import consent_mode_params
from gateway.tracking.redaction import redact_params

Params = Sequence[tuple[str, Any]]
__all__ = ["GATEWAY_AGENT", "decided_hit", "outbound_hit", "parse_query", "redirect_target"]
# What a query value may hold unencoded; anything else is decoded and encoded again.
_CLEAN_VALUE = re.compile(r"(?:[A-Za-z0-9\-._~!$'()*,;:@/?=]|%[0-9A-Fa-f]{2}|\+)*")
# A whole query of clean values (`&` between pieces: never part of an escape).
_CLEAN_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$'()*,;:@/?=&]|%[0-9A-Fa-f]{2}|\+)*")


def parse_query(raw: str) -> list[tuple[str, Any]]:
    """`a=1&b=x%20y` → [("a", Encoded("1")), ("b", Encoded("x%20y"))]; keys are decoded."""
    # A query a client library sent is clean as a whole: one scan of it instead of one per value.
    clean = _CLEAN_QUERY.fullmatch(raw) is not None
    pairs: list[tuple[str, Any]] = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if not clean and not _CLEAN_VALUE.fullmatch(value):
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
    """`_kept_params`, then the fixed ones."""
    kept, emails = _kept_params(rule, params, anonymous=anonymous, signalled=signalled)
    return kept + list(rule.hit.fixed_params), emails


def _kept_params(
    rule: Rule, params: Params, *, anonymous: bool, signalled: frozenset[str]
) -> tuple[list[tuple[str, Any]], int]:
    """The allowlisted parameters (advertising ids only while marketing is signalled), with URL
    queries and e-mail addresses taken out; and how many values had an e-mail address
    redacted."""
    hit = rule.hit
    verdict = 2 if anonymous else int(MARKETING in signalled)  # the index into `passes`
    passes = hit.passes
    kept = [(k, v) for k, v in params if passes(k)[verdict]]
    return redact_params(
        kept,
        anonymous=anonymous,
        url_params=hit.url_params,
        url_query_keys=hit.url_query_keys,
        email_params=hit.email_params,
    )


def decided_hit(
    rule: Rule,
    params: Params,
    decision: Decision,
    *,
    ip: IPAddress | None,
    user_agent: str,
) -> DecidedHit:
    """What the queue keeps of a hit for a `forward` or `anonymous` decision: only what the
    decision allows (`gateway.model.decided_hits`); the delivery worker shapes the request."""
    hit = rule.hit
    assert decision.outcome in ("forward", "anonymous")
    anonymous = decision.outcome == "anonymous"
    pairs, redacted = _kept_params(rule, params, anonymous=anonymous, signalled=decision.signalled)
    consent_mode = consent_mode_params(decision.consent_mode or DENIED) if hit.consent_mode else ()
    sends_ip = hit.ip_param or hit.ip_header
    return DecidedHit(
        rule.id,
        tuple(pairs),
        anonymous=anonymous,
        consent_mode=consent_mode,
        ip=_ip_for_vendor(hit.ip_handling(anonymous=anonymous), ip) if sends_ip else "",
        user_agent="" if anonymous else user_agent[:MAX_AGENT],
        redacted=redacted,
    )


def outbound_hit(
    rule: Rule,
    params: Params,
    decision: Decision,
    *,
    ip: IPAddress | None,
    user_agent: str,
) -> OutboundHit:
    """The hit to send for a `forward` or `anonymous` decision, saying no more than it allows:
    the edge's `decided_hit` as the delivery worker shapes it."""
    decided = decided_hit(rule, params, decision, ip=ip, user_agent=user_agent)
    return vendor_request(rule, decided, decision.signalled)


def redirect_location(rule: Rule, params: Params, signalled: frozenset[str] = frozenset()) -> str:
    """Where a `redirect` decision sends the browser: the rule's upstream and allowed params."""
    return redirect_target(rule, params, signalled)[0]


def redirect_target(
    rule: Rule, params: Params, signalled: frozenset[str] = frozenset()
) -> tuple[str, int]:
    """`redirect_location`, and how many values had an e-mail address redacted."""
    assert rule.hit.upstream is not None
    pairs, redacted = _shaped_params(rule, params, anonymous=False, signalled=signalled)
    encoded = urlencode(pairs)
    return (f"{rule.hit.upstream}?{encoded}" if encoded else rule.hit.upstream), redacted


def _ip_for_vendor(handling: str, ip: IPAddress | None) -> str:
    if ip is None or handling == "drop":
        return ""
    return truncate_ip(ip) if handling == "truncate" else str(ip)
