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


def test_every_client_has_a_snippet_and_the_readme_shows_the_same() -> None:
    documented = snippets(DOCS)
    assert set(documented) == CLIENTS
    shown = snippets(REPO / "README.md")  # the project README shows some of them
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
        (url,) = set(re.findall(re.escape(PLACEHOLDER_GATEWAY) + r"/t/[\w/.-]+", code))
        if name == "matomo":
            url += "matomo.php"  # the snippet adds it in JavaScript
        vendor, _, sub_path = url.removeprefix(f"{PLACEHOLDER_GATEWAY}/t/").partition("/")
        sub_path = (sub_path + APPENDS.get(name, "")).strip("/")
        assert vendor in rules, name
        assert not sub_path or rules[vendor].hit.accepts_path(sub_path), (name, sub_path)
