"""What a vendor is *told*: no parameter sent upstream signals more than `decide()` allows.

First a written-out table of the Consent Mode state a GA4 hit carries, row by row from the
product rules. Then, over every shipped rule and every combination of consent, GPC (header and
the cookie's flag), region, objection and bot verdict, the hit actually shaped for the vendor is
read back and checked against what the person allowed.
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from gateway.consent.model import Consent
from gateway.decision import Decision, Signals, decide
from gateway.rules.loader import load_rules
from gateway.rules.model import HitRule, Rule
from gateway.rules.name_sets import NameSet
from gateway.tracking.hits import outbound_hit, parse_query, redirect_location
from gateway.visitors.network import parse_ip
from tests.conftest import REPO

REVISION = 3
DECLARED = load_rules(
    REPO / "tag_rules",
    categories=("necessary", "preferences", "analytics", "marketing"),
)
# The rules that take hits (embed vendors are mode = "block", necessary ones are disclosed only).
RULES = {k: r for k, r in DECLARED.items() if r.hit.mode != "block" and not r.disclosure_only}
# A shape no shipped rule has: a marketing vendor forwarded with Consent Mode and anonymous
# pings (a Google Ads conversion rule a site might write).
RULES["ads_cm"] = Rule(
    "ads_cm",
    "Ads with Consent Mode",
    "marketing",
    "https://ads.example/privacy",
    HitRule(
        mode="forward",
        upstream="https://ads.example/collect",
        allowed_params=NameSet(("v", "tid", "cid", "dl")),
        identifier_params=NameSet(("cid",)),
        without_consent="anonymous",
        consent_mode=True,
        url_params=NameSet(("dl",)),
    ),
)
VENDOR_CATEGORIES = {k: r.category for k, r in {**DECLARED, **RULES}.items()}
BOTH = frozenset({"analytics", "marketing"})
CONSENTS: dict[str, Consent | None] = {
    "none": None,
    "both": Consent("c1", REVISION, BOTH, chosen_at=1),
    "both_gpc": Consent("c2", REVISION, BOTH, chosen_at=1, gpc=True),  # GPC flag in the cookie
    "analytics": Consent("c3", REVISION, frozenset({"analytics"}), chosen_at=1),
    "marketing": Consent("c4", REVISION, frozenset({"marketing"}), chosen_at=1),
    "denied": Consent("c5", REVISION, frozenset(), chosen_at=1),
    "stale": Consent("c6", REVISION - 1, BOTH, chosen_at=1),
    # Both categories, but GA4 itself, or another vendor (Meta) refused in the banner.
    "ga4_refused": Consent("c7", REVISION, BOTH, 1, refused_vendors=frozenset({"ga4"})),
    "meta_refused": Consent("c8", REVISION, BOTH, 1, refused_vendors=frozenset({"meta_pixel"})),
}
OBJECTIONS = {"-": frozenset(), "mkt": frozenset({"marketing"}), "ana": frozenset({"analytics"})}

# GA4 (category analytics, anonymous without consent, Consent Mode on). gcs: ad_storage then
# analytics_storage; gcd letters: ad_storage, analytics_storage, ad_user_data,
# ad_personalization (p: denied, no choice; q: denied by choice; r: granted by choice;
# t: granted by the region's default).
#
# consent    gpc  region   objected  outcome    gcs   gcd
GA4_SIGNALS = """
none         off  opt_in   -         anonymous  G100  11p1p1p1p5
none         on   opt_in   -         anonymous  G100  11p1p1p1p5
none         off  opt_out  -         forward    G111  11t1t1t1t5
none         on   opt_out  -         forward    G101  11p1t1p1p5
none         off  opt_out  mkt       forward    G101  11p1t1p1p5
both         off  opt_in   -         forward    G111  11r1r1r1r5
both         on   opt_in   -         forward    G101  11q1r1q1q5
both         off  opt_out  -         forward    G111  11r1r1r1r5
both         on   opt_out  -         forward    G101  11q1r1q1q5
both         off  opt_in   mkt       forward    G101  11q1r1q1q5
both         off  opt_in   ana       block      -     -
both_gpc     off  opt_in   -         forward    G101  11q1r1q1q5
both_gpc     off  opt_out  -         forward    G101  11q1r1q1q5
analytics    off  opt_in   -         forward    G101  11q1r1q1q5
analytics    off  opt_out  -         forward    G101  11q1r1q1q5
marketing    off  opt_in   -         anonymous  G100  11q1q1q1q5
marketing    off  opt_out  -         anonymous  G100  11q1q1q1q5
denied       off  opt_in   -         anonymous  G100  11q1q1q1q5
denied       off  opt_out  -         anonymous  G100  11q1q1q1q5
stale        off  opt_in   -         anonymous  G100  11p1p1p1p5
stale        off  opt_out  -         forward    G111  11t1t1t1t5
stale        on   opt_out  -         forward    G101  11p1t1p1p5
stale        off  opt_out  mkt       forward    G101  11p1t1p1p5
ga4_refused  off  opt_in   -         anonymous  G100  11q1q1q1q5
ga4_refused  off  opt_out  -         anonymous  G100  11q1q1q1q5
meta_refused off  opt_in   -         forward    G101  11q1r1q1q5
meta_refused off  opt_out  -         forward    G101  11q1r1q1q5
"""
# What a real gtag page sends, including its own (untrusted) consent claims.
GA4_CLIENT = "v=2&tid=G-T&cid=1.2&sid=9&uid=u1&en=page_view&gcs=G111&gcd=11r1r1r1r5&npa=0&dma=0"


def ga4_rows() -> list[object]:
    rows: list[object] = []
    for line in GA4_SIGNALS.strip().splitlines():
        consent, gpc, region, objected, outcome, gcs, gcd = line.split()
        rows.append(
            pytest.param(consent, gpc == "on", region, objected, outcome, gcs, gcd, id=line)
        )
    return rows


@pytest.mark.parametrize(
    ("consent", "gpc", "region", "objected", "outcome", "gcs", "gcd"), ga4_rows()
)
def test_ga4_consent_mode_table(consent, gpc, region, objected, outcome, gcs, gcd) -> None:
    rule = RULES["ga4"]
    signals = Signals(
        REVISION, gpc, region, False, OBJECTIONS[objected], vendor_categories=VENDOR_CATEGORIES
    )
    decision = decide(rule, CONSENTS[consent], signals)
    assert decision.outcome == outcome
    if outcome == "block":
        return
    query = dict(sent_params(rule, decision, GA4_CLIENT))
    assert (query["gcs"], query["gcd"]) == (gcs, gcd)
    assert "npa" not in query  # the page's claims never pass
    assert "dma" not in query


# ---------------------------------------------------------------- every rule, every input


def may_be_told(
    category: str, consent: Consent | None, gpc: bool, region: str, objected, vendor=None
) -> bool:
    """What the person allowed for `category`, from the product rules (the oracle)."""
    if category in objected:
        return False
    if category == "marketing" and (gpc or (consent is not None and consent.gpc)):
        return False
    if consent is not None and consent.is_current(REVISION):
        if vendor is not None and vendor in consent.refused_vendors:
            return False
        partial = {VENDOR_CATEGORIES[v] for v in consent.refused_vendors}
        own = vendor is not None and VENDOR_CATEGORIES[vendor] == category
        return category in consent.granted and (own or category not in partial)
    return region == "opt_out"


CLIENT_QUERY = {
    "ga4": GA4_CLIENT + "&dl=https%3A%2F%2Fa.example%2Fp%3Femail%3Dx%40y.example",
    "matomo": "idsite=1&rec=1&_id=abcdef0123456789&uid=alice&url=https%3A%2F%2Fa.example%2F",
    "meta_pixel": "id=1&ev=PageView&fbp=fb.1.2.3&ud[em]=abc&dl=https%3A%2F%2Fa.example%2F",
    "linkedin_insight": "pid=1&fmt=gif&url=https%3A%2F%2Fa.example%2F",
    "plausible": "n=pageview&u=https%3A%2F%2Fa.example%2F%3Femail%3Dx&d=a.example",
    "yandex_metrica": "page-url=https%3A%2F%2Fa.example%2F&browser-info=pv%3A1%3Au%3A17329%3A",
    "vk_ads": "id=3000001;js=na",
    "vk_retargeting": "p=VK-RTRG-1-2",
    "ads_cm": GA4_CLIENT + "&dl=https%3A%2F%2Fa.example%2Fp%3Femail%3Dx%40y.example",
    # Apps, claiming every signal granted themselves (the gateway must overwrite the claims).
    "ga4_app": "firebase_app_id=1:2:android:3&api_secret=s&app_instance_id=abc&events=x"
    "&consent.ad_user_data=GRANTED&consent.ad_personalization=GRANTED",
    "meta_app": "event=CUSTOM_APP_EVENTS&advertiser_id=idfa-1&anon_id=a1"
    "&advertiser_tracking_enabled=1&application_tracking_enabled=1",
}
CONSENT_MODE_SIGNALS = {
    0: "ad_storage",
    1: "analytics_storage",
    2: "ad_user_data",
    3: "ad_personalization",
}
SIGNAL_CATEGORY = {"ad_storage": "marketing", "analytics_storage": "analytics",
                   "ad_user_data": "marketing", "ad_personalization": "marketing"}  # fmt: skip


def sent_params(rule: Rule, decision: Decision, query: str) -> list[tuple[str, str]]:
    """The parameters that actually leave the gateway for this decision ([] when nothing does)."""
    if decision.outcome == "block":
        return []
    if decision.outcome == "redirect":
        return parse_qsl(urlsplit(redirect_location(rule, parse_query(query))).query)
    hit = outbound_hit(
        rule, parse_query(query), decision, ip=parse_ip("198.51.100.7"), user_agent="UA"
    )
    in_url = parse_qsl(urlsplit(hit.url).query)
    if dict(hit.headers).get("Content-Type") == "application/json":
        return in_url + list(_flat(json.loads(hit.body)))
    return in_url + parse_qsl(hit.body.decode())


def _flat(document: dict[str, object], prefix: str = "") -> list[tuple[str, str]]:
    """A JSON body as dotted name/value pairs: `{"consent": {"a": "X"}}` → `consent.a=X`."""
    pairs: list[tuple[str, str]] = []
    for key, value in document.items():
        if isinstance(value, dict):
            pairs += _flat(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", str(value)))
    return pairs


def granted_signals(params: list[tuple[str, str]]) -> set[str]:
    """The Consent Mode signals the parameters claim are granted."""
    query = dict(params)
    granted = set()
    if "gcs" in query:
        gcs = query["gcs"]
        if gcs[2] == "1":
            granted.add("ad_storage")
        if gcs[3] == "1":
            granted.add("analytics_storage")
    if "gcd" in query:
        letters = query["gcd"][2:-1].split("1")
        granted |= {CONSENT_MODE_SIGNALS[i] for i, x in enumerate(letters) if x in {"r", "t", "v"}}
    return granted


EVERY = list(
    itertools.product(
        sorted(RULES),
        CONSENTS,
        (False, True),  # Sec-GPC
        # An app's platform signal: no header, authorized, refused (ATT / ad-ID opt-out).
        ("absent", "authorized", "refused"),
        ("opt_in", "opt_out"),
        OBJECTIONS,
        (False, True),  # bot
    )
)


def test_the_product_is_complete() -> None:
    assert len(EVERY) == len(RULES) * len(CONSENTS) * 2 * 3 * len(OBJECTIONS) * 2 * 2 == 7128


def test_no_parameter_to_any_vendor_signals_more_than_the_person_allowed() -> None:
    for rule_id, consent_name, gpc, att, region, objected, bot in EVERY:
        rule, consent = RULES[rule_id], CONSENTS[consent_name]
        signals = Signals(
            REVISION,
            gpc,
            region,  # type: ignore[arg-type]
            bot,
            OBJECTIONS[objected],
            vendor_categories=VENDOR_CATEGORIES,
            app_tracking=att,  # type: ignore[arg-type]
        )
        decision = decide(rule, consent, signals)
        where = (rule_id, consent_name, gpc, att, region, objected, bot, decision)
        # An app rule needs an explicit "authorized": no signal at all is a refusal.
        app_refused = att == "refused" or (rule.platform == "app" and att != "authorized")
        allowed = {
            c for c in ("analytics", "marketing", "preferences")
            if may_be_told(c, consent, gpc or app_refused, region, OBJECTIONS[objected], rule_id)
        }  # fmt: skip
        # The decision itself: signalled never exceeds what the person allowed.
        assert decision.signalled <= allowed, where
        if decision.outcome in {"forward", "redirect"}:
            assert rule.category in allowed, where
            assert not bot, where
        if decision.outcome in {"anonymous", "block"}:
            assert decision.signalled == frozenset(), where
        # What is actually sent.
        params = sent_params(rule, decision, CLIENT_QUERY[rule_id])
        if decision.outcome == "block":
            assert params == [], where
            continue
        for signal in granted_signals(params):
            assert SIGNAL_CATEGORY[signal] in decision.signalled, (signal, where)
            assert SIGNAL_CATEGORY[signal] in allowed, (signal, where)
        if rule.hit.consent_mode:
            assert {"gcs", "gcd"} <= {k for k, _ in params}, where  # always said, never omitted
        sent_values = dict(params)
        for written in rule.hit.signal_params:  # app signals: set by the gateway, never echoed
            assert sent_values[written.name] in {written.granted, written.denied}, where
            if sent_values[written.name] == written.granted:
                assert written.category in decision.signalled, (written, where)
                assert written.category in allowed, (written, where)
        if any(name in rule.hit.advertising_id_params for name in sent_values):
            assert "marketing" in allowed, where
        if decision.outcome == "anonymous":
            names = {k for k, _ in params}
            assert not any(n in rule.hit.identifier_params for n in names), where
            for name, value in params:
                if name in rule.hit.url_params:
                    assert "email" not in value, (name, value, where)


def test_the_state_comes_only_from_decide_not_from_the_page() -> None:
    rule = RULES["ga4"]
    decision = decide(rule, CONSENTS["analytics"], Signals(REVISION))
    for claim in ("gcs=G111", "gcd=11t1t1t1t5", "gcs=G111&gcd=11r1r1r1r5&npa=0"):
        query = dict(sent_params(rule, decision, f"v=2&{claim}"))
        assert (query["gcs"], query["gcd"]) == ("G101", "11q1r1q1q5")
