"""The vendors a deployment uses: only the rules `GATEWAY_VENDORS` (or `vendors = [...]`) names.

A folder of rules is a catalogue; a site discloses and serves only the vendors it chose, web
and app rules alike. No vendor chosen is a valid deployment: a banner of necessary cookies.

    >>> from gateway.rules.model import Rule
    >>> catalogue = {"ga4": "GA4 rule", "matomo": "Matomo rule"}
    >>> dict(select_vendors(catalogue, ("ga4",)))  # type: ignore[arg-type]
    {'ga4': 'GA4 rule'}
    >>> select_vendors(catalogue, ("ga5",))  # type: ignore[arg-type]
    Traceback (most recent call last):
    gateway.errors.ConfigError: settings: vendors: unknown vendor 'ga5' (the rules folder has: ga4, matomo)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

from gateway.errors import ConfigError
from gateway.rules.model import Rule

RuleT = TypeVar("RuleT")
SOURCE = "settings"


def select_vendors(rules: Mapping[str, RuleT], vendors: Sequence[str]) -> Mapping[str, RuleT]:
    """The rules of `vendors`, in the folder's order; `ConfigError` (one line) for an id the
    folder does not hold, naming the ids it does."""
    for vendor in vendors:
        if vendor not in rules:
            known = ", ".join(rules) or "no rules"
            problem = f"unknown vendor {vendor!r} (the rules folder has: {known})"
            raise ConfigError(SOURCE, "vendors", problem)
    chosen = set(vendors)
    return MappingProxyType({vendor: rule for vendor, rule in rules.items() if vendor in chosen})


def refusable_vendors(rules: Mapping[str, Rule]) -> dict[str, str]:
    """Vendor id → category of every vendor a visitor may refuse (not `necessary` ones)."""
    return {rule.id: rule.category for rule in rules.values()}
