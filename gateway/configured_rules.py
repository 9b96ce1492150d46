"""The tag rules a gateway runs with, read once from the settings — by `serve` and `forward`
alike, so an edge and a separate delivery process never disagree on which vendors exist.

`declared`: the enabled vendors (`GATEWAY_VENDORS`) of the rules folder, necessary ones included
(the banner discloses them). `routed`: those that take hits (`/t`, delivery): the declared ones
but the disclosure-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from gateway.rules.loader import load_rules
from gateway.rules.model import Rule
from gateway.rules.selection import select_vendors
from gateway.settings import Settings


class ConfiguredRules(NamedTuple):
    declared: Mapping[str, Rule]
    routed: Mapping[str, Rule]


def configured_rules(settings: Settings) -> ConfiguredRules:
    """Raises `ConfigError` (one line) for a bad rule file or an unknown vendor."""
    declared = select_vendors(
        load_rules(
            settings.rules.folder,
            categories=settings.consent.categories,
            allow_insecure_upstreams=settings.site.allow_insecure_upstreams,
            home=settings.rules.home_countries,
        ),
        settings.rules.vendors,
    )
    # Necessary vendors are only disclosed in the banner: no /t route, nothing to deliver.
    routed = {vendor: rule for vendor, rule in declared.items() if not rule.disclosure_only}
    return ConfiguredRules(declared, MappingProxyType(routed))
