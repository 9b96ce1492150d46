"""The disclosure keys of a rule file: where the vendor processes data, the safeguard of each
transfer out of the home region, and the description in other languages.

    processing_locations = ["IE", "US"]           # required, ISO 3166-1 alpha-2
    transfer_safeguard = { US = "dpf" }           # or one id for every location: "scc"

    [descriptions]
    ru = "Измеряет рекламу."                       # `description` stays the English one
"""

from __future__ import annotations

import re

from gateway.rules.model import Rule
from gateway.rules.table import RuleTable
from gateway.rules.transfers import SAFEGUARDS, is_country

_LANGUAGE = re.compile(r"[a-z]{2,3}")


def locations(doc: RuleTable) -> tuple[str, ...]:
    if not doc.has("processing_locations"):
        doc.fail("processing_locations", "missing (expected ISO country codes such as ['US'])")
    codes = doc.strings("processing_locations")
    for index, code in enumerate(codes):
        if not is_country(code):
            problem = f"expected an uppercase ISO 3166-1 country code such as 'DE', got {code!r}"
            doc.fail(f"processing_locations[{index}]", problem)
    if not codes or len(set(codes)) != len(codes):
        doc.fail("processing_locations", "expected at least one country, each only once")
    return tuple(codes)


def safeguards(doc: RuleTable) -> tuple[tuple[str, str], ...]:
    """`transfer_safeguard = "scc"` (every location) or a table `{ US = "dpf", RU = "scc" }`."""
    if not doc.has("transfer_safeguard"):
        return ()
    locations = doc.strings("processing_locations")
    options = ", ".join(SAFEGUARDS)
    value = doc.values["transfer_safeguard"]
    if isinstance(value, str):
        if value not in SAFEGUARDS:
            doc.fail("transfer_safeguard", f"expected one of {options}; got {value!r}")
        return tuple((code, value) for code in locations)
    table = doc.table("transfer_safeguard", (), open_keys=True)
    pairs = []
    for code in table.values:
        if code not in locations:
            table.fail(code, f"is not one of processing_locations ({', '.join(locations)})")
        safeguard = table.string(code)
        if safeguard not in SAFEGUARDS:
            table.fail(code, f"expected one of {options}; got {safeguard!r}")
        pairs.append((code, safeguard))
    return tuple(pairs)


def check_transfers(doc: RuleTable, rule: Rule, home: frozenset[str]) -> None:
    covered = dict(rule.transfer_safeguards)
    for code in rule.processing_locations:
        if code not in home and code not in covered:
            problem = (
                f"{code} is outside the home region (GATEWAY_HOME_REGION): name its safeguard,"
                f" one of {', '.join(SAFEGUARDS)}"
            )
            doc.fail("transfer_safeguard", problem)
        if covered.get(code) == "consent" and rule.disclosure_only:
            problem = "a 'necessary' vendor runs without consent: consent cannot be its safeguard"
            doc.fail("transfer_safeguard", problem)


def descriptions(doc: RuleTable) -> tuple[tuple[str, str], ...]:
    if not doc.has("descriptions"):
        return ()
    texts = doc.table("descriptions", (), open_keys=True)
    pairs = []
    for language in texts.values:
        if not _LANGUAGE.fullmatch(language):
            texts.fail(language, "expected a lowercase language code such as 'ru'")
        text = texts.string(language)
        if not text.strip():
            texts.fail(language, "expected a non-empty description")
        pairs.append((language, text))
    if not doc.string("description", ""):
        doc.fail("descriptions", "needs `description` (the English one, the fallback)")
    return tuple(pairs)


def notice(doc: RuleTable) -> tuple[tuple[str, str], ...]:
    texts = doc.table("notice", (), open_keys=True) if doc.has("notice") else None
    if texts is None:
        return ()
    pairs = []
    for language in texts.values:
        if not _LANGUAGE.fullmatch(language):
            texts.fail(language, "expected a lowercase language code such as 'en'")
        text = texts.string(language)
        if not text.strip() or text.count("[") != text.count("]") or text.count("[") > 2:
            texts.fail(language, "expected text with at most two [link] marks")
        pairs.append((language, text))
    if "en" not in texts.values:
        texts.fail("en", "missing (English is the fallback for every other language)")
    return tuple(pairs)
