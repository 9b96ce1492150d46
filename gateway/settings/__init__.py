"""Settings: read once, at start, from an optional TOML file overridden by `GATEWAY_*` variables,
into one frozen `Settings` of sections (`settings.consent.revision`, `settings.delivery.shards`).

    >>> settings = load_settings(environ={"GATEWAY_POLICY_REVISION": "3"})
    >>> settings.consent.revision
    3

- `keys` — how one key is declared (default, parser, range, flat name) — and `values`, its parsers
- `sections` — the sections and `Settings`, every key declared once as a section field
- `load` — the file, the environment and overrides → `Settings`; `checks` — what spans keys
- `anchoring` — paths from a config file are relative to it; per-language policy URLs

Every problem (unknown key, wrong type, missing production secret) raises `ConfigError` whose
text is the one line shown to the operator, naming the file or variable and what was expected.
"""

from __future__ import annotations

from gateway.settings.load import CONFIG_VARIABLE, KEYS, SECTIONS, from_keys, load_settings
from gateway.settings.sections import (
    AdminSection,
    ArchiveSection,
    BannerSection,
    ConsentSection,
    DeliverySection,
    EmailSection,
    FormsSection,
    NetworkSection,
    RetentionSection,
    RulesSection,
    Settings,
    SiteSection,
    StoreSection,
    TrackingSection,
)

__all__ = [
    "CONFIG_VARIABLE",
    "KEYS",
    "SECTIONS",
    "AdminSection",
    "ArchiveSection",
    "BannerSection",
    "ConsentSection",
    "DeliverySection",
    "EmailSection",
    "FormsSection",
    "NetworkSection",
    "RetentionSection",
    "RulesSection",
    "Settings",
    "SiteSection",
    "StoreSection",
    "TrackingSection",
    "from_keys",
    "load_settings",
]
