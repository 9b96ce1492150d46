"""Only the site's vendors: the banner, `/consent/details`, `/t` and the audit know only the
vendors `GATEWAY_VENDORS` (or `vendors = [...]`) names, web and app rules alike (issue 30)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.audit.config import load_audit_config
from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import ConfigError
from gateway.settings import load_settings
from tests.conftest import REPO, serving


def _embedded_config(script: str) -> dict[str, Any]:
    from gateway.audit.config import banner_config

    config = banner_config(script)
    assert config is not None
    return config


async def test_the_banner_details_and_hits_know_only_the_chosen_vendors(make_settings) -> None:
    app = create_app(make_settings(vendors=("ga4", "meta_pixel", "ga4_app")))
    async with serving(app) as http:
        script = (await http.get("/consent.js")).text
        details = (await http.get("/consent/details?lang=en")).json()
        matomo = await http.get("/t/matomo?idsite=1&rec=1")
        ga4 = await http.get("/t/ga4?v=2&tid=G-1&en=page_view")
        meta_app = await http.post("/t/meta_app", json={"event": "x"})
        ga4_app = await http.get("/t/ga4_app")
    vendors = _embedded_config(script)["vendors"]
    assert isinstance(vendors, dict)
    assert set(vendors) == {"ga4", "meta_pixel"}  # an app rule is on no banner
    assert set(details["vendors"]) == {"ga4", "meta_pixel"}
    assert "Matomo" not in script
    assert matomo.status_code == 404
    assert meta_app.status_code == 404
    assert ga4.status_code != 404
    assert ga4_app.status_code != 404  # an app rule is enabled like a web one


async def test_no_vendor_chosen_is_a_banner_of_necessary_cookies(make_settings) -> None:
    async with serving(create_app(make_settings(vendors=()))) as http:
        script = (await http.get("/consent.js")).text
        hit = await http.get("/t/ga4?v=2&tid=G-1&en=page_view")
        accepted = await http.post("/consent", json={"action": "accept_all"})
    assert _embedded_config(script)["vendors"] == {}
    assert hit.status_code == 404
    assert accepted.status_code == 200  # a choice can still be recorded


def test_an_unknown_vendor_is_one_config_line(make_settings) -> None:
    with pytest.raises(ConfigError, match=r"^settings: vendors: unknown vendor 'ga5' \(") as error:
        create_app(make_settings(vendors=("ga4", "ga5")))
    assert "\n" not in str(error.value)


def test_vendors_come_from_the_config_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('vendors = ["ga4", "meta_pixel"]\n')
    assert load_settings(config, environ={}).rules.vendors == ("ga4", "meta_pixel")
    from_env = load_settings(config, environ={"GATEWAY_VENDORS": "plausible"})
    assert from_env.rules.vendors == ("plausible",)
    assert load_settings(environ={}).rules.vendors == ()


def test_the_audit_judges_only_the_chosen_vendors() -> None:
    chosen = load_audit_config(REPO / "tag_rules", DEFAULT_CATEGORIES, vendors=("ga4",))
    every = load_audit_config(REPO / "tag_rules", DEFAULT_CATEGORIES)
    assert [vendor.id for vendor in chosen.vendors] == ["ga4"]
    assert len(every.vendors) > 1
