"""Shaping outbound hits: raw values pass through only when they are cleanly encoded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.decision import Decision
from gateway.rules.loader import load_rules
from gateway.tracking.hits import Encoded, outbound_hit, parse_query, redirect_location
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
