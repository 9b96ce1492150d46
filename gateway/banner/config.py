"""The config embedded in `/consent.js`: built once at start from settings and tag rules.

The JSON shape is documented for the browser side as the `BannerConfig` JSDoc typedef in
`gateway/banner/src/config.js` (what the script embeds: see `routes.split_config`); keep the two
in step.

    >>> config = build_banner_config(
    ...     public_url="https://consent.example.com/",
    ...     policy_revision=3,
    ...     policy_url="https://example.com/privacy",
    ...     categories=("necessary", "analytics"),
    ...     vendors=[VendorInfo("ga4", "Google Analytics 4", "analytics",
    ...                         "https://policies.google.com/privacy", ("_ga", "_ga_*"))],
    ... )
    >>> config["endpoint"], config["categories"], config["consentMode"]
    ('https://consent.example.com', ['necessary', 'analytics'], {'analytics': ['analytics_storage']})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.banner.details import shown_texts
from gateway.banner.texts import DEFAULT_LANGUAGE, TEXTS
from gateway.consent.cookie import COOKIE_NAME
from gateway.consent.model import CONSENT_MODE_CATEGORY, NECESSARY
from gateway.errors import ConfigError
from gateway.receipts.shown import TextsShown, texts_shown
from gateway.rules.model import Rule
from gateway.rules.transfers import EEA, SAFEGUARDS
from gateway.settings import BannerSection, ConsentSection

SOURCE = "banner config"


@dataclass(frozen=True, slots=True)
class VendorInfo:
    """What the banner shows about one vendor (from its tag rule) and the cookies it deletes.

    `cookies` may hold one `*` per name, matching one or more characters (`_ga_*`).
    """

    id: str
    name: str
    category: str
    policy_url: str
    cookies: tuple[str, ...] = ()
    description: str = ""
    terms_url: str = ""
    notice: tuple[tuple[str, str], ...] = ()  # language → text; `[…]` marks the two links
    descriptions: tuple[tuple[str, str], ...] = ()  # language → description, beyond English
    # ISO countries it processes data in; country → safeguard for transfers (see
    # `gateway.rules.transfers`): only those outside `home` are shown.
    locations: tuple[str, ...] = ()
    safeguards: tuple[tuple[str, str], ...] = ()


def build_banner_config(
    *,
    public_url: str,
    policy_revision: int,
    policy_url: str,
    categories: Sequence[str],
    vendors: Sequence[VendorInfo],
    text_overrides: Mapping[str, Mapping[str, str]] | None = None,
    floating_button: bool = True,
    reload_on_withdrawal: bool = True,
    home: frozenset[str] = EEA,
) -> dict[str, object]:
    """The JSON-ready banner config; raises `ConfigError` naming what is wrong.

    `categories` keeps its order, with `necessary` moved (or added) first. `text_overrides`
    maps a language to keys of `TEXTS` (or `category_<id>[_description]` for a configured
    category); a language without built-in texts falls back to English key by key.
    """
    endpoint = _http_url("public_url", public_url).rstrip("/")
    ordered = _categories(categories)
    if policy_url:
        _policy_url("policy_url", policy_url)
    return {
        "revision": policy_revision,
        "endpoint": endpoint,
        "cssUrl": f"{endpoint}/consent.css",
        "cookieName": COOKIE_NAME,
        "policyUrl": policy_url,
        "categories": ordered,
        "vendors": [_vendor(vendor, ordered, home) for vendor in vendors],
        "texts": _texts(text_overrides or {}, ordered),
        "consentMode": _consent_mode(ordered),
        "floatingButton": floating_button,
        "reload": reload_on_withdrawal,
    }


def _categories(categories: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for category in categories:
        if not category or not category.replace("_", "").isalnum() or not category.isascii():
            raise ConfigError(SOURCE, "categories", f"bad category id {category!r}")
        if category in seen:
            raise ConfigError(SOURCE, "categories", f"{category!r} is listed twice")
        seen.append(category)
    rest = [category for category in seen if category != NECESSARY]
    return [NECESSARY, *rest]


def _vendor(vendor: VendorInfo, categories: list[str], home: frozenset[str]) -> dict[str, object]:
    key = f"vendors.{vendor.id}"
    if vendor.category not in categories:
        raise ConfigError(SOURCE, key, f"category {vendor.category!r} is not configured")
    for cookie in vendor.cookies:
        if not cookie or cookie.count("*") > 1 or cookie == "*" or ";" in cookie:
            raise ConfigError(SOURCE, key, f"bad cookie name {cookie!r}")
    entry: dict[str, object] = {
        "id": vendor.id,
        "name": vendor.name,
        "category": vendor.category,
        "policyUrl": _policy_url(key, vendor.policy_url),
        "cookies": list(vendor.cookies),
    }
    if vendor.description:
        entry["description"] = vendor.description
    if vendor.terms_url:
        entry["terms"] = _policy_url(key, vendor.terms_url)
    if vendor.notice:
        entry["notice"] = dict(vendor.notice)
    if vendor.descriptions:
        entry["descriptions"] = dict(vendor.descriptions)
    if vendor.locations:
        entry["processing"] = _processing(key, vendor, home)
    return entry


def _processing(key: str, vendor: VendorInfo, home: frozenset[str]) -> dict[str, object]:
    for code, safeguard in vendor.safeguards:
        if safeguard not in SAFEGUARDS or code not in vendor.locations:
            raise ConfigError(SOURCE, key, f"bad transfer safeguard {code}={safeguard!r}")
    outside = {code: safeguard for code, safeguard in vendor.safeguards if code not in home}
    return {"locations": list(vendor.locations), "safeguards": outside}


def _texts(
    overrides: Mapping[str, Mapping[str, str]], categories: list[str]
) -> dict[str, dict[str, str]]:
    allowed = set(TEXTS[DEFAULT_LANGUAGE])
    allowed.update(f"category_{c}{suffix}" for c in categories for suffix in ("", "_description"))
    merged = {language: dict(texts) for language, texts in TEXTS.items()}
    for built_in in merged.values():
        for category in categories:  # an operator's own category: its id until overridden
            built_in.setdefault(f"category_{category}", category.replace("_", " ").capitalize())
            built_in.setdefault(f"category_{category}_description", "")
    for language, texts in overrides.items():
        if not (2 <= len(language) <= 3 and language.isascii() and language.isalpha()):
            raise ConfigError(SOURCE, "texts", f"expected a language code, got {language!r}")
        target = merged.setdefault(language.lower(), dict(merged[DEFAULT_LANGUAGE]))
        for key, value in texts.items():
            if key not in allowed:
                raise ConfigError(SOURCE, f"texts.{language}.{key}", "unknown text key")
            if not isinstance(value, str):
                raise ConfigError(SOURCE, f"texts.{language}.{key}", "expected a string")
            target[key] = value
    return merged


def _consent_mode(categories: list[str]) -> dict[str, list[str]]:
    """Category → the Consent Mode signals it grants, for the configured categories."""
    result: dict[str, list[str]] = {}
    for signal, category in CONSENT_MODE_CATEGORY.items():
        if category in categories:
            result.setdefault(category, []).append(signal)
    return result


def _http_url(key: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(SOURCE, key, f"expected an http(s) URL, got {url!r}")
    return url


def _policy_url(key: str, url: str) -> str:
    """An http(s) URL or a site-relative path: never `javascript:` or another scheme."""
    if url.startswith("/") and not url.startswith("//"):
        return url
    return _http_url(key, url)


def banner_config_for(
    banner: BannerSection,
    policy: ConsentSection,
    rules: Mapping[str, Rule],
    *,
    public_url: str,
    home: frozenset[str],
) -> dict[str, object]:
    """The banner's config for this gateway: its texts and manners, the consent policy, and a
    vendor entry per tag rule (`home`: the countries of the site's home region).
    A privacy policy per language (`[policy_url] en = … ru = …`) goes into each language's
    texts as `policy_url` (the banner links it), the fallback URL for a language without one."""
    config = build_banner_config(
        text_overrides=banner.text_overrides,
        reload_on_withdrawal=banner.reload,
        public_url=public_url,
        policy_revision=policy.revision,
        policy_url=policy.url,
        categories=policy.categories,
        home=home,
        vendors=[
            VendorInfo(
                id=rule.id,
                name=rule.name,
                category=rule.category,
                policy_url=rule.privacy_policy_url,
                cookies=rule.cookies.patterns,
                description=rule.description,
                terms_url=rule.terms_url,
                notice=rule.notice,
                descriptions=rule.descriptions,
                locations=rule.processing_locations,
                safeguards=rule.transfer_safeguards,
            )
            for rule in rules.values()
            if rule.platform == "web"  # app vendors belong to the app's own consent screen
        ],
    )
    if policy.urls:
        texts = config["texts"]
        assert isinstance(texts, dict)
        for language, values in texts.items():
            url = policy.url_for(language)
            values["policy_url"] = _policy_url(f"policy_url.{language}", url) if url else ""
    return config


class ShownTexts:
    """The language and texts hash a visitor who asked for a language was shown, for receipts.

    The banner picks from the config's languages (built-ins plus any an operator added), with
    the operator's overrides merged in; the receipt must prove exactly that text.
    """

    def __init__(self, config: Mapping[str, object]) -> None:
        texts = config["texts"]
        assert isinstance(texts, dict)
        # The texts and each vendor's description and processing line in that language.
        self._shown = {
            language: texts_shown(language, shown_texts(config, language)) for language in texts
        }

    def __call__(self, requested: str | None) -> TextsShown:
        primary = (requested or "").strip().lower().replace("_", "-").split("-", 1)[0]
        return self._shown.get(primary) or self._shown[DEFAULT_LANGUAGE]
