"""What happens to one hit: `decide(rule, consent, signals)`, a pure function (no I/O).

The first matching line wins:

=====================================================  ==========  ==================
situation                                              outcome     reason
=====================================================  ==========  ==================
the visitor is a bot                                   block       `bot`
the rule says `mode = "block"`                         block       `rule_blocks`
the subject objected to the rule's category            block       `objection`
GPC is on (request or cookie) and category=marketing   block       `gpc`
current consent refuses this vendor (category granted)  *refused*   `vendor_refused`
current consent grants the category                    *allowed*   `consented`
current consent does not grant it                      *refused*   `denied`
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

An objection and GPC block outright, never an anonymous ping: the person said no to that
processing itself, not only to being recognised — where a plain refusal of the banner still
leaves room for the cookieless, identifier-free statistics the rule declares.

>>> decide(rule, None, Signals(policy_revision=3))  # doctest: +SKIP
Decision(outcome='block', reason='no_consent')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.consent.model import Consent
from gateway.rules.model import Rule

MARKETING = "marketing"

Outcome = Literal["forward", "redirect", "anonymous", "block"]
RegionPolicy = Literal["opt_in", "opt_out"]
Reason = Literal[
    "bot",
    "rule_blocks",
    "objection",
    "gpc",
    "consented",
    "denied",
    "vendor_refused",
    "no_consent",
    "stale_revision",
    "opt_out_region",
]


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything about the request besides the rule and the consent cookie."""

    policy_revision: int  # current revision; a consent of another revision counts as none
    gpc: bool = False  # Sec-GPC: 1 — an opt-out of `marketing` no default may override
    region_policy: RegionPolicy = "opt_in"
    is_bot: bool = False  # bots never reach a vendor
    objected: frozenset[str] = frozenset()  # categories the subject objected to


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    reason: Reason  # short, stable, machine-readable: for metrics and debugging


def decide(rule: Rule, consent: Consent | None, signals: Signals) -> Decision:
    """Decide a hit for `rule`; see the module docstring for the table."""
    if signals.is_bot:
        return Decision("block", "bot")
    if rule.hit.mode == "block":
        return Decision("block", "rule_blocks")
    if rule.category in signals.objected:
        return Decision("block", "objection")
    gpc = signals.gpc or (consent is not None and consent.gpc)
    if gpc and rule.category == MARKETING:
        return Decision("block", "gpc")

    if consent is not None and consent.is_current(signals.policy_revision):
        if not consent.allows(rule.category):
            return _refused(rule, "denied")
        if rule.id in consent.refused_vendors:
            return _refused(rule, "vendor_refused")
        return _allowed(rule, "consented")
    if signals.region_policy == "opt_out":
        return _allowed(rule, "opt_out_region")
    return _refused(rule, "no_consent" if consent is None else "stale_revision")


def _allowed(rule: Rule, reason: Reason) -> Decision:
    return Decision("redirect" if rule.hit.mode == "redirect" else "forward", reason)


def _refused(rule: Rule, reason: Reason) -> Decision:
    hit = rule.hit
    if hit.mode == "forward" and hit.without_consent == "anonymous":
        return Decision("anonymous", reason)
    return Decision("block", reason)
