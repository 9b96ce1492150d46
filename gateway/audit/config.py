"""What a site promised: the vendors of its tag rules, their hosts, cookies and categories.

>>> from gateway.rules.model import HitRule, Rule
>>> from gateway.rules.name_sets import NameSet
>>> rule = Rule("ga4", "GA4", "analytics", "https://p.example", HitRule("forward",
...     upstream="https://www.google-analytics.com/g/collect"), NameSet(("_ga", "_ga_*")),
...     hosts=("*.googletagmanager.com",))
>>> config = audit_config({"ga4": rule}, categories=("necessary", "analytics"))
>>> [v.id for v in config.vendors_at("www.googletagmanager.com")], config.declares("_ga_X1")
(['ga4'], True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.consent.cookie import COOKIE_NAME
from gateway.consent.model import NECESSARY
from gateway.rules.model import Rule
from gateway.rules.name_sets import NameSet
from gateway.rules.transfers import EEA


@dataclass(frozen=True, slots=True)
class Vendor:
    """One vendor as the audit sees it: where its tags load from and which cookies are its."""

    id: str
    name: str
    category: str
    hosts: tuple[str, ...]
    cookies: NameSet
    storage: NameSet = field(default_factory=NameSet)
    # Country → safeguard for each processing location outside the home region (issue 27).
    transfers: tuple[tuple[str, str], ...] = ()

    def serves(self, host: str) -> bool:
        """Whether `host` is one of the vendor's; `*.example.com` matches any subdomain."""
        host = host.lower().rstrip(".")
        for pattern in self.hosts:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]):
                    return True
            elif host == pattern:
                return True
        return False


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """The vendors (from tag rules), the optional categories, and the site's own cookies."""

    vendors: tuple[Vendor, ...]
    categories: tuple[str, ...]
    site_cookies: NameSet = field(default_factory=lambda: NameSet((COOKIE_NAME,)))
    source: str = "tag_rules"
    banner_vendors: tuple[str, ...] | None = field(default=None)
    site_storage: NameSet = field(default_factory=NameSet)

    def vendors_at(self, host: str) -> list[Vendor]:
        return [vendor for vendor in self.vendors if vendor.serves(host)]

    def cookie_owners(self, name: str) -> list[Vendor]:
        return [vendor for vendor in self.vendors if name in vendor.cookies]

    def cookie_vendors(self, name: str, domain: str = "") -> list[Vendor]:
        """The vendors a cookie belongs to: by its name in their rules, else by its domain."""
        return self.cookie_owners(name) or (self.vendors_at(domain.lstrip(".")) if domain else [])

    def storage_vendors(self, key: str, set_by_host: str = "") -> list[Vendor]:
        """The vendors a storage key belongs to: by its name in their rules, else by who set it."""
        owners = [vendor for vendor in self.vendors if key in vendor.storage]
        return owners or (self.vendors_at(set_by_host) if set_by_host else [])

    def declares_storage(self, key: str) -> bool:
        """Whether a rule, or the site's own list of necessary storage keys, declares `key`."""
        return key in self.site_storage or any(key in vendor.storage for vendor in self.vendors)

    def declares(self, cookie: str) -> bool:
        """Whether a rule, or the site's own list of necessary cookies, declares `cookie`."""
        return cookie in self.site_cookies or bool(self.cookie_owners(cookie))

    def transfers_allowed(self, granted: frozenset[str]) -> list[dict[str, str]]:
        """The transfers out of the home region a state allows: those of the necessary vendors
        and of the vendors in a granted category."""
        return [
            {"vendor": vendor.id, "country": country, "safeguard": safeguard}
            for vendor in self.vendors
            if vendor.category == NECESSARY or vendor.category in granted
            for country, safeguard in vendor.transfers
        ]

    def named_by_banner(self) -> tuple[str, ...]:
        """The vendor ids the banner shows visitors (from its live config when it was read)."""
        if self.banner_vendors is not None:
            return self.banner_vendors
        return tuple(vendor.id for vendor in self.vendors)

    def with_banner(self, banner: Mapping[str, Any] | None) -> AuditConfig:
        """This config, knowing which vendors the live banner names (None: not readable)."""
        if not banner:
            return self
        vendors = banner.get("vendors", [])
        if isinstance(vendors, dict):  # the banner embeds `{id: [name, category]}`
            ids = tuple(str(vendor_id) for vendor_id in vendors)
        else:  # older banners embedded a list of vendor objects
            ids = tuple(str(v.get("id")) for v in vendors if isinstance(v, dict))
        return replace(self, banner_vendors=ids)


def audit_config(
    rules: Mapping[str, Rule],
    *,
    categories: Sequence[str],
    site_cookies: Iterable[str] = (),
    source: str = "tag_rules",
    site_storage: Iterable[str] = (),
    home: frozenset[str] = EEA,
) -> AuditConfig:
    """The audit's view of loaded rules: a vendor's hosts are its `hosts` plus its upstream's."""
    vendors = []
    for rule in rules.values():
        hosts = list(rule.hosts)
        upstream = urlsplit(rule.hit.upstream).hostname if rule.hit.upstream else None
        if upstream and upstream not in hosts:
            hosts.append(upstream)
        transfers = tuple((c, s) for c, s in rule.transfer_safeguards if c not in home)
        vendors.append(
            Vendor(
                rule.id,
                rule.name,
                rule.category,
                tuple(hosts),
                rule.cookies,
                rule.storage,
                transfers,
            )
        )
    optional = tuple(c for c in categories if c != NECESSARY)
    own = NameSet((COOKIE_NAME, *site_cookies))
    return AuditConfig(tuple(vendors), optional, own, source, None, NameSet(tuple(site_storage)))


def load_audit_config(
    folder: Path,
    categories: Sequence[str],
    site_cookies: Iterable[str] = (),
    site_storage: Iterable[str] = (),
    vendors: Sequence[str] = (),
    home: frozenset[str] = EEA,
) -> AuditConfig:
    """Read and validate a rules folder (the gateway's own loader: same errors, same exit 2);
    with `vendors` (the site's `GATEWAY_VENDORS`), only those rules."""
    from gateway.rules.loader import load_rules
    from gateway.rules.selection import select_vendors

    rules = load_rules(folder, categories=categories, allow_insecure_upstreams=True, home=home)
    if vendors:
        rules = select_vendors(rules, vendors)
    return audit_config(
        rules, categories=categories, site_cookies=site_cookies, source=str(folder),
        site_storage=site_storage, home=home,
    )  # fmt: skip


# The banner's config: after the marker the gateway leaves before it (the built banner's
# variable names are the minifier's), or in older banners after `const C =`.
_CONFIG_START = re.compile(r"/\*@config\*/|const C\s*=\s*")


def banner_config(script: str) -> dict[str, Any] | None:
    """The config object embedded in a served `/consent.js`, or None if it is not there.

    >>> banner_config('(()=>{var a=/*@config*/{"revision":2,"vendors":[]};})();')
    {'revision': 2, 'vendors': []}
    >>> banner_config('((w) => { const C = {"revision": 2, "vendors": []}; })(window);')
    {'revision': 2, 'vendors': []}
    >>> banner_config("console.log(1)") is None
    True
    """
    match = _CONFIG_START.search(script)
    if not match:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(script, match.end())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
