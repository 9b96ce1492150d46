"""Consent states, the banner clicks that reach them, and what the audit reads from rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.config import banner_config, load_audit_config
from gateway.audit.states import choice_steps, consent_state, consent_states
from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import ConfigError, RuleError

REPO = Path(__file__).resolve().parents[2]
OPTIONAL = ("preferences", "analytics", "marketing")


def test_every_state_in_order_and_what_each_grants() -> None:
    states = {s.name: s for s in consent_states(OPTIONAL)}
    assert list(states) == ["none", "reject", *OPTIONAL, "accept", "accept-gpc"]
    assert states["none"].granted == states["reject"].granted == frozenset()
    assert states["analytics"].granted == {"analytics"}
    assert states["accept"].granted == set(OPTIONAL)
    assert states["accept-gpc"].granted == {"preferences", "analytics"}
    assert states["accept-gpc"].gpc


def test_an_unknown_state_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="expected one of none, reject, preferences"):
        consent_state("everything", OPTIONAL)


def test_clicks_use_the_banners_own_words_in_every_language() -> None:
    banner = {
        "texts": {"en": {"accept_all": "Sure, fine"}, "de": {"accept_all": "Alle akzeptieren"}}
    }
    [step] = choice_steps(consent_state("accept", OPTIONAL), banner)
    assert step.action == "click"
    assert step.name.match("Sure, fine")
    assert step.name.match("Alle akzeptieren")
    assert step.name.match("Принять все")
    assert not step.name.match("Sure, fine!")
    customise, switch, save = choice_steps(consent_state("marketing", OPTIONAL), None)
    assert (customise.action, switch.action, save.action) == ("click", "check", "click")
    assert customise.name.match("Customise")
    assert switch.name.match("Marketing")
    assert save.name.match("Save choices")
    assert not switch.name.match("Analytics")
    assert choice_steps(consent_state("none", OPTIONAL), None) == []


def test_banner_config_is_read_from_the_served_script() -> None:
    script = 'x;((w, d) => {\n"use strict";\nconst C = {"revision": 3, "texts": {"en": {"a": "b; }"}}};\n})();'
    assert banner_config(script) == {"revision": 3, "texts": {"en": {"a": "b; }"}}}
    assert banner_config("const C = null;") is None
    assert banner_config("const C = {broken") is None


def test_shipped_rules_give_vendor_hosts_and_upstreams() -> None:
    config = load_audit_config(REPO / "tag_rules", DEFAULT_CATEGORIES, ["sessionid"])
    ga4 = next(v for v in config.vendors if v.id == "ga4")
    assert ga4.serves("region1.google-analytics.com")
    assert ga4.serves("www.google-analytics.com")
    assert not ga4.serves("google-analytics.com.example")
    assert [v.id for v in config.vendors_at("connect.facebook.net")] == ["meta_pixel"]
    assert config.declares("cg_consent")
    assert config.declares("sessionid")
    assert config.declares("_pk_id.1")
    assert not config.declares("_gid")
    assert config.categories == OPTIONAL


def test_a_bad_rules_folder_is_a_rule_error(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('id = "x"\n')
    with pytest.raises(RuleError):
        load_audit_config(tmp_path, DEFAULT_CATEGORIES)
