"""`/t/{vendor}`: one analytics hit, forwarded, anonymised, redirected or blocked by consent.

The hot path: the consent cookie's verification and the user-agent classification are cached,
the count is an in-memory add, and forwarding is queued — the visitor never waits on a vendor
or on the store.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.consent.model import Consent
from gateway.consent.objections import NOTHING as NO_OBJECTION
from gateway.decision import Decision, RegionPolicy, Signals, decide
from gateway.endpoints.bodies import read_body
from gateway.endpoints.pixels import PIXEL_HEADERS, empty_response, gif_response
from gateway.errors import ClientError, NotFound
from gateway.model.counts import PixelCount
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule
from gateway.runtime import Gateway, gateway_of
from gateway.tracking.appender import client_key
from gateway.tracking.bodies import HitTooLarge, hits_in_body
from gateway.tracking.hits import outbound_hit, parse_query, redirect_target
from gateway.visitors.agents import classify_visitor
from gateway.visitors.headers import DecisionHeaders, geo_header_name, read_decision_headers
from gateway.visitors.network import client_ip

# The most a beacon can carry (Chromium's sendBeacon quota): matomo.js packs up to 50 requests
# into one bulk body, gtag a batch of events, both through sendBeacon.
MAX_HIT_BODY = 65536
Params = list[tuple[str, Any]]


async def track(request: Request) -> Response:
    """Every `/t` request the hot path (`gateway.endpoints.hot`) hands on: POST bodies,
    cross-origin calls, unknown vendors and paths."""
    gateway = gateway_of(request)
    vendor = request.path_params["vendor"]
    rule = gateway.rules.get(vendor)
    if rule is None:
        raise NotFound(f"no tag rule for vendor {vendor!r}", vendors=sorted(gateway.rules))
    sub_path = request.path_params.get("sub_path", "")
    if sub_path and not rule.hit.accepts_path(sub_path):
        raise NotFound(f"{vendor!r} takes no hits at this path", paths=list(rule.hit.paths))
    read = read_decision_headers(
        request.scope["headers"], geo_header_name(gateway.settings.network.geo_header)
    )
    consent = gateway.objections.standing(gateway.codec.decode_presented(read.consent_tokens))
    signals = visitor_signals(gateway, consent, read)
    post = request.method == "POST"
    # Read before deciding: a body the rule cannot read is refused whatever the consent.
    hits = await _hits(request, gateway, rule, post)
    # One decision for all hits of a request: they share every input decide() takes.
    # (`carry_out` may still block them all: a hit naming a property not the operator's.)
    try:
        decision, location = carry_out(
            gateway,
            rule,
            decide(rule, consent, signals),
            hits,
            consent,
            peer=request.client.host if request.client else None,
            forwarded_for=read.forwarded_for,
            user_agent=read.user_agent,
        )
    except HitTooLarge as error:
        gateway.metrics.rejected_hits.labels(rule.id, error.reason).inc()
        raise
    answer = {"X-Consent-Decision": f"{decision.outcome}; reason={decision.reason}"}
    if location is not None:
        status = 303 if post else 302
        # Built from the rule's upstream and already encoded: no re-quoting (as on /c).
        return Response(
            status_code=status, headers={**PIXEL_HEADERS, **answer, "Location": location}
        )
    return empty_response(answer) if post else gif_response(answer)


def visitor_signals(gateway: Gateway, consent: Consent | None, read: DecisionHeaders) -> Signals:
    """What `decide()` needs to know about the visitor besides their consent, from the
    request's headers (both paths of `/t` call this)."""
    settings = gateway.settings
    return Signals(
        policy_revision=settings.consent.revision,
        gpc=read.gpc,
        region_policy=_region_policy(gateway, read.region),
        is_bot=classify_visitor(read.user_agent).is_bot,
        # In memory, refreshed in the background: no store round trip per hit.
        objected=gateway.objections.objected(consent.consent_id) if consent else NO_OBJECTION,
        categories=_category_set(settings.consent.categories),
        vendor_categories=gateway.refusable_vendors()
        if consent and consent.refused_vendors
        else {},
        app_tracking=read.app_tracking,
    )


def carry_out(
    gateway: Gateway,
    rule: Rule,
    decision: Decision,
    hits: list[Params],
    consent: Consent | None,
    *,
    peer: str | None,
    forwarded_for: str | None,
    user_agent: str,
) -> tuple[Decision, str | None]:
    """Count the decision and do what it says: returns the decision carried out (a hit naming
    a value the rule does not allow is blocked, `not_allowed_value`) and the redirect's
    Location, or None when the hits were queued for forwarding (or blocked). Raises
    `HitTooLarge` before counting anything: a refused request counts once, as a rejection."""
    if decision.outcome != "block" and not all(rule.hit.pins(params) for params in hits):
        decision = NOT_ALLOWED_VALUE
    outbound: list[OutboundHit] = []
    client = None
    if decision.outcome in ("forward", "anonymous"):
        ip = client_ip(peer, forwarded_for, gateway.settings.network.trusted_proxies)
        client = client_key(ip)
        outbound = [outbound_hit(rule, p, decision, ip=ip, user_agent=user_agent) for p in hits]
        _check_sizes(gateway, outbound)
    gateway.counter.add(PixelCount(rule.id, decision.outcome))
    tally = gateway.metrics.tally
    tally.decision(rule.id, decision.outcome, decision.reason)
    if decision.outcome == "redirect":
        # A redirect sends one hit in its URL; the loader allows only one-hit bodies (form).
        location, redacted = redirect_target(rule, hits[0], decision.signalled)
        tally.redacted(rule.id, redacted)
        return decision, location
    for hit in outbound:
        tally.redacted(rule.id, hit.redacted)
        gateway.appender.submit(
            hit,
            consent_id=consent.consent_id if consent else None,
            signalled=decision.signalled,
            chosen_at=consent.chosen_at if consent else None,
            client=client,
        )
    return decision, None


NOT_ALLOWED_VALUE = Decision("block", "not_allowed_value")


def _check_sizes(gateway: Gateway, hits: list[OutboundHit]) -> None:
    """Raises `HitTooLarge` for a hit over `hit_max_bytes`, or hits over
    `hit_request_max_bytes` together: nothing of such a request is queued."""
    settings = gateway.settings
    sizes = [hit.size for hit in hits]
    if sizes and max(sizes) > settings.tracking.hit_max_bytes:
        raise HitTooLarge(
            "hit_too_large", f"a hit may be at most {settings.tracking.hit_max_bytes} bytes"
        )
    if sum(sizes) > settings.tracking.hit_request_max_bytes:
        limit = settings.tracking.hit_request_max_bytes
        raise HitTooLarge("request_too_large", f"one request's hits may be at most {limit} bytes")


@functools.lru_cache(maxsize=8)
def _category_set(categories: tuple[str, ...]) -> frozenset[str]:
    return frozenset(categories)


def _region_policy(gateway: Gateway, region: str) -> RegionPolicy:
    opt_out = region and region.strip().upper() in gateway.settings.network.opt_out_regions
    return "opt_out" if opt_out else "opt_in"


async def _hits(request: Request, gateway: Gateway, rule: Rule, post: bool) -> list[Params]:
    """The parameter lists of the hits in a request: the query, plus one per body event."""
    query = _query(request)
    if not post:
        return [query]
    try:
        body = await read_body(request, MAX_HIT_BODY, "a hit body")
        return hits_in_body(rule.hit, query, body)
    except ClientError as error:
        reason = getattr(error, "reason", error.error)
        gateway.metrics.rejected_hits.labels(rule.id, reason).inc()
        raise


def _query(request: Request) -> Params:
    return parse_query(request.scope["query_string"].decode("latin-1"))


routes = [
    Route("/t/{vendor}", track, methods=["GET", "POST"]),
    # The paths the vendor's own client appends to its base URL (gtag `/g/collect`, ...).
    Route("/t/{vendor}/{sub_path:path}", track, methods=["GET", "POST"]),
]
