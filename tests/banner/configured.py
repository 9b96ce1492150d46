"""The banner config a gateway builds from its settings, for tests that start from `Settings`."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.banner.config import banner_config_for
from gateway.rules.model import Rule
from gateway.settings import Settings


def banner_config_of(settings: Settings, rules: Mapping[str, Rule]) -> dict[str, object]:
    """As `Gateway.build` makes it: the banner and consent sections, the public URL and the
    home countries."""
    return banner_config_for(
        settings.banner,
        settings.consent,
        rules,
        public_url=settings.site.public_url,
        home=settings.rules.home_countries,
    )
