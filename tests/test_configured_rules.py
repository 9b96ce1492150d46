"""`serve` and `forward` read one set of rules: the enabled vendors, the disclosure-only ones
declared in the banner but given no route and nothing to deliver."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.configured_rules import configured_rules
from gateway.errors import ConfigError
from gateway.settings import from_keys

RULES = Path(__file__).parents[1] / "tag_rules"


def test_only_the_enabled_vendors_and_of_them_only_those_that_take_hits_are_routed() -> None:
    every = [path.stem for path in RULES.glob("*.toml")]
    declared, routed = configured_rules(from_keys(rules=RULES, vendors=tuple(every)))
    assert set(declared) == set(every)
    assert set(routed) == {vendor for vendor, rule in declared.items() if not rule.disclosure_only}
    assert set(routed) < set(declared)  # the folder has a disclosure-only vendor

    declared, routed = configured_rules(from_keys(rules=RULES, vendors=("ga4",)))
    assert list(declared) == list(routed) == ["ga4"]


def test_an_unknown_vendor_stops_both_with_one_line() -> None:
    with pytest.raises(ConfigError, match="unknown vendor 'nope'"):
        configured_rules(from_keys(rules=RULES, vendors=("nope",)))
