"""The banner config built from settings and tag rules: shape, order, texts, validation."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.banner.config import VendorInfo, banner_config_for, build_banner_config
from gateway.banner.texts import TEXTS, hash_texts, resolve_language, texts_hash
from gateway.errors import ConfigError
from gateway.rules.loader import load_rules
from gateway.rules.transfers import EEA
from gateway.settings import BannerSection, ConsentSection
from tests.banner.vendors import SHIPPED_VENDORS
from tests.conftest import REPO

CATEGORIES = ("necessary", "preferences", "analytics", "marketing")


def build(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "public_url": "https://consent.example.com/",
        "policy_revision": 4,
        "policy_url": "https://www.example.com/privacy",
        "categories": CATEGORIES,
        "vendors": SHIPPED_VENDORS,
    }
    values.update(overrides)
    return build_banner_config(**values)


def test_shape_and_values() -> None:
    config = build()
    assert list(config) == [
        "revision",
        "endpoint",
        "cssUrl",
        "cookieName",
        "policyUrl",
        "categories",
        "vendors",
        "texts",
        "consentMode",
        "floatingButton",
        "reload",
    ]
    assert config["revision"] == 4
    assert config["endpoint"] == "https://consent.example.com"
    assert config["cssUrl"] == "https://consent.example.com/consent.css"
    assert config["cookieName"] == "cg_consent"
    assert config["policyUrl"] == "https://www.example.com/privacy"
    assert config["categories"] == list(CATEGORIES)
    assert config["floatingButton"] is True
    assert config["vendors"][0] == {
        "id": "ga4",
        "name": "Google Analytics 4",
        "category": "analytics",
        "policyUrl": "https://policies.google.com/privacy",
        "cookies": ["_ga", "_ga_*"],
        "description": "Visit statistics: pages seen, referrer, device type.",
    }
    json.dumps(config, allow_nan=False)  # JSON-ready as is


def test_vendor_without_description_leaves_the_key_out() -> None:
    vendor = VendorInfo("x", "X", "analytics", "https://x.example/privacy", ("_x",))
    assert "description" not in build(vendors=[vendor])["vendors"][0]


def test_consent_mode_default_mapping() -> None:
    assert build()["consentMode"] == {
        "analytics": ["analytics_storage"],
        "marketing": ["ad_storage", "ad_user_data", "ad_personalization"],
        "preferences": ["functionality_storage", "personalization_storage"],
    }


def test_consent_mode_only_for_configured_categories() -> None:
    config = build(categories=("necessary", "analytics"), vendors=SHIPPED_VENDORS[:3])
    assert config["consentMode"] == {"analytics": ["analytics_storage"]}


def test_the_page_and_forwarded_hits_grant_consent_mode_signals_alike() -> None:
    from gateway.decision import SIGNAL_CATEGORY

    page = {signal: c for c, signals in build()["consentMode"].items() for signal in signals}
    assert {signal: page[signal] for signal in SIGNAL_CATEGORY} == dict(SIGNAL_CATEGORY)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("analytics", "necessary", "marketing"), ["necessary", "analytics", "marketing"]),
        (("analytics", "marketing"), ["necessary", "analytics", "marketing"]),
        (("necessary",), ["necessary"]),
    ],
)
def test_necessary_comes_first(given: tuple[str, ...], expected: list[str]) -> None:
    assert build(categories=given, vendors=())["categories"] == expected


@pytest.mark.parametrize("categories", [("analytics", "analytics"), ("bad id",), ("",)])
def test_bad_categories(categories: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError, match="categories"):
        build(categories=categories, vendors=())


def test_a_necessary_vendor_is_disclosed_with_terms_and_notice() -> None:
    vendor = VendorInfo(
        "recaptcha",
        "Google reCAPTCHA",
        "necessary",
        "https://policies.google.com/privacy",
        ("_GRECAPTCHA",),
        terms_url="https://policies.google.com/terms",
        notice=(("en", "Protected by [Privacy Policy]"),),
    )
    (entry,) = build(vendors=[vendor])["vendors"]
    assert entry["category"] == "necessary"
    assert entry["terms"] == "https://policies.google.com/terms"
    assert entry["notice"] == {"en": "Protected by [Privacy Policy]"}


@pytest.mark.parametrize("category", ["newsletter"])
def test_vendor_category_must_be_an_optional_configured_one(category: str) -> None:
    vendor = VendorInfo("x", "X", category, "https://x.example/privacy")
    with pytest.raises(ConfigError, match=r"vendors\.x: category"):
        build(vendors=[vendor])


@pytest.mark.parametrize("cookie", ["", "*", "a*b*", "a;b"])
def test_vendor_bad_cookie_names(cookie: str) -> None:
    vendor = VendorInfo("x", "X", "analytics", "https://x.example/privacy", (cookie,))
    with pytest.raises(ConfigError, match="bad cookie name"):
        build(vendors=[vendor])


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "//evil.example/x", "data:text/html,x", "ftp://x.example/"]
)
def test_links_are_http_or_site_paths_only(url: str) -> None:
    with pytest.raises(ConfigError, match="policy_url"):
        build(policy_url=url)
    vendor = VendorInfo("x", "X", "analytics", url)
    with pytest.raises(ConfigError, match=r"vendors\.x"):
        build(vendors=[vendor])


def test_site_relative_and_empty_policy_url() -> None:
    assert build(policy_url="/privacy")["policyUrl"] == "/privacy"
    assert build(policy_url="")["policyUrl"] == ""


@pytest.mark.parametrize("url", ["consent.example.com", "file:///x", "https://"])
def test_public_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigError, match="public_url"):
        build(public_url=url)


def test_texts_cover_every_key_in_both_languages() -> None:
    texts = build()["texts"]
    assert set(texts) == {"en", "ru"}
    assert set(texts["en"]) == set(texts["ru"]) == set(TEXTS["en"])
    assert all(value.strip() for value in texts["ru"].values())
    assert texts["ru"]["accept_all"] == "Принять все"


def test_text_overrides_merge_over_the_built_ins() -> None:
    texts = build(text_overrides={"en": {"title": "Cookies at Example"}})["texts"]
    assert texts["en"]["title"] == "Cookies at Example"
    assert texts["en"]["accept_all"] == "Accept all"
    assert texts["ru"]["title"] == TEXTS["ru"]["title"]
    assert TEXTS["en"]["title"] != "Cookies at Example"  # built-ins untouched


def test_new_language_falls_back_to_english_per_key() -> None:
    texts = build(text_overrides={"de": {"accept_all": "Alle akzeptieren"}})["texts"]
    assert texts["de"]["accept_all"] == "Alle akzeptieren"
    assert texts["de"]["reject_all"] == "Reject all"


def test_operator_category_gets_default_and_overridable_texts() -> None:
    config = build(
        categories=(*CATEGORIES, "email_tracking"),
        text_overrides={"ru": {"category_email_tracking": "Отслеживание писем"}},
    )
    assert config["texts"]["en"]["category_email_tracking"] == "Email tracking"
    assert config["texts"]["en"]["category_email_tracking_description"] == ""
    assert config["texts"]["ru"]["category_email_tracking"] == "Отслеживание писем"


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"en": {"titel": "x"}}, "texts.en.titel"),
        ({"en": {"category_newsletter": "x"}}, "texts.en.category_newsletter"),
        ({"en": {"title": 3}}, "texts.en.title"),
        ({"english": {"title": "x"}}, "texts"),
    ],
)
def test_bad_text_overrides(overrides: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(where)):
        build(text_overrides=overrides)


def test_floating_button_switch() -> None:
    assert build(floating_button=False)["floatingButton"] is False
    assert build()["reload"] is True
    assert build(reload_on_withdrawal=False)["reload"] is False


@pytest.mark.parametrize(
    ("requested", "language"),
    [("ru-RU", "ru"), ("RU", "ru"), ("en_GB", "en"), ("de", "en"), (None, "en"), ("", "en")],
)
def test_resolve_language(requested: str | None, language: str) -> None:
    assert resolve_language(requested) == language


def test_texts_hash_is_per_language_and_order_free() -> None:
    assert texts_hash("ru-RU") == texts_hash("ru") != texts_hash("en")
    reordered = dict(reversed(list(TEXTS["en"].items())))
    assert hash_texts(reordered) == texts_hash("en")
    assert len(texts_hash("en")) == 64


def test_app_vendors_stay_out_of_the_web_banner() -> None:
    rules = load_rules(REPO / "tag_rules", categories=CATEGORIES)
    policy = ConsentSection(categories=CATEGORIES)
    config = banner_config_for(
        BannerSection(), policy, rules, public_url="https://consent.example.com", home=EEA
    )
    listed = {vendor["id"] for vendor in config["vendors"]}  # type: ignore[attr-defined]
    assert {"ga4", "meta_pixel"} <= listed
    assert not {"ga4_app", "meta_app"} & listed
