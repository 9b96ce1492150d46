"""Shaping outbound hits: raw values pass through only when they are cleanly encoded."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote_plus, unquote_plus

import pytest

from gateway.decision import Decision
from gateway.model.encoded import Encoded
from gateway.rules.loader import load_rules
from gateway.tracking.hits import outbound_hit, parse_query, redirect_location
from gateway.visitors.network import parse_ip
from tests.conftest import REPO

RULES = load_rules(
    REPO / "tag_rules", categories=("necessary", "preferences", "analytics", "marketing")
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a=1&b=x%20y", [("a", "1"), ("b", "x%20y")]),
        ("a=1&&b=", [("a", "1"), ("b", "")]),
        ("flag", [("flag", "")]),
        ("ep.x%2Ey=1", [("ep.x.y", "1")]),  # keys are decoded for the allowlist
        ("dl=https://a.example/p?q=1", [("dl", "https://a.example/p?q=1")]),
        ("a=%0d%0aSet-Cookie:x", [("a", "%0d%0aSet-Cookie:x")]),  # stays encoded
        ("a=\r\nX: y", [("a", "%0D%0AX%3A+y")]),  # raw control characters are encoded
        ("a=<script>", [("a", "%3Cscript%3E")]),
        ("a=%zz", [("a", "%25zz")]),  # a broken escape is repaired, not passed on
        ("a=caf\xe9", [("a", "caf%C3%A9")]),
    ],
)
def test_parse_query(raw: str, expected: list[tuple[str, str]]) -> None:
    pairs = parse_query(raw)
    assert pairs == expected
    assert all(isinstance(value, Encoded) for _, value in pairs)


def test_redirect_keeps_only_allowed_params_on_the_rules_upstream() -> None:
    location = redirect_location(
        RULES["meta_pixel"], parse_query("id=1&ev=PageView&x=%2F%2Fevil.example&cd[v]=2")
    )
    assert location == "https://www.facebook.com/tr?id=1&ev=PageView&cd%5Bv%5D=2"


@pytest.mark.parametrize("query", ["@evil.example", "/../../x", "?x=1#frag", "%2F%2Fevil.example"])
def test_nothing_in_a_hit_changes_where_it_goes(query: str) -> None:
    for rule in RULES.values():
        if rule.hit.mode == "block":
            continue
        upstream = rule.hit.upstream
        assert upstream is not None
        if rule.hit.mode == "redirect":
            assert redirect_location(rule, parse_query(query)).startswith(upstream)
        else:
            hit = outbound_hit(
                rule,
                parse_query(query),
                Decision("forward", "consented"),
                ip=None,
                user_agent="",
            )
            assert hit.url.split("?")[0] == upstream


def test_json_hits_decode_values_that_arrived_encoded() -> None:
    hit = outbound_hit(
        RULES["plausible"],
        [
            *parse_query("n=pageview&u=https%3A%2F%2Fa.example%2F"),
            ("d", "a.example"),
            ("p", {"k": 1}),
        ],
        Decision("anonymous", "no_consent"),
        ip=parse_ip("203.0.113.9"),
        user_agent="Mozilla/5.0",
    )
    body = json.loads(hit.body)
    assert body["n"] == "pageview"
    assert body["u"] == "https://a.example/"
    assert hit.url == RULES["plausible"].hit.upstream
    assert ("User-Agent", "consent-gateway") in hit.headers


def test_rules_folder_is_the_shipped_one() -> None:
    assert Path(REPO / "tag_rules").is_dir()
    assert {"ga4", "matomo", "meta_pixel", "linkedin_insight", "plausible"} <= set(RULES)


# Apps: advertising ids, signals the gateway sets, and the Measurement Protocol's URL query.

APP_EVENT = [
    ("event", "CUSTOM_APP_EVENTS"),
    ("advertiser_id", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
    ("anon_id", "XZ1234"),
    ("advertiser_tracking_enabled", "1"),  # the app's own claim: never passed on
    ("custom_events", '[{"_eventName":"fb_mobile_purchase"}]'),
]


def form_of(hit) -> dict[str, str]:
    return dict(parse_qsl(hit.body.decode()))


@pytest.mark.parametrize(
    ("signalled", "advertiser_id", "tracking_enabled"),
    [
        (frozenset({"marketing"}), "6D92078A-8246-4BA4-AE5B-76104861E7DC", "1"),
        (frozenset({"analytics"}), None, "0"),
        (frozenset(), None, "0"),
    ],
)
def test_an_advertising_id_and_the_tracking_flags_follow_what_may_be_signalled(
    signalled: frozenset[str], advertiser_id: str | None, tracking_enabled: str
) -> None:
    decision = Decision("forward", "consented", signalled)
    sent = form_of(outbound_hit(RULES["meta_app"], APP_EVENT, decision, ip=None, user_agent="a"))
    assert sent.get("advertiser_id") == advertiser_id
    assert sent["advertiser_tracking_enabled"] == tracking_enabled
    assert sent["application_tracking_enabled"] == tracking_enabled
    assert sent["anon_id"] == "XZ1234"


def test_an_advertising_id_on_an_analytics_rule_needs_marketing_too(tmp_path: Path) -> None:
    (tmp_path / "stats.toml").write_text(
        'id = "stats"\nname = "Stats"\ncategory = "analytics"\n'
        'privacy_policy_url = "https://stats.example/privacy"\nprocessing_locations = ["DE"]\n'
        '[hit]\nmode = "forward"\n'
        'upstream = "https://stats.example/hit"\nallowed_params = ["e", "idfa", "gaid"]\n'
        'advertising_id_params = ["idfa", "gaid"]\nwithout_consent = "anonymous"\n'
    )
    rule = load_rules(tmp_path, categories=("necessary", "analytics", "marketing"))["stats"]
    sent = "e=open&idfa=AAAA&gaid=BBBB"

    def query_of(decision: Decision) -> str:
        hit = outbound_hit(rule, parse_query(sent), decision, ip=None, user_agent="a")
        return hit.url.partition("?")[2]

    assert query_of(Decision("forward", "consented", frozenset({"analytics"}))) == "e=open"
    both = frozenset({"analytics", "marketing"})
    assert query_of(Decision("forward", "consented", both)) == sent
    # an anonymous ping never carries one, whatever is signalled
    assert query_of(Decision("anonymous", "denied", both)) == "e=open"


@pytest.mark.parametrize(
    ("signalled", "expected"),
    [
        (frozenset({"analytics", "marketing"}), "GRANTED"),
        (frozenset({"analytics"}), "DENIED"),
    ],
)
def test_a_measurement_protocol_hit_keeps_its_keys_in_the_url_and_gets_our_consent(
    signalled: frozenset[str], expected: str
) -> None:
    sent = [
        *parse_query("firebase_app_id=1%3A123%3Aios%3Aabc&api_secret=s3cr3t"),
        ("app_instance_id", "0123456789abcdef0123456789abcdef"),
        ("events", [{"name": "screen_view", "params": {"screen": "Cart"}}]),
        ("consent", {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}),
        ("user_data", {"sha256_email_address": ["x"]}),
    ]
    decision = Decision("forward", "consented", signalled)
    hit = outbound_hit(RULES["ga4_app"], sent, decision, ip=None, user_agent="a")
    # The stream and its key are the operator's (the rule's), never the app's: no open relay.
    assert hit.url == (
        "https://www.google-analytics.com/mp/collect"
        "?firebase_app_id=1%3A000000000000%3Aandroid%3A0000000000000000&api_secret=your-api-secret"
    )
    assert json.loads(hit.body) == {
        "app_instance_id": "0123456789abcdef0123456789abcdef",
        "events": [{"name": "screen_view", "params": {"screen": "Cart"}}],
        "consent": {"ad_user_data": expected, "ad_personalization": expected},
    }


def test_a_clean_query_scanned_whole_reads_as_each_value_scanned_alone() -> None:
    """`parse_query` checks a whole query at once when it can: the pairs must be those a scan
    of each value gives (a `%` escape cut by `&`, an unsafe character anywhere, ...)."""
    clean_value = re.compile(r"(?:[A-Za-z0-9\-._~!$'()*,;:@/?=]|%[0-9A-Fa-f]{2}|\+)*")

    def per_value(raw: str) -> list[tuple[str, str]]:
        pairs = []
        for piece in filter(None, raw.split("&")):
            key, _, value = piece.partition("=")
            key = unquote_plus(key) if "%" in key or "+" in key else key
            value = value if clean_value.fullmatch(value) else quote_plus(unquote_plus(value))
            pairs.append((key, value))
        return pairs

    pieces = [*"ab=&%+2F4g ", "%20", "%2", "%zz", "é", "&&", "==", "%4&", "?", "/", "#", "\x00"]
    draws = random.Random()
    queries = ["a=%4&b=1", "a=1&b=x%20y", "a=%&b", "k%41=v", "a=b c&d=e", "=&=", ""]
    queries += ["".join(draws.choices(pieces, k=draws.randint(0, 12))) for _ in range(5000)]
    for raw in queries:
        assert [(key, str(value)) for key, value in parse_query(raw)] == per_value(raw), raw
