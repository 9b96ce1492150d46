"""`/t/{vendor}`: one analytics hit, forwarded, anonymised, redirected or blocked by consent.

The hot path, and its one implementation (a `HotRoute`, pure ASGI): the consent cookie's
verification and the user-agent classification are cached (keyed by the cookie's value and
the bounded agent text, never by a raw header), the count is an in-memory add, and forwarding
is queued — the visitor never waits on a vendor or on the store.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope

from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.consent.objections import NOTHING as NO_OBJECTION
from gateway.counting.counters import EventCounter
from gateway.decision import NO_VENDOR_CATEGORIES, Decision, RegionPolicy, Signals, decide
from gateway.delivery.queue import QueuedHit
from gateway.endpoints.answers import Answer, RawHeaders, raw_headers
from gateway.endpoints.bodies import read_body
from gateway.endpoints.hot import HotRoute
from gateway.endpoints.pixels import GIF, PIXEL_HEADERS
from gateway.errors import ClientError, NotFound
from gateway.metrics import Metrics
from gateway.model.counts import PixelCount
from gateway.objection_registry import ObjectionRegistry
from gateway.rules.model import Rule
from gateway.rules.selection import refusable_vendors
from gateway.settings import ConsentSection, NetworkSection, TrackingSection
from gateway.tracking.appender import HitAppender, client_key
from gateway.tracking.bodies import HitTooLarge, hits_in_body
from gateway.tracking.hits import decided_hit, parse_query, redirect_target
from gateway.visitors.agents import classify_visitor
from gateway.visitors.headers import DecisionHeaders, geo_header_name, read_decision_headers
from gateway.visitors.network import client_ip

# The most a beacon can carry (Chromium's sendBeacon quota): matomo.js packs up to 50 requests
# into one bulk body, gtag a batch of events, both through sendBeacon.
MAX_HIT_BODY = 65536
Params = list[tuple[str, Any]]
NOT_ALLOWED_VALUE = Decision("block", "not_allowed_value")


@dataclass(frozen=True, slots=True)
class Tracking:
    """What `/t` uses, and nothing else: its settings' sections, the rules, the consent codec
    and registry, the counters and the edge's queue appender."""

    consent_settings: ConsentSection
    network: NetworkSection
    hit_limits: TrackingSection
    rules: Mapping[str, Rule]
    codec: ConsentCodec
    objections: ObjectionRegistry
    counter: EventCounter
    metrics: Metrics
    appender: HitAppender
    # Derived once from the settings and rules, not per hit.
    geo_header: bytes | None = field(init=False)
    revision: int = field(init=False)
    opt_out_regions: tuple[str, ...] = field(init=False)
    categories: frozenset[str] = field(init=False)
    vendor_categories: Mapping[str, str] = field(init=False)
    # Decisions without consent, by (rule, GPC, region policy, bot, app signal): see `decide`.
    unconsented: dict[tuple[str, bool, str, bool, str], Decision] = field(
        init=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        derived = {
            "geo_header": geo_header_name(self.network.geo_header),
            "revision": self.consent_settings.revision,
            "opt_out_regions": self.network.opt_out_regions,
            "categories": frozenset(self.consent_settings.categories),
            "vendor_categories": refusable_vendors(self.rules),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    def routes(self) -> list[HotRoute]:
        methods = ("GET", "HEAD", "POST")
        return [
            HotRoute("/t/{vendor}", self.track, methods),
            # The paths the vendor's own client appends to its base URL (gtag `/g/collect`, ...).
            HotRoute("/t/{vendor}/{sub_path:path}", self.track, methods),
        ]

    async def track(self, scope: Scope, receive: Receive, rest: str) -> Answer:
        vendor, _, sub_path = rest.partition("/")
        rule = self.rules.get(vendor)
        if rule is None:
            raise NotFound(f"no tag rule for vendor {vendor!r}", vendors=sorted(self.rules))
        if sub_path and not rule.hit.accepts_path(sub_path):
            raise NotFound(f"{vendor!r} takes no hits at this path", paths=list(rule.hit.paths))
        post = scope["method"] == "POST"
        # A body is read before deciding: one the rule cannot read is refused whatever the
        # consent. A GET carries one hit, its query: read only when something is sent.
        hits = await self._body_hits(scope, receive, rule) if post else None
        read = read_decision_headers(scope["headers"], self.geo_header)
        consent = self.objections.standing(self.codec.decode_presented(read.consent_tokens))
        # One decision for all hits of a request: they share every input decide() takes.
        # (`carry_out` may still block them all: a hit naming a property not the operator's.)
        decision = self.decide(rule, consent, read)
        if hits is None:
            if decision.outcome == "block":  # most hits: counted, answered, nothing to send
                self.count(rule.id, decision)
                return 200, _pixel(decision.outcome, decision.reason), GIF
            hits = [_query(scope)]
        client = scope.get("client")
        try:
            decision, location = self.carry_out(
                rule,
                decision,
                hits,
                consent,
                peer=client[0] if client else None,
                forwarded_for=read.forwarded_for,
                user_agent=read.user_agent,
            )
        except HitTooLarge as error:
            self.metrics.rejected_hits.labels(rule.id, error.reason).inc()
            raise
        if location is not None:
            raw = _redirect(decision.outcome, decision.reason)
            # Built from the rule's upstream and already encoded: no re-quoting (as on /c).
            return 303 if post else 302, [*raw, (b"location", location.encode("latin-1"))], b""
        if post:
            return 204, _empty(decision.outcome, decision.reason), b""
        return 200, _pixel(decision.outcome, decision.reason), GIF

    async def _body_hits(self, scope: Scope, receive: Receive, rule: Rule) -> list[Params]:
        """The parameter lists of the hits in a POST: the query, plus one per body event."""
        try:
            body = await read_body(Request(scope, receive), MAX_HIT_BODY, "a hit body")
            return hits_in_body(rule.hit, _query(scope), body)
        except ClientError as error:
            reason = getattr(error, "reason", error.error)
            self.metrics.rejected_hits.labels(rule.id, reason).inc()
            raise

    def decide(self, rule: Rule, consent: Consent | None, read: DecisionHeaders) -> Decision:
        """`decide()` for this request. Without consent its inputs are a handful of flags per
        rule, so each combination is decided once and remembered (a bounded table: rules ×
        GPC × region policy × bot × app signal; `decide` is pure, so this is only a memo)."""
        is_bot = classify_visitor(read.user_agent).is_bot
        region = _region_policy(self.opt_out_regions, read.region)
        if consent is not None:
            return decide(rule, consent, self.visitor_signals(consent, read, is_bot, region))
        key = (rule.id, read.gpc, region, is_bot, read.app_tracking)
        decision = self.unconsented.get(key)
        if decision is None:
            signals = self.visitor_signals(None, read, is_bot, region)
            decision = self.unconsented[key] = decide(rule, None, signals)
        return decision

    def visitor_signals(
        self, consent: Consent | None, read: DecisionHeaders, is_bot: bool, region: RegionPolicy
    ) -> Signals:
        """What `decide()` needs to know about the visitor besides their consent."""
        return Signals(
            self.revision,
            read.gpc,
            region,
            is_bot,
            # In memory, refreshed in the background: no store round trip per hit.
            self.objections.objected(consent.consent_id) if consent else NO_OBJECTION,
            self.categories,
            self.vendor_categories if consent and consent.refused_vendors else NO_VENDOR_CATEGORIES,
            read.app_tracking,
        )

    def count(self, vendor: str, decision: Decision) -> None:
        """One hit decided: a day's count in the store, and the decision's metric."""
        self.counter.add(_pixel_count(vendor, decision.outcome))
        self.metrics.tally.decision(vendor, decision.outcome, decision.reason)

    def carry_out(
        self,
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
        queued: list[QueuedHit] = []
        if decision.outcome in ("forward", "anonymous"):
            # What the decision allows of each hit, as its queue entry: the delivery worker
            # shapes and encodes the vendor's request (`gateway.delivery.shaping`).
            ip = client_ip(peer, forwarded_for, self.network.trusted_proxies)
            consent_id, chosen_at = (
                (consent.consent_id, consent.chosen_at) if consent else (None, None)
            )
            now, client, signalled = self.appender.clock(), client_key(ip), decision.signalled
            queued = [
                QueuedHit(
                    decided_hit(rule, params, decision, ip=ip, user_agent=user_agent),
                    consent_id,
                    now,
                    signalled,
                    chosen_at,
                    client,
                )
                for params in hits
            ]
            _check_sizes(self.hit_limits, queued)
        self.count(rule.id, decision)
        tally = self.metrics.tally
        if decision.outcome == "redirect":
            # A redirect sends one hit in its URL; the loader allows only one-hit bodies (form).
            location, redacted = redirect_target(rule, hits[0], decision.signalled)
            tally.redacted(rule.id, redacted)
            return decision, location
        for entry in queued:
            tally.redacted(rule.id, entry.hit.redacted)
            self.appender.submit_queued(entry)
        return decision, None


def _check_sizes(settings: TrackingSection, hits: list[QueuedHit]) -> None:
    """Raises `HitTooLarge` for a hit whose queue entry is over `hit_max_bytes`, or entries
    over `hit_request_max_bytes` together: nothing of such a request is queued."""
    sizes = [len(hit.encoded()) for hit in hits]
    if sizes and max(sizes) > settings.hit_max_bytes:
        raise HitTooLarge("hit_too_large", f"a hit may be at most {settings.hit_max_bytes} bytes")
    if sum(sizes) > settings.hit_request_max_bytes:
        limit = settings.hit_request_max_bytes
        raise HitTooLarge("request_too_large", f"one request's hits may be at most {limit} bytes")


def _region_policy(opt_out_regions: tuple[str, ...], region: str) -> RegionPolicy:
    opt_out = region and region.strip().upper() in opt_out_regions
    return "opt_out" if opt_out else "opt_in"


def _query(scope: Scope) -> Params:
    return parse_query(scope["query_string"].decode("latin-1"))


@functools.lru_cache(maxsize=1024)  # vendors × outcomes
def _pixel_count(vendor: str, outcome: str) -> PixelCount:
    return PixelCount(vendor, outcome)


@functools.lru_cache(maxsize=64)
def _pixel(outcome: str, reason: str) -> RawHeaders:
    """The GIF's headers for one decision (a handful of outcome × reason pairs)."""
    decided = {"X-Consent-Decision": f"{outcome}; reason={reason}"}
    return raw_headers({**PIXEL_HEADERS, **decided, "Content-Type": "image/gif"}, GIF)


@functools.lru_cache(maxsize=64)
def _redirect(outcome: str, reason: str) -> RawHeaders:
    """A redirect's headers for one decision, without its Location."""
    return raw_headers({**PIXEL_HEADERS, "X-Consent-Decision": f"{outcome}; reason={reason}"}, b"")


@functools.lru_cache(maxsize=64)
def _empty(outcome: str, reason: str) -> RawHeaders:
    """A POST's 204 for one decision."""
    return raw_headers({**PIXEL_HEADERS, "X-Consent-Decision": f"{outcome}; reason={reason}"})
