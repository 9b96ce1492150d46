"""What happens to one hit: `decide(rule, consent, signals)`, a pure function (no I/O).

The first matching line wins:

=====================================================  ==========  ==================
situation                                              outcome     reason
=====================================================  ==========  ==================
the visitor is a bot                                   block       `bot`
the rule says `mode = "block"`                         block       `rule_blocks`
the subject objected to the rule's category            block       `objection`
GPC is on (request or cookie) and category=marketing   block       `gpc`
the app's platform refuses ad tracking, marketing      block       `app_tracking`
current consent does not grant the category           *refused*   `denied`
current consent grants it but refuses this vendor      *refused*   `vendor_refused`
current consent grants the category                    *allowed*   `consented`
no consent, opt-out region                             *allowed*   `opt_out_region`
no consent, opt-in region                              *refused*   `no_consent`
consent of another policy revision, opt-out region     *allowed*   `opt_out_region`
consent of another policy revision, opt-in region      *refused*   `stale_revision`
=====================================================  ==========  ==================

*allowed* is the rule's mode: `forward` or `redirect`. *refused* is `anonymous` when the rule
says `without_consent = "anonymous"` and `mode = "forward"` (the gateway strips identifiers
and cookies itself), otherwise `block`. A redirect is never anonymous: the browser would
carry its own cookies to the vendor.

A vendor refusal (`Consent.refused_vendors`, chosen in the banner's per-service toggles) is
treated like a refused category for that one vendor, anonymous ping included: it comes from the
same banner choice, only finer.

An app's platform signal (`Signals.app_tracking`: iOS App Tracking Transparency not
"authorized", Android's advertising-ID opt-out) is an opt-out of `marketing` exactly like GPC:
no default and no stored choice overrides it, and marketing is never signalled under it. For a
rule of `platform = "app"` only an explicit `authorized` allows: no signal at all is a refusal.

An objection and GPC block outright, never an anonymous ping: the person said no to that
processing itself, not only to being recognised — where a plain refusal of the banner still
leaves room for the cookieless, identifier-free statistics the rule declares.

The decision also says what the vendor may be *told*: `signalled`, the categories a forwarded
hit may present as granted, and `consent_mode`, the Google Consent Mode state of a forwarded or
anonymous hit. Both come from the same inputs and can only say less than the visitor allowed:
a category the person objected to, `marketing` under GPC (header or the cookie's flag), and
everything on a refused or anonymous hit are signalled as denied. Endpoints and the hit
shaper copy these values; they hold no consent logic of their own.

>>> from pathlib import Path
>>> from gateway.rules.loader import load_rules
>>> rules = load_rules(Path(__file__).parents[1] / "tag_rules", categories=DEFAULT_CATEGORIES)
>>> decide(rules["ga4"], None, Signals(policy_revision=3)).outcome  # anonymous statistics only
'anonymous'
>>> visitor = Consent("a-random-consent-id", 3, frozenset({"analytics"}), 0)
>>> decide(rules["ga4"], visitor, Signals(policy_revision=3)).reason
'consented'
>>> decide(rules["meta_pixel"], visitor, Signals(policy_revision=3, gpc=True)).reason
'gpc'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, NamedTuple

from gateway.consent.model import (
    CONSENT_MODE_CATEGORY,
    DEFAULT_CATEGORIES,
    MARKETING,
    NECESSARY,
    Consent,
)
from gateway.rules.model import Rule
from gateway.visitors.platform import AppTracking

Outcome = Literal["forward", "redirect", "anonymous", "block"]
RegionPolicy = Literal["opt_in", "opt_out"]
Reason = Literal[
    "bot",
    "rule_blocks",
    "objection",
    "gpc",
    "app_tracking",
    "consented",
    "denied",
    "vendor_refused",
    "no_consent",
    "stale_revision",
    "opt_out_region",
    "not_allowed_value",  # not decide()'s: the hit names a property the rule does not allow
]

# The Consent Mode signals a forwarded hit carries (`ConsentModeState`), and the category that
# grants each: the one mapping the banner uses too (`CONSENT_MODE_CATEGORY`).
SIGNAL_CATEGORY: Mapping[str, str] = {
    signal: CONSENT_MODE_CATEGORY[signal]
    for signal in ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")
}


NO_VENDOR_CATEGORIES: Mapping[str, str] = MappingProxyType({})


class Signals(NamedTuple):
    """Everything about the request besides the rule and the consent cookie. (Immutable
    tuples: one is made per hit, and a frozen dataclass costs several times more to build.)"""

    policy_revision: int  # current revision; a consent of another revision counts as none
    gpc: bool = False  # Sec-GPC: 1 — an opt-out of `marketing` no default may override
    region_policy: RegionPolicy = "opt_in"
    is_bot: bool = False  # bots never reach a vendor
    objected: frozenset[str] = frozenset()  # categories the subject objected to
    categories: frozenset[str] = frozenset(DEFAULT_CATEGORIES)  # granted by an opt-out default
    # Vendor id → category of every vendor: a vendor refused inside a granted category makes
    # that category partial, so other vendors are not told it is granted.
    vendor_categories: Mapping[str, str] = NO_VENDOR_CATEGORIES
    # An app's platform signal (`App-Tracking`): "refused" (iOS ATT not authorized, Android
    # ad-ID opt-out) is, like GPC, an opt-out of `marketing`; "absent" (browsers) refuses only
    # for an app rule, which needs an explicit "authorized".
    app_tracking: AppTracking = "absent"


@dataclass(frozen=True, slots=True)
class ConsentModeState:
    """Google Consent Mode v2 as a vendor may be told it; True means granted."""

    ad_storage: bool
    analytics_storage: bool
    ad_user_data: bool
    ad_personalization: bool
    updated: bool  # a current choice was made (else the state is the region's default)

    @classmethod
    def of(cls, signalled: frozenset[str], *, updated: bool) -> ConsentModeState:
        return _consent_mode_state(signalled, updated)


DENIED = ConsentModeState(False, False, False, False, updated=False)


@lru_cache(maxsize=256)  # signalled ⊆ the configured categories: a handful of sets, × 2
def _consent_mode_state(signalled: frozenset[str], updated: bool) -> ConsentModeState:
    state = {signal: category in signalled for signal, category in SIGNAL_CATEGORY.items()}
    return ConsentModeState(**state, updated=updated)


class Decision(NamedTuple):
    outcome: Outcome
    reason: Reason  # short, stable, machine-readable: for metrics and debugging
    signalled: frozenset[str] = frozenset()  # categories the vendor may be told are granted
    consent_mode: ConsentModeState | None = None  # set when the rule sends Consent Mode upstream


# The blocks, made once: one of them is the answer for most hits.
_BLOCKED: Mapping[Reason, Decision] = {
    reason: Decision("block", reason)
    for reason in (
        "bot",
        "rule_blocks",
        "objection",
        "gpc",
        "app_tracking",
        "denied",
        "vendor_refused",
        "no_consent",
        "stale_revision",
    )
}


def decide(rule: Rule, consent: Consent | None, signals: Signals) -> Decision:
    """Decide a hit for `rule`; see the module docstring for the table."""
    if signals.is_bot:
        return _BLOCKED["bot"]
    if rule.hit.mode == "block":
        return _BLOCKED["rule_blocks"]
    if rule.category in signals.objected:
        return _BLOCKED["objection"]
    gpc = signals.gpc or (consent is not None and consent.gpc)
    if gpc and rule.category == MARKETING:
        return _BLOCKED["gpc"]
    app_refused = signals.app_tracking == "refused" or (
        rule.platform == "app" and signals.app_tracking != "authorized"
    )
    if app_refused and rule.category == MARKETING:
        return _BLOCKED["app_tracking"]

    opted_out = gpc or app_refused
    taken_away = signals.objected | ({MARKETING} if opted_out else frozenset())
    if consent is not None and consent.is_current(signals.policy_revision):
        if not consent.allows(rule.category):
            return _refused(rule, "denied", updated=True)
        if rule.id in consent.refused_vendors:
            return _refused(rule, "vendor_refused", updated=True)
        # Another category where the visitor refused some vendor is not granted as a whole:
        # only this vendor's own (allowed) category may be signalled for it.
        partial = {signals.vendor_categories.get(v) for v in consent.refused_vendors}
        taken_away |= frozenset(c for c in partial if c is not None and c != rule.category)
        return _allowed(rule, "consented", consent.granted - taken_away, updated=True)
    if signals.region_policy == "opt_out":
        return _allowed(rule, "opt_out_region", signals.categories - taken_away, updated=False)
    return _refused(rule, "no_consent" if consent is None else "stale_revision", updated=False)


def _allowed(rule: Rule, reason: Reason, granted: frozenset[str], *, updated: bool) -> Decision:
    signalled = granted - {NECESSARY}
    if rule.hit.mode == "redirect":
        return Decision("redirect", reason, signalled)
    state = ConsentModeState.of(signalled, updated=updated) if rule.hit.consent_mode else None
    return Decision("forward", reason, signalled, state)


def _refused(rule: Rule, reason: Reason, *, updated: bool) -> Decision:
    hit = rule.hit
    if hit.mode == "forward" and hit.without_consent == "anonymous":
        state = ConsentModeState.of(frozenset(), updated=updated) if hit.consent_mode else None
        return Decision("anonymous", reason, frozenset(), state)
    return _BLOCKED[reason]
