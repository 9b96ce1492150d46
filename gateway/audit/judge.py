"""Judge what an audit recorded against what the site's rules promise. Pure: no I/O.

- **violation**: a request to a vendor's host, a vendor's cookie, a storage key a vendor's
  script wrote, or a hit the gateway let
  through, in a state where the vendor's category was not granted; a banner that never
  appears; a choice the banner would not let a visitor make.
- **finding**: a cookie or storage key no rule declares (nor the site's own list), told apart
  by the cookie database when it knows it; a third-party host (another site by the Public
  Suffix List) no rule declares; a page that did not load (then the audit is incomplete).
- **note**: a vendor the banner names that no state ever loaded; a page that redirected to
  another site (its crawl ends there).

Every item names the state, the page, what caused it (initiator or setter) and the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from gateway.audit.config import AuditConfig, Vendor
from gateway.audit.cookie_database import CookieDatabase, CookieEntry
from gateway.audit.record import AuditRun, PageVisit, RequestRecord, StateRun
from gateway.audit.sites import same_site
from gateway.consent.model import NECESSARY

Level = Literal["violation", "finding", "note"]
LEVELS: tuple[Level, ...] = ("violation", "finding", "note")
ALLOWED_OUTCOMES = ("forward", "redirect")  # what a hit without consent must never get
NOT_LOADED = "page-not-loaded"


@dataclass(frozen=True, slots=True)
class Item:
    level: Level
    code: str
    state: str  # "" for notes about the whole audit
    page: str
    subject: str  # the host and path, or the cookie, concerned
    cause: str  # the initiator, the script or response that set it
    rule: str  # the rule (file and key) it breaks, or the one it lacks
    message: str
    known: str = ""  # what the cookie database says about an undeclared cookie or key


def judge(
    config: AuditConfig, audit: AuditRun, database: CookieDatabase | None = None
) -> list[Item]:
    """Every violation, finding and note, in state and page order, each once."""
    first_party = _first_party_hosts(audit)
    items: list[Item] = []
    for run in audit.runs:
        if run.error:
            code = "banner-missing" if run.state.choice == "none" else "choice-failed"
            items.append(Item("violation", code, run.state.name, audit.url,
                              run.state.label, "banner", "the banner", run.error))  # fmt: skip
        for visit in run.pages:
            items.extend(_judge_visit(config, run, visit, first_party, database))
    items.extend(_never_loaded(config, audit))
    return _unique(items)


def _judge_visit(
    config: AuditConfig,
    run: StateRun,
    visit: PageVisit,
    first_party: set[str],
    database: CookieDatabase | None,
) -> Iterable[Item]:
    state, granted = run.state.name, run.state.granted
    if visit.error:
        yield Item(
            "finding", NOT_LOADED, state, visit.url, visit.url, "", "",
            f"not loaded, so not judged: {visit.error}",
        )  # fmt: skip
    if visit.note:
        yield Item("note", "redirected-off-site", state, visit.url, visit.url, "", "", visit.note)
    for request in visit.requests:
        yield from _judge_request(config, state, granted, visit.url, request, first_party)
    for key in visit.storage:
        # A key its rule names, or one a vendor's own script wrote, is the vendor's doing.
        owners = config.storage_vendors(key.key, urlsplit(key.set_by).hostname or "")
        if owners and not _any_granted(owners, granted):
            yield Item(
                "violation", "vendor-storage-before-consent", state, visit.url,
                f"{key.area}:{key.key}", key.set_by, _rule(owners, "hosts"),
                f"{_names(owners)} script wrote {key.area} key '{key.key}' without consent for "
                f"{_categories(owners)}",
            )  # fmt: skip
        elif not owners and not config.declares_storage(key.key):
            entry = database.lookup(key.key) if database else None
            yield Item(
                "finding", "undeclared-storage", state, visit.url, f"{key.area}:{key.key}",
                f"script {key.set_by}".strip(), f"no rule in {config.source} declares it",
                f"{key.area} key '{key.key}' is not declared by any rule{_known(entry)}",
                describe(entry),
            )  # fmt: skip
    for cookie in visit.cookies:
        # A vendor's cookie: one its rule names, or any cookie on one of its own hosts.
        owners = config.cookie_vendors(cookie.name, cookie.domain)
        cause = f"{cookie.via} {cookie.set_by}".strip()
        if owners and not _any_granted(owners, granted):
            yield Item(
                "violation", "vendor-cookie-before-consent", state, visit.url, cookie.name,
                cause, _rule(owners, "cookies"),
                f"{_names(owners)} cookie '{cookie.name}' set without consent for "
                f"{_categories(owners)}",
            )  # fmt: skip
        elif not owners and not config.declares(cookie.name):
            entry = database.lookup(cookie.name) if database else None
            yield Item(
                "finding", "undeclared-cookie", state, visit.url, cookie.name, cause,
                f"no rule in {config.source} declares it",
                f"cookie '{cookie.name}' (domain {cookie.domain}) is not declared by any rule"
                f"{_known(entry)}",
                describe(entry),
            )  # fmt: skip


def _judge_request(
    config: AuditConfig,
    state: str,
    granted: frozenset[str],
    page: str,
    request: RequestRecord,
    first_party: set[str],
) -> Iterable[Item]:
    subject = f"{request.host}{request.path}"
    owners = config.vendors_at(request.host)
    if owners and not _any_granted(owners, granted):
        yield Item(
            "violation", "vendor-request-before-consent", state, page, subject,
            request.initiator, _rule(owners, "hosts"),
            f"{request.kind} request to {_names(owners)} without consent for "
            f"{_categories(owners)}",
        )  # fmt: skip
    elif not owners and not any(same_site(request.host, own) for own in first_party):
        yield Item(
            "finding", "undeclared-host", state, page, request.host, request.initiator,
            f"no rule in {config.source} declares host {request.host}",
            f"third-party request to {subject}, a host no rule declares",
        )  # fmt: skip
    if request.decision and request.path.startswith("/t/"):
        vendor_id = request.path.split("/")[2]
        owners = [vendor for vendor in config.vendors if vendor.id == vendor_id]
        outcome = request.decision.split(";", 1)[0].strip()
        if owners and outcome in ALLOWED_OUTCOMES and not _any_granted(owners, granted):
            yield Item(
                "violation", "gateway-allowed-without-consent", state, page, subject,
                request.initiator, _rule(owners, "category"),
                f"the gateway answered '{request.decision}' without consent for "
                f"{_categories(owners)}",
            )  # fmt: skip


def _never_loaded(config: AuditConfig, audit: AuditRun) -> Iterable[Item]:
    loaded: set[str] = set()
    for run in audit.runs:
        for visit in run.pages:
            for request in visit.requests:
                loaded.update(v.id for v in config.vendors_at(request.host))
                if request.path.startswith("/t/"):
                    loaded.add(request.path.split("/")[2])
            for cookie in visit.cookies:
                loaded.update(v.id for v in config.cookie_vendors(cookie.name, cookie.domain))
    if not audit.runs or not any(run.state.granted for run in audit.runs):
        return  # with nothing ever granted, nothing is expected to load
    by_id = {vendor.id: vendor for vendor in config.vendors}
    for vendor_id in config.named_by_banner():
        if vendor_id in loaded:
            continue
        vendor = by_id.get(vendor_id)
        name = vendor.name if vendor else vendor_id
        yield Item(
            "note", "vendor-never-loaded", "", "", vendor_id, "the banner",
            f"{vendor_id}.toml" if vendor else "(no local rule)",
            f"the banner names {name}, but no page loaded it in any state audited",
        )  # fmt: skip


def _first_party_hosts(audit: AuditRun) -> set[str]:
    hosts = {urlsplit(audit.url).hostname or ""}
    if audit.banner_script:
        hosts.add(urlsplit(audit.banner_script).hostname or "")
    return hosts


def describe(entry: CookieEntry | None) -> str:
    """One line from the cookie database: platform, category, controller, retention, purpose."""
    if entry is None:
        return ""
    controller = f", controller {entry.controller}" if entry.controller else ""
    kept = f", kept {entry.retention}" if entry.retention else ""
    return f"{entry.platform} ({entry.category}{controller}{kept}): {entry.description}"


def _known(entry: CookieEntry | None) -> str:
    return f"; the cookie database knows it: {entry.platform} ({entry.category})" if entry else ""


def incomplete(items: Iterable[Item]) -> list[Item]:
    """The pages that could not be loaded: while there is one, the audit cannot pass."""
    return [item for item in items if item.code == NOT_LOADED]


def _any_granted(vendors: Sequence[Vendor], granted: frozenset[str]) -> bool:
    # A `necessary` vendor (disclosed in the banner, never blocked) needs no consent.
    return any(vendor.category in granted or vendor.category == NECESSARY for vendor in vendors)


def _names(vendors: Sequence[Vendor]) -> str:
    return " / ".join(vendor.name for vendor in vendors)


def _categories(vendors: Sequence[Vendor]) -> str:
    return " or ".join(sorted({vendor.category for vendor in vendors}))


def _rule(vendors: Sequence[Vendor], key: str) -> str:
    return ", ".join(f"{v.id}.toml {key} (category {v.category})" for v in vendors)


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: set[tuple[str, str, str, str, str]] = set()
    kept = []
    for item in items:
        key = (item.level, item.code, item.state, item.page, item.subject)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def counts(items: Iterable[Item]) -> dict[str, int]:
    """How many items of each level: `{"violation": 2, "finding": 1, "note": 0}`."""
    found: dict[str, int] = dict.fromkeys(LEVELS, 0)
    for item in items:
        found[item.level] += 1
    return found


@dataclass(frozen=True, slots=True)
class Group:
    """Items that differ only in state or page, shown once: "in states none, reject"."""

    item: Item
    states: tuple[str, ...]
    pages: tuple[str, ...]


def grouped(items: Iterable[Item]) -> list[Group]:
    groups: dict[tuple[str, ...], list[Item]] = {}
    for item in items:
        key = (item.level, item.code, item.subject, item.cause, item.rule)
        groups.setdefault(key, []).append(item)
    order = {level: index for index, level in enumerate(LEVELS)}
    result = [
        Group(
            members[0],
            tuple(dict.fromkeys(m.state for m in members if m.state)),
            tuple(dict.fromkeys(m.page for m in members if m.page)),
        )
        for members in groups.values()
    ]
    return sorted(result, key=lambda g: order[g.item.level])
