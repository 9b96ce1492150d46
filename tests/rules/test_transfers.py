"""Processing locations and transfer safeguards: every rule says where, each transfer says how."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import RuleError
from gateway.rules import load_rules
from gateway.rules.transfers import (
    EEA,
    SAFEGUARD_TEXTS,
    SAFEGUARDS,
    country_name,
    home_region,
    processed_in,
)
from gateway.settings import load_settings
from tests.rules.test_loader import SHIPPED
from tests.test_cli import environment, run

RULE = """\
id = "acme"
name = "Acme Analytics"
category = "{category}"
privacy_policy_url = "https://acme.example/privacy"
description = "Visit statistics."
{extra}
[hit]
mode = "block"
"""


def write(folder: Path, extra: str, category: str = "analytics") -> Path:
    (folder / "acme.toml").write_text(RULE.format(extra=extra, category=category))
    return folder


def error_of(folder: Path, home: frozenset[str] = EEA) -> str:
    with pytest.raises(RuleError) as caught:
        load_rules(folder, categories=DEFAULT_CATEGORIES, home=home)
    return str(caught.value)


def test_a_rule_without_locations_is_refused_naming_the_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, ""))
    assert message.startswith(f"{tmp_path / 'acme.toml'}: processing_locations: missing")
    assert "\n" not in message


def test_check_rules_says_it_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    rules = write(tmp_path / "rules", "")
    result = run("check-rules", env=environment(tmp_path, GATEWAY_RULES=str(rules)))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "acme.toml: processing_locations: missing" in result.stderr


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ('processing_locations = ["usa"]', "processing_locations[0]", "ISO 3166-1"),
        ('processing_locations = ["ZZ"]', "processing_locations[0]", "ISO 3166-1"),
        ("processing_locations = []", "processing_locations", "at least one"),
        ('processing_locations = ["DE", "DE"]', "processing_locations", "each only once"),
        ('processing_locations = "DE"', "processing_locations", "expected an array"),
        ('processing_locations = ["US"]', "transfer_safeguard", "US is outside the home region"),
        (
            'processing_locations = ["US"]\ntransfer_safeguard = "hope"',
            "transfer_safeguard",
            "expected one of adequacy, dpf, scc, bcr, consent",
        ),
        (
            'processing_locations = ["US"]\ntransfer_safeguard = { RU = "scc" }',
            "transfer_safeguard.RU",
            "is not one of processing_locations",
        ),
        (
            'processing_locations = ["US", "IN"]\ntransfer_safeguard = { US = "dpf" }',
            "transfer_safeguard",
            "IN is outside the home region",
        ),
        ('processing_locations = ["DE"]\n[descriptions]\nRU = "x"', "descriptions.RU", "language"),
        ('processing_locations = ["DE"]\n[descriptions]\nru = " "', "descriptions.ru", "non-empty"),
    ],
)
def test_mistakes_are_one_line_naming_the_key(
    tmp_path: Path, extra: str, key: str, problem: str
) -> None:
    message = error_of(write(tmp_path, extra))
    assert f"acme.toml: {key}: " in message, message
    assert problem in message
    assert "\n" not in message


def test_a_necessary_vendor_cannot_rest_a_transfer_on_consent(tmp_path: Path) -> None:
    text = RULE.replace('[hit]\nmode = "block"\n', "").format(
        category="necessary",
        extra='processing_locations = ["US"]\ntransfer_safeguard = "consent"',
    )
    (tmp_path / "acme.toml").write_text(text)
    assert "consent cannot be its safeguard" in error_of(tmp_path)


def test_the_safeguard_is_needed_only_outside_the_home_region(tmp_path: Path) -> None:
    write(tmp_path, 'processing_locations = ["RU"]')
    assert "RU is outside the home region" in error_of(tmp_path)
    rule = load_rules(tmp_path, categories=DEFAULT_CATEGORIES, home=home_region("RU"))["acme"]
    assert (rule.processing_locations, rule.transfer_safeguards) == (("RU",), ())


def test_one_safeguard_string_covers_every_location(tmp_path: Path) -> None:
    write(tmp_path, 'processing_locations = ["RU", "KZ"]\ntransfer_safeguard = "scc"')
    rule = load_rules(tmp_path, categories=DEFAULT_CATEGORIES)["acme"]
    assert rule.transfer_safeguards == (("RU", "scc"), ("KZ", "scc"))


def test_every_shipped_rule_says_where_and_how_under_the_default_home_region() -> None:
    rules = load_rules(SHIPPED, categories=DEFAULT_CATEGORIES)
    for rule in rules.values():
        assert rule.processing_locations, rule.id
        outside = [code for code in rule.processing_locations if code not in EEA]
        assert set(outside) <= dict(rule.transfer_safeguards).keys(), rule.id
        assert dict(rule.descriptions).get("ru", rule.description) != rule.description, rule.id
    for vendor in ("yandex_metrica", "yandex_webvisor", "vk_ads", "vk_retargeting"):
        assert rules[vendor].processing_locations == ("RU",)


def test_a_russian_home_region_asks_for_the_other_transfers(tmp_path: Path) -> None:
    # Shipped safeguards are written for the EEA; under Russian law Ireland is abroad too, and
    # the loader names the rule and key that must be revised rather than guess.
    with pytest.raises(RuleError, match=r"transfer_safeguard: IE is outside the home region"):
        load_rules(SHIPPED, categories=DEFAULT_CATEGORIES, home=home_region("RU"))


def test_home_region_forms() -> None:
    assert home_region("EEA") == EEA
    assert len(EEA) == 30
    assert home_region("EU") < EEA
    assert home_region("eu, GB, CH") == home_region("EU") | {"GB", "CH"}
    for bad in ("Europe", "", "EU,,RU", "ZZ"):
        with pytest.raises(ValueError, match="expected EEA, EU or ISO country codes"):
            home_region(bad)
    assert load_settings(environ={}).rules.home_countries == EEA
    assert load_settings(environ={"GATEWAY_HOME_REGION": "ru"}).rules.home_countries == {"RU"}


def test_the_line_names_each_country_and_the_safeguard_of_each_transfer() -> None:
    en, ru = SAFEGUARD_TEXTS["en"], SAFEGUARD_TEXTS["ru"]
    locations, safeguards = ("IE", "US"), (("US", "dpf"),)
    assert processed_in(locations, safeguards, EEA, "en", en) == (
        "Ireland; United States (EU–US Data Privacy Framework)"
    )
    assert processed_in(locations, safeguards, EEA, "ru", ru) == (
        "Ирландия; Соединенные Штаты (Рамочная программа ЕС–США о конфиденциальности данных (DPF))"
    )
    assert processed_in(("RU",), (("RU", "consent"),), EEA, "ru", ru) == (
        "Россия (ваше явное согласие)"
    )
    # Inside the home region a location needs no safeguard, whatever the rule lists.
    assert processed_in(("RU",), (("RU", "scc"),), home_region("RU"), "en", en) == "Russia"
    assert country_name("DE", "xx") == "Germany"  # an unknown language falls back to English
    assert set(SAFEGUARDS) == set(en) == set(ru)
