"""What the preferences layer says about each vendor in one language, and what a receipt proves.

The banner config (see `gateway.banner.config`) holds each vendor once, with its description
in every language it has and where it processes data; `vendor_details` renders them for one
language — the description in that language (else English) and the "Processed in: …" line:

    >>> config = {"texts": {"en": {"processed_in": "Processed in: %s",
    ...                            "safeguard_dpf": "EU–US Data Privacy Framework"}},
    ...           "vendors": [{"id": "ga4", "description": "Statistics.", "cookies": ["_ga"],
    ...                        "processing": {"locations": ["US"], "safeguards": {"US": "dpf"}}}]}
    >>> vendor_details(config, "en")["ga4"]["processedIn"]
    'Processed in: United States (EU–US Data Privacy Framework)'

A receipt's texts hash covers these per-vendor texts too (`shown_texts`): a vendor moving its
processing elsewhere changes what a visitor agreed to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from gateway.rules.transfers import SAFEGUARDS, processed_in

# What the preferences layer shows of a vendor's config entry, as is.
DETAIL_KEYS = ("name", "description", "policyUrl", "terms", "notice", "cookies")
# The per-vendor texts a receipt's hash covers.
SHOWN_KEYS = ("description", "processedIn")


def vendor_details(config: Mapping[str, object], language: str) -> dict[str, dict[str, object]]:
    """Vendor id → what the preferences layer shows of it in `language` (a key of the
    config's texts)."""
    texts = cast("dict[str, dict[str, str]]", config["texts"])[language]
    names = {key: texts[f"safeguard_{key}"] for key in SAFEGUARDS if f"safeguard_{key}" in texts}
    details: dict[str, dict[str, object]] = {}
    for vendor in cast("list[dict[str, Any]]", config["vendors"]):
        about = {key: vendor[key] for key in DETAIL_KEYS if key in vendor}
        translated = vendor.get("descriptions", {}).get(language)
        if translated:
            about["description"] = translated
        processing = vendor.get("processing")
        if processing:
            # The config keeps only the safeguards of transfers out of the home region.
            safeguards = tuple(processing["safeguards"].items())
            line = processed_in(
                tuple(processing["locations"]), safeguards, frozenset(), language, names
            )
            about["processedIn"] = texts["processed_in"].replace("%s", line)
        details[vendor["id"]] = about
    return details


def shown_texts(config: Mapping[str, object], language: str) -> dict[str, str]:
    """What the banner shows in `language`, as a receipt hashes it: the texts, plus each
    vendor's description and processing line as `vendor.<id>.<key>`."""
    texts = dict(cast("dict[str, dict[str, str]]", config["texts"])[language])
    for vendor_id, about in vendor_details(config, language).items():
        for key in SHOWN_KEYS:
            if key in about:
                texts[f"vendor.{vendor_id}.{key}"] = str(about[key])
    return texts
