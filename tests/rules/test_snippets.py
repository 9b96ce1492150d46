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
        (url,) = set(re.findall(re.escape(PLACEHOLDER_GATEWAY) + r"/t/[\w/.-]+", code))
        if name == "matomo":
            url += "matomo.php"  # the snippet adds it in JavaScript
        vendor, _, sub_path = url.removeprefix(f"{PLACEHOLDER_GATEWAY}/t/").partition("/")
        sub_path = (sub_path + APPENDS.get(name, "")).strip("/")
        assert vendor in rules, name
        assert not sub_path or rules[vendor].hit.accepts_path(sub_path), (name, sub_path)
