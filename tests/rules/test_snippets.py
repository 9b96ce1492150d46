"""The integration snippets users copy are the ones the end-to-end tests run, and they fit the rules."""

from __future__ import annotations

import re

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.rules import load_rules
from tests.snippets import DOCS, PLACEHOLDER_GATEWAY, REPO, snippets

CLIENTS = {
    "gtag", "gtm-server", "plausible-tracker", "plausible-analytics-tracker", "matomo",
    "meta-pixel", "linkedin-insight",
}  # fmt: skip
# What each client appends to the URL it is given (gtag: `/g/collect`).
APPENDS = {"gtag": "/g/collect", "gtm-server": "/g/collect", "plausible-tracker": "/api/event"}


def test_every_client_has_a_snippet_and_the_docs_show_the_same() -> None:
    documented = snippets(DOCS)
    assert set(documented) == CLIENTS
    assert snippets(REPO / "docs" / "integrations.md") == documented


def test_every_snippet_points_at_a_path_its_rule_takes() -> None:
    rules = load_rules(REPO / "tag_rules", categories=DEFAULT_CATEGORIES)
    for name, (_, code) in snippets().items():
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
