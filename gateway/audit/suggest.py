"""Draft tag rules for what an audit found that no rule declares, told apart by platform.

Each undeclared cookie or storage key the cookie database knows belongs to a platform
(Hotjar, Microsoft Clarity, …); a draft rule per platform lists its cookies and storage keys,
the third-party hosts that set them or belong to it, and its category, with `[hit] mode =
"block"` until the operator decides how the gateway should treat its hits. Drafts pass
`consent-gateway check-rules` as written; their comments say what to review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gateway.audit.config import AuditConfig
from gateway.audit.cookie_database import CookieDatabase, CookieEntry
from gateway.audit.record import AuditRun
from gateway.audit.sites import site_of
from gateway.consent.model import NECESSARY
from gateway.rules.table import NAME

# The Open Cookie Database's categories, as the gateway's.
CATEGORIES = {
    "analytics": "analytics",
    "marketing": "marketing",
    "preferences": "preferences",
    "functional": NECESSARY,
    "security": NECESSARY,
}
PLACEHOLDER_POLICY = "https://example.invalid/privacy"  # reserved: never a real page
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")
MAX_DRAFTS = 100


@dataclass(slots=True)
class Draft:
    """One platform's draft rule: what was found of it, and the TOML text to review."""

    id: str
    platform: str
    category: str
    policy: str
    controller: str
    cookies: list[str] = field(default_factory=list)
    storage: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names a rule cannot hold
    text: str = ""


def suggest_rules(
    config: AuditConfig, audit: AuditRun, database: CookieDatabase, categories: Sequence[str]
) -> list[Draft]:
    """A draft per platform found but not declared, in the order they were first met."""
    drafts = _Drafts(config, audit, database, categories)
    for run in audit.runs:
        for visit in run.pages:
            for cookie in visit.cookies:
                owned = config.cookie_vendors(cookie.name, cookie.domain)
                if not owned and not config.declares(cookie.name):
                    drafts.cookie(cookie.name, cookie.domain, cookie.set_by)
            for key in visit.storage:
                setter = urlsplit(key.set_by).hostname or ""
                if not config.storage_vendors(key.key, setter) and not config.declares_storage(
                    key.key
                ):
                    drafts.storage(key.key, setter)
    return drafts.finished()


class _Drafts:
    """Collects what each undeclared platform left behind, then writes its draft."""

    def __init__(
        self,
        config: AuditConfig,
        audit: AuditRun,
        database: CookieDatabase,
        categories: Sequence[str],
    ) -> None:
        self.database, self.categories = database, categories
        self.site = site_of(urlsplit(audit.url).hostname or "")
        self.taken = {vendor.id for vendor in config.vendors}
        self.by_platform: dict[str, Draft] = {}
        self.hosts = {
            r.host
            for run in audit.runs
            for visit in run.pages
            for r in visit.requests
            if not config.vendors_at(r.host)
        }

    def cookie(self, name: str, domain: str, set_by: str) -> None:
        entry = self.database.lookup(name)
        draft = self._draft(entry)
        if entry and draft:
            _add_name(draft, draft.cookies, entry, name)
            self._host(draft, domain)
            self._host(draft, urlsplit(set_by).hostname or "")

    def storage(self, key: str, set_by_host: str) -> None:
        entry = self.database.lookup(key)
        draft = self._draft(entry)
        if entry and draft:
            _add_name(draft, draft.storage, entry, key)
            self._host(draft, set_by_host)

    def finished(self) -> list[Draft]:
        for draft in self.by_platform.values():
            # The platform's own hosts the site requested: those its database entries name.
            domains = {
                site_of(e.domain)
                for e in _entries(self.database, draft.platform)
                if _HOST.fullmatch(e.domain)
            }
            for host in sorted(self.hosts):
                if site_of(host) in domains:
                    self._host(draft, host)
            draft.text = draft_text(draft)
        return list(self.by_platform.values())

    def _draft(self, entry: CookieEntry | None) -> Draft | None:
        if entry is None:
            return None
        if entry.platform not in self.by_platform:
            if len(self.by_platform) >= MAX_DRAFTS:
                return None
            rule_id = _unique_id(_slug(entry.platform), self.taken)
            self.taken.add(rule_id)
            policy = entry.privacy_portal if _is_https(entry.privacy_portal) else ""
            self.by_platform[entry.platform] = Draft(
                rule_id, entry.platform, _category(entry.category, self.categories), policy,
                entry.controller,
            )  # fmt: skip
        return self.by_platform[entry.platform]

    def _host(self, draft: Draft, host: str) -> None:
        host = host.lower().lstrip(".")
        own = not host or site_of(host) == self.site
        if not own and _HOST.fullmatch(host) and host not in draft.hosts:
            draft.hosts.append(host)


def _entries(database: CookieDatabase, platform: str) -> list[CookieEntry]:
    return [e for e in (*database.exact.values(), *database.prefixes) if e.platform == platform]


def _add_name(draft: Draft, names: list[str], entry: CookieEntry, found: str) -> None:
    name = f"{entry.name}*" if entry.wildcard else found
    if not NAME.fullmatch(name) or name.count("*") > 1:
        if found not in draft.skipped:
            draft.skipped.append(found)
    elif name not in names:
        names.append(name)


def draft_text(draft: Draft) -> str:
    """The rule file: valid as written, with comments where the operator must decide."""
    lines = [
        f"# Draft by `consent-gateway audit --suggest-rules` for {draft.platform}:",
        "# found on the site, declared by no rule. Review it, then move it into your tag rules.",
    ]
    if draft.controller:
        lines.append(f"# Data controller (cookie database): {_comment(draft.controller)}")
    if draft.skipped:
        lines.append(f"# Not listable in a rule (characters): {_comment(', '.join(draft.skipped))}")
    lines += [
        f"id = {_string(draft.id)}",
        f"name = {_string(draft.platform)}",
        f"category = {_string(draft.category)}  # from the cookie database: check it",
    ]
    if draft.policy:
        lines.append(f"privacy_policy_url = {_string(draft.policy)}")
    else:
        lines.append(f"privacy_policy_url = {_string(PLACEHOLDER_POLICY)}  # TODO: the vendor's")
    lines.append(f"cookies = {_array(draft.cookies)}")
    if draft.storage:
        lines.append(f"storage = {_array(draft.storage)}")
    lines.append(f"hosts = {_array(draft.hosts)}")
    # Required (docs/transfers.md); a draft cannot know, so it assumes a transfer to the USA.
    safeguard = "scc" if draft.category == NECESSARY else "consent"
    lines.append('processing_locations = ["US"]  # TODO: where the vendor processes data')
    lines.append(f'transfer_safeguard = "{safeguard}"  # TODO: from the vendor\'s DPA or policy')
    if draft.category == NECESSARY:
        lines.append("# Strictly necessary: disclosed in the banner, never blocked (no [hit]).")
    else:
        lines += [
            "",
            "[hit]",
            'mode = "block"  # until you decide: forward (with upstream) or redirect',
        ]
    return "\n".join(lines) + "\n"


def write_suggestions(directory: Path, drafts: Sequence[Draft]) -> dict[str, Path]:
    """Write each draft as DIRECTORY/ID.toml (an existing file is never overwritten)."""
    written: dict[str, Path] = {}
    for draft in drafts:
        path = directory / f"{draft.id}.toml"
        if path.exists():
            continue
        path.write_text(draft.text, encoding="utf-8")
        written[f"rule {draft.id}"] = path
    return written


def _category(database_category: str, categories: Sequence[str]) -> str:
    wanted = CATEGORIES.get(database_category.strip().lower(), "marketing")
    if wanted == NECESSARY or wanted in categories:
        return wanted
    optional = [c for c in categories if c != NECESSARY]
    return "marketing" if "marketing" in optional or not optional else optional[-1]


def _slug(platform: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", platform.lower()).strip("_")[:60]
    return slug if slug and slug[0].isalnum() else f"vendor_{slug}"[:60]


def _unique_id(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}_{number}", number + 1
    return candidate


def _is_https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and ("#" not in url)
    )


def _string(text: str) -> str:
    # A JSON string is a TOML basic string (its escapes are TOML's), once surrogates are gone.
    return json.dumps(text.encode("utf-8", "replace").decode("utf-8"), ensure_ascii=False)


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def _comment(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)
