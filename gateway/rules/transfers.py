"""Where a vendor processes data, and under which safeguard a transfer out of the home region runs.

Every rule declares `processing_locations` (ISO 3166-1 alpha-2 countries). A location outside
the operator's home region (`GATEWAY_HOME_REGION`, default `EEA`) needs a `transfer_safeguard`;
the banner's preferences layer shows the result per vendor, in the visitor's language:

    >>> home = home_region("EEA")
    >>> "IE" in home, "NO" in home, "GB" in home, "RU" in home
    (True, True, False, False)
    >>> processed_in(("IE", "US"), (("US", "dpf"),), home, "en", SAFEGUARD_TEXTS["en"])
    'Ireland; United States (EU–US Data Privacy Framework)'
    >>> processed_in(("RU",), (("RU", "scc"),), home_region("RU"), "ru", SAFEGUARD_TEXTS["ru"])
    'Россия'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Literal, get_args

from babel import Locale, UnknownLocaleError

# The legal ground a transfer to a country outside the home region rests on.
Safeguard = Literal["adequacy", "dpf", "scc", "bcr", "consent"]
SAFEGUARDS: tuple[str, ...] = get_args(Safeguard)

# Their names in the banner, per built-in language; operators override them as banner texts
# `safeguard_<id>` (see `gateway.banner.texts`).
SAFEGUARD_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "adequacy": "adequacy decision",
        "dpf": "EU–US Data Privacy Framework",
        "scc": "standard contractual clauses",
        "bcr": "binding corporate rules",
        "consent": "your explicit consent",
    },
    "ru": {
        "adequacy": "решение об адекватной защите",
        "dpf": "Рамочная программа ЕС–США о конфиденциальности данных (DPF)",
        "scc": "стандартные договорные условия",
        "bcr": "обязательные корпоративные правила",
        "consent": "ваше явное согласие",
    },
}

EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
EEA = EU | {"IS", "LI", "NO"}
REGIONS: Mapping[str, frozenset[str]] = {"EU": EU, "EEA": EEA}
DEFAULT_HOME_REGION = "EEA"
_COUNTRY = re.compile(r"[A-Z]{2}")


def is_country(code: str) -> bool:
    """Whether `code` is an ISO 3166-1 alpha-2 country code (uppercase)."""
    return bool(_COUNTRY.fullmatch(code)) and code != "ZZ" and code in _territories("en")


def home_region(text: str) -> frozenset[str]:
    """The countries of `GATEWAY_HOME_REGION`: comma-separated `EEA`, `EU` or country codes.

    Raises `ValueError` naming the first part that is neither.
    """
    countries: set[str] = set()
    for part in text.split(","):
        code = part.strip().upper()
        if code in REGIONS:
            countries |= REGIONS[code]
        elif is_country(code):
            countries.add(code)
        else:
            raise ValueError(f"expected EEA, EU or ISO country codes such as RU, got {part!r}")
    return frozenset(countries)


def country_name(code: str, language: str) -> str:
    """The country's name in `language` (English when the language is unknown)."""
    return _territories(language).get(code) or _territories("en").get(code) or code


def processed_in(
    locations: tuple[str, ...],
    safeguards: tuple[tuple[str, str], ...],
    home: frozenset[str],
    language: str,
    safeguard_names: Mapping[str, str],
) -> str:
    """`Ireland; United States (EU–US Data Privacy Framework)`: each location, with the
    safeguard of those outside `home`."""
    by_country = dict(safeguards)
    parts = []
    for code in locations:
        name = country_name(code, language)
        safeguard = by_country.get(code) if code not in home else None
        parts.append(f"{name} ({safeguard_names[safeguard]})" if safeguard else name)
    return "; ".join(parts)


@cache
def _territories(language: str) -> Mapping[str, str]:
    try:
        return dict(Locale.parse(language).territories)
    except (UnknownLocaleError, ValueError):
        return dict(Locale.parse("en").territories)
