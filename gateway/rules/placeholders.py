"""The placeholders the shipped rules carry where each site must put its own value.

A shipped rule pins its vendor's property parameter to a placeholder (`allowed_values`, GA4's
`tid = ["G-XXXXXXXXXX"]`) and puts placeholder keys in `fixed_params` (the GA4 app stream's
`api_secret`): until the operator replaces them, no real property receives a hit — the gateway
is nobody's open relay — and `check-config` and `serve` say which file and key to edit.

    >>> from pathlib import Path
    >>> from gateway.consent.model import DEFAULT_CATEGORIES
    >>> from gateway.rules.loader import load_rules
    >>> rules = load_rules(Path(__file__).parents[2] / "tag_rules", categories=DEFAULT_CATEGORIES)
    >>> placeholders_in(rules["ga4"])[0]
    "allowed_values.tid is the placeholder 'G-XXXXXXXXXX'"
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from gateway.rules.model import Rule

_EXAMPLE_HOSTS = frozenset({"matomo.example.com", "example.com", "www.example.com"})
_PLACEHOLDER = re.compile(r"G-X+|GTM-X+|0+|example\.com|1:0+:(?:android|ios|web):0+|your-[a-z-]+")


def placeholders_in(rule: Rule) -> list[str]:
    """Where `rule` still holds a shipped placeholder, one phrase each (key and value)."""
    found = [
        f"allowed_values.{name} is the placeholder {value!r}"
        for name, values in rule.hit.allowed_values
        for value in sorted(values)
        if _PLACEHOLDER.fullmatch(value)
    ]
    found += [
        f"fixed_params.{name} is the placeholder {value!r}"
        for name, value in rule.hit.fixed_params
        if _PLACEHOLDER.fullmatch(value)
    ]
    found += [
        f"scripts.{script.path}.allowed_values.{name} is the placeholder {value!r}"
        for script in rule.scripts
        for name, values in script.allowed_values
        for value in sorted(values)
        if _PLACEHOLDER.fullmatch(value)
    ]
    if rule.hit.upstream and "/000000000000000/" in rule.hit.upstream:
        found.append("upstream still holds the placeholder app id 000000000000000")
    elif rule.hit.upstream and urlsplit(rule.hit.upstream).hostname in _EXAMPLE_HOSTS:
        found.append(f"upstream is the placeholder host {urlsplit(rule.hit.upstream).hostname}")
    return found


def placeholder_warnings(folder: Path, rules: Iterable[Rule]) -> list[str]:
    """One line per placeholder still in place, naming the file and the key."""
    return [
        f"{folder / (rule.id + '.toml')}: {phrase}: put your own there (until then a hit"
        " naming any real one is blocked, reason not_allowed_value)"
        for rule in rules
        for phrase in placeholders_in(rule)
    ]
