"""The banner's config a gateway runs with, built from the settings' sections — by `serve` and
`check-config` alike, so the check refuses exactly what start-up would."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.banner.config import banner_config_for
from gateway.rules.model import Rule
from gateway.settings import Settings


def configured_banner(settings: Settings, rules: Mapping[str, Rule]) -> dict[str, object]:
    """Raises `ConfigError` (one line) for a bad banner text or policy URL."""
    return banner_config_for(
        settings.banner,
        settings.consent,
        rules,
        public_url=settings.site.public_url,
        home=settings.rules.home_countries,
    )
