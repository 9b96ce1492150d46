"""The integration snippets users copy are the ones the end-to-end tests run, and they fit the rules."""

from __future__ import annotations

import re

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.rules import load_rules
from tests.snippets import DOCS, PLACEHOLDER_GATEWAY, REPO, snippets

CLIENTS = {
    "gtag", "gtm-server", "plausible-tracker", "plausible-analytics-tracker", "matomo",
    "meta-pixel", "linkedin-insight",
    "yandex-metrica", "yandex-webvisor", "vk-ads", "vk-retargeting",
}  # fmt: skip
# What each client appends to the URL it is given (gtag: `/g/collect`).
APPENDS = {"gtag": "/g/collect", "gtm-server": "/g/collect", "plausible-tracker": "/api/event"}


def test_every_client_has_a_snippet_and_the_docs_show_the_same() -> None:
    documented = snippets(DOCS)
    assert set(documented) == CLIENTS
    # The integrations page shows the analytics clients; the market's tags live in tag_rules/.
    shown = snippets(REPO / "docs" / "integrations.md")
    assert shown
    assert shown == {name: documented[name] for name in shown}


def test_every_snippet_points_at_a_path_its_rule_takes() -> None:
    rules = load_rules(REPO / "tag_rules", categories=DEFAULT_CATEGORIES)
    for name, (_, code) in snippets().items():
        if "data-vendor" in code:  # runs in the page once the banner allows its vendor
            (vendor,) = re.findall(r'data-vendor="([\w-]+)"', code)
            assert vendor in rules, name
            assert rules[vendor].hit.mode == "block", name  # nothing of it goes through /t
            continue
        urls = set(re.findall(re.escape(PLACEHOLDER_GATEWAY) + r"/t/[\w/.-]+", code))
        # A loader script the gateway serves first-party (gtag.js), then where hits go.
        scripts = {u for u in urls if _serves_script(rules, u)}
        assert len(scripts) <= 1, name
        (url,) = urls - scripts
        if name == "matomo":
            url += "matomo.php"  # the snippet adds it in JavaScript
        vendor, _, sub_path = url.removeprefix(f"{PLACEHOLDER_GATEWAY}/t/").partition("/")
        sub_path = (sub_path + APPENDS.get(name, "")).strip("/")
        assert vendor in rules, name
        assert not sub_path or rules[vendor].hit.accepts_path(sub_path), (name, sub_path)


def _serves_script(rules, url: str) -> bool:
    vendor, _, path = url.removeprefix(f"{PLACEHOLDER_GATEWAY}/t/").partition("/")
    return vendor in rules and any(script.path == f"/{path}" for script in rules[vendor].scripts)


def test_the_gtag_snippets_load_gtag_js_from_the_gateway_never_from_google() -> None:
    for name in ("gtag", "gtm-server"):
        code = snippets()[name][1]
        assert "googletagmanager.com" not in code
        assert f"{PLACEHOLDER_GATEWAY}/t/ga4/gtag/js?id=" in code
