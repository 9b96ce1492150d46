"""`judge`: recorded visits against declared vendors, one table row per kind of evidence."""

from __future__ import annotations

import pytest

from gateway.audit.config import AuditConfig, Vendor
from gateway.audit.judge import counts, grouped, judge
from gateway.audit.record import (
    AuditRun,
    CookieRecord,
    PageVisit,
    RequestRecord,
    StateRun,
    StorageRecord,
)
from gateway.audit.states import consent_state
from gateway.rules.name_sets import NameSet

CATEGORIES = ("preferences", "analytics", "marketing")
CONFIG = AuditConfig(
    vendors=(
        Vendor("ga4", "GA4", "analytics", ("*.google-analytics.com", "www.googletagmanager.com"),
               NameSet(("_ga", "_ga_*"))),
        Vendor("meta", "Meta", "marketing", ("connect.facebook.net",), NameSet(("_fbp",))),
        Vendor("chat", "Chat", "preferences", ("chat.example",), NameSet(), NameSet(("chat_*",))),
    ),
    categories=CATEGORIES,
    site_cookies=NameSet(("cg_consent", "session")),
    source="rules",
    site_storage=NameSet(("theme",)),
)  # fmt: skip
SITE = "https://www.shop.example/"


def request(host: str, path: str = "/x.js", decision: str = "") -> RequestRecord:
    return RequestRecord(f"https://{host}{path}", host, path, "GET", "script", SITE, SITE, decision)


def cookie(name: str, domain: str = "www.shop.example") -> CookieRecord:
    return CookieRecord(name, domain, "/", -1, False, False, "Lax", SITE + "t.js", "script", SITE)


def storage(key: str, script: str) -> StorageRecord:
    return StorageRecord("localStorage", key, "https://www.shop.example", script, SITE)


Evidence = RequestRecord | CookieRecord | StorageRecord


def audit_of(state: str, *evidence: Evidence) -> AuditRun:
    visit = PageVisit(SITE, 200)
    visit.requests = [e for e in evidence if isinstance(e, RequestRecord)]
    visit.cookies = [e for e in evidence if isinstance(e, CookieRecord)]
    visit.storage = [e for e in evidence if isinstance(e, StorageRecord)]
    run = StateRun(consent_state(state, CATEGORIES), [visit])
    return AuditRun(SITE, 0.0, banner_script="https://consent.shop.example/consent.js", runs=[run])


CASES = [
    ("gtag before a choice", "none", request("www.googletagmanager.com"),
     ("violation", "vendor-request-before-consent")),
    ("beacon subdomain after reject", "reject", request("region1.google-analytics.com", "/g/collect"),
     ("violation", "vendor-request-before-consent")),
    ("gtag with analytics", "analytics", request("www.googletagmanager.com"), None),
    ("meta with analytics only", "analytics", request("connect.facebook.net"),
     ("violation", "vendor-request-before-consent")),
    ("meta on accept with GPC", "accept-gpc", request("connect.facebook.net"),
     ("violation", "vendor-request-before-consent")),
    ("meta on accept", "accept", request("connect.facebook.net"), None),
    ("a lookalike host is not the vendor", "none", request("google-analytics.com.evil.example"),
     ("finding", "undeclared-host")),
    ("first-party sibling host", "none", request("cdn.shop.example"), None),
    ("the gateway host", "none", request("consent.shop.example", "/consent"), None),
    ("vendor cookie before consent", "reject", cookie("_ga_XYZ"),
     ("violation", "vendor-cookie-before-consent")),
    ("vendor cookie with consent", "analytics", cookie("_ga"), None),
    ("undeclared cookie", "accept", cookie("ab_test"), ("finding", "undeclared-cookie")),
    ("a cookie on the vendor's own host", "reject", cookie("fr", ".connect.facebook.net"),
     ("violation", "vendor-cookie-before-consent")),
    ("a third-party cookie of nobody's", "accept", cookie("uid", ".tracker.example"),
     ("finding", "undeclared-cookie")),
    ("the site's own cookie", "none", cookie("session"), None),
    ("gateway forwarded without consent", "reject",
     request("consent.shop.example", "/t/ga4", "forward; reason=bug"),
     ("violation", "gateway-allowed-without-consent")),
    ("gateway anonymous ping without consent", "none",
     request("consent.shop.example", "/t/ga4", "anonymous; reason=no-consent"), None),
    ("a vendor script's storage key before consent", "none",
     storage("_fbq", "https://connect.facebook.net/en_US/fbevents.js"),
     ("violation", "vendor-storage-before-consent")),
    ("a vendor script's storage key with consent", "accept",
     storage("_fbq", "https://connect.facebook.net/en_US/fbevents.js"), None),
    ("the site's own storage key", "none", storage("theme", SITE + "app.js"), None),
    ("an undeclared storage key", "accept", storage("layout", SITE + "app.js"),
     ("finding", "undeclared-storage")),
    ("a rule's storage key, whoever wrote it, before consent", "reject",
     storage("chat_state", SITE + "app.js"), ("violation", "vendor-storage-before-consent")),
    ("a rule's storage key with consent", "preferences", storage("chat_state", SITE + "app.js"),
     None),
    ("gateway block", "none", request("consent.shop.example", "/t/meta", "block; reason=x"), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("state", "evidence", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_judgement(state: str, evidence: Evidence, expected: tuple[str, str] | None) -> None:
    items = [i for i in judge(CONFIG, audit_of(state, evidence)) if i.level != "note"]
    assert [(i.level, i.code) for i in items] == ([expected] if expected else [])
    for item in items:
        assert (item.state, item.page) == (state, SITE)
        assert item.cause
        assert item.rule
        assert item.message


def test_a_violation_names_rule_and_cause() -> None:
    [item] = [i for i in judge(CONFIG, audit_of("none", request("connect.facebook.net", "/fbevents.js")))
              if i.level == "violation"]  # fmt: skip
    assert item.subject == "connect.facebook.net/fbevents.js"
    assert item.cause == SITE
    assert item.rule == "meta.toml hosts (category marketing)"
    assert item.message == "script request to Meta without consent for marketing"


def test_vendors_never_loaded_are_notes_once_something_was_granted() -> None:
    items = judge(CONFIG, audit_of("accept", request("www.googletagmanager.com"), cookie("_fbp")))
    assert {(i.level, i.subject) for i in items} == {("note", "chat")}
    assert not judge(CONFIG, audit_of("reject"))  # nothing granted: nothing expected to load


@pytest.mark.parametrize(
    "vendors",
    [
        {"ga4": ["Google Analytics 4", "analytics"], "ghost": ["Ghost", "marketing"]},
        [{"id": "ga4"}, {"id": "ghost"}],  # the shape banners embedded before banner v2
    ],
)
def test_the_banner_decides_which_vendors_it_names(vendors: object) -> None:
    config = CONFIG.with_banner({"vendors": vendors})
    notes = [i for i in judge(config, audit_of("accept")) if i.level == "note"]
    assert [(i.subject, i.rule) for i in notes] == [
        ("ga4", "ga4.toml"),
        ("ghost", "(no local rule)"),
    ]


def test_a_state_the_banner_would_not_give_is_a_violation() -> None:
    audit = audit_of("reject")
    audit.runs[0].error = "could not make the choice 'Reject all' in the banner: timeout"
    [item] = judge(CONFIG, audit)
    assert (item.level, item.code, item.state) == ("violation", "choice-failed", "reject")
    audit = audit_of("none")
    audit.runs[0].error = "no consent banner appeared: timeout"
    [item] = judge(CONFIG, audit)
    assert (item.level, item.code, item.message) == (
        "violation",
        "banner-missing",
        audit.runs[0].error,
    )


def test_same_evidence_twice_is_one_item_and_groups_join_states() -> None:
    first = audit_of("none", request("connect.facebook.net"), request("connect.facebook.net"))
    second = audit_of("reject", request("connect.facebook.net"))
    first.runs += second.runs
    items = judge(CONFIG, first)
    assert counts(items) == {"violation": 2, "finding": 0, "note": 0}
    [group] = grouped(items)
    assert group.states == ("none", "reject")
    assert group.pages == (SITE,)


@pytest.mark.parametrize(
    ("site", "host", "third_party"),
    [
        ("https://www.shop.example/", "cdn.shop.example", False),
        # Not first party because they share a parent: `co.uk` and `github.io` are suffixes.
        ("https://example.co.uk/", "tracker.co.uk", True),
        ("https://shop.example.co.uk/", "static.example.co.uk", False),
        ("https://alice.github.io/", "bob.github.io", True),
        ("https://alice.github.io/", "alice.github.io", False),
        ("http://127.0.0.1:8000/", "127.0.0.2", True),
    ],
)
def test_first_party_is_the_registrable_domain_by_the_public_suffix_list(
    site: str, host: str, third_party: bool
) -> None:
    audit = audit_of("accept", request(host))
    audit.url, audit.banner_script = site, ""
    codes = [i.code for i in judge(CONFIG, audit) if i.level == "finding"]
    assert codes == (["undeclared-host"] if third_party else [])


def test_a_page_not_loaded_and_a_redirect_off_site_are_reported() -> None:
    from gateway.audit.judge import incomplete

    audit = audit_of("none")
    audit.runs[0].pages[0].error = "net::ERR_CONNECTION_REFUSED at https://www.shop.example/"
    audit.runs[0].pages.append(PageVisit(SITE + "out", 302, note="redirected to another site"))
    items = judge(CONFIG, audit)
    assert [(i.level, i.code, i.page) for i in items] == [
        ("finding", "page-not-loaded", SITE),
        ("note", "redirected-off-site", SITE + "out"),
    ]
    assert [i.page for i in incomplete(items)] == [SITE]
    assert "ERR_CONNECTION_REFUSED" in items[0].message


def test_the_cookie_database_tells_what_an_undeclared_cookie_is() -> None:
    from gateway.audit.cookie_database import load_database

    audit = audit_of("accept", cookie("_hjSessionUser_3346"), storage("_ym_uid", SITE + "m.js"))
    items = judge(CONFIG, audit, load_database())
    assert [i.code for i in items if i.level == "finding"] == [
        "undeclared-storage",
        "undeclared-cookie",
    ]
    by_code = {i.code: i for i in items}
    assert by_code["undeclared-cookie"].known.startswith("Hotjar (Analytics, controller Hotjar")
    assert (
        "the cookie database knows it: Hotjar (Analytics)" in by_code["undeclared-cookie"].message
    )
    assert by_code["undeclared-storage"].known.startswith("Yandex Metrica (Analytics")
    unknown = judge(CONFIG, audit_of("accept", cookie("zz_unknown")), load_database())
    assert [i.known for i in unknown if i.level == "finding"] == [""]
