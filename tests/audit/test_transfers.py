"""The audit report lists, per consent state, the transfers out of the home region it allows."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.audit.config import load_audit_config
from gateway.audit.judge import judge
from gateway.audit.reports import write_reports
from gateway.audit.states import consent_states
from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.rules.transfers import home_region
from tests.audit.test_judge import audit_of

REPO = Path(__file__).resolve().parents[2]
SHIPPED = load_audit_config(REPO / "tag_rules", DEFAULT_CATEGORIES)


def allowed(state: str) -> set[tuple[str, str, str]]:
    (granted,) = [s.granted for s in consent_states(SHIPPED.categories) if s.name == state]
    return {(t["vendor"], t["country"], t["safeguard"]) for t in SHIPPED.transfers_allowed(granted)}


def test_each_state_allows_the_transfers_of_what_it_grants() -> None:
    necessary = {("recaptcha", "US", "dpf")}  # never refused, so in every state
    assert allowed("none") == allowed("reject") == necessary
    analytics = allowed("analytics")
    assert ("yandex_metrica", "RU", "scc") in analytics
    assert ("ga4", "US", "dpf") in analytics
    assert not {t for t in analytics if t[0] in {"vk_ads", "yandex_webvisor", "meta_pixel"}}
    everything = allowed("accept")
    assert {("vk_ads", "RU", "consent"), ("yandex_webvisor", "RU", "scc")} <= everything
    # Global Privacy Control takes marketing away, "accept all" or not.
    assert not {t for t in allowed("accept-gpc") if t[0] in {"vk_ads", "vk_retargeting"}}
    assert allowed("accept-gpc") < everything
    # Inside the home region nothing is a transfer: Plausible (DE) and Matomo (DE) never show.
    assert not {t for t in everything if t[0] in {"plausible", "matomo"}}


def test_a_russian_operator_transfers_nothing_to_russia(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for vendor in ("yandex_metrica", "vk_ads"):
        (rules / f"{vendor}.toml").write_text((REPO / "tag_rules" / f"{vendor}.toml").read_text())
    config = load_audit_config(rules, DEFAULT_CATEGORIES, home=home_region("RU"))
    assert config.transfers_allowed(frozenset(DEFAULT_CATEGORIES)) == []


def test_the_json_and_html_reports_list_them(tmp_path: Path) -> None:
    audit = audit_of("none")
    audit.runs += audit_of("analytics").runs
    written = write_reports(tmp_path, audit, SHIPPED, judge(SHIPPED, audit))
    states = json.loads(written["json"].read_text())["states"]
    assert states[0]["transfers"] == [{"vendor": "recaptcha", "country": "US", "safeguard": "dpf"}]
    assert {"vendor": "yandex_metrica", "country": "RU", "safeguard": "scc"} in states[1][
        "transfers"
    ]
    html = written["html"].read_text()
    assert "yandex_metrica → RU (scc)" in html
    assert html.count("recaptcha → US (dpf)") == 2
