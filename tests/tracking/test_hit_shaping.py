"""What leaves the gateway for each IP mode, outcome and encoding, stated exactly.

Small rules written here (not the shipped ones) so every case is in view: the IP of every mode
in every outcome, page URLs stripped of fragments and of every query key outside the allowlist,
and the exact bytes of query, form and JSON hits.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from typing import Any

import pytest

from gateway.decision import ConsentModeState, Decision
from gateway.model.encoded import Encoded
from gateway.rules.model import HitRule, Rule, SignalParam
from gateway.rules.name_sets import NameSet
from gateway.tracking.hits import (
    GATEWAY_AGENT,
    allowed_params,
    outbound_hit,
    parse_query,
    redirect_location,
)
from gateway.tracking.redaction import fully_decoded, redact_params, strip_url

UPSTREAM = "https://v.example/collect"
V4 = ipaddress.ip_address("203.0.113.77")
V6 = ipaddress.ip_address("2001:db8:abcd:12:3456::1")
MAPPED = ipaddress.ip_address("::ffff:198.51.100.23")
FORWARD = Decision("forward", "consented", frozenset({"analytics"}))
ANONYMOUS = Decision("anonymous", "no_consent")


def rule(**hit: Any) -> Rule:
    base = HitRule(
        mode="forward",
        upstream=UPSTREAM,
        allowed_params=NameSet(("e", "cid", "dl", "uid")),
        identifier_params=NameSet(("cid", "uid")),
        without_consent="anonymous",
    )
    return Rule("v", "Vendor", "analytics", "https://v.example/privacy", replace(base, **hit))


def send(r: Rule, decision: Decision, ip: Any = V4, query: str = "e=view", agent: str = "UA/1"):
    return outbound_hit(r, parse_query(query), decision, ip=ip, user_agent=agent)


# (rule's ip, outcome, client address) → what the vendor is told; "" when nothing.
IP_TABLE = [
    ("forward", FORWARD, V4, "203.0.113.77"),
    ("forward", FORWARD, V6, "2001:db8:abcd:12:3456::1"),
    ("forward", ANONYMOUS, V4, "203.0.113.0"),  # an anonymous ping never has the full IP
    ("forward", ANONYMOUS, V6, "2001:db8:abcd::"),
    ("forward", ANONYMOUS, MAPPED, "198.51.100.0"),
    ("truncate", FORWARD, V4, "203.0.113.0"),
    ("truncate", FORWARD, V6, "2001:db8:abcd::"),
    ("truncate", ANONYMOUS, V4, "203.0.113.0"),
    ("drop", FORWARD, V4, ""),
    ("drop", ANONYMOUS, V4, ""),
    ("drop", FORWARD, V6, ""),
    ("forward", FORWARD, None, ""),  # no address known: none sent
    ("forward", ANONYMOUS, None, ""),
    ("truncate", FORWARD, None, ""),
    ("drop", ANONYMOUS, None, ""),
]


@pytest.mark.parametrize(("mode", "decision", "address", "told"), IP_TABLE)
def test_the_ip_in_a_parameter_for_every_mode_and_outcome(
    mode: str, decision: Decision, address: Any, told: str
) -> None:
    hit = send(rule(ip=mode, ip_param="uip"), decision, address)
    query = "e=view&uip=" + told.replace(":", "%3A") if told else "e=view"
    assert hit.url == f"{UPSTREAM}?{query}"
    assert [name for name, _ in hit.headers] == ["User-Agent"]


@pytest.mark.parametrize(("mode", "decision", "address", "told"), IP_TABLE)
def test_the_ip_in_a_header_for_every_mode_and_outcome(
    mode: str, decision: Decision, address: Any, told: str
) -> None:
    hit = send(rule(ip=mode, ip_header="X-Forwarded-For"), decision, address)
    assert hit.url == f"{UPSTREAM}?e=view"
    expected = [("X-Forwarded-For", told)] if told else []
    assert list(hit.headers[1:]) == expected


def test_the_ip_goes_in_one_place_only_the_parameter_first() -> None:
    hit = send(rule(ip="forward", ip_param="uip", ip_header="X-Real-IP"), FORWARD)
    assert hit.url == f"{UPSTREAM}?e=view&uip=203.0.113.77"
    assert [name for name, _ in hit.headers] == ["User-Agent"]


def test_an_ip_mode_without_a_parameter_or_header_sends_none() -> None:
    hit = send(rule(ip="forward"), FORWARD)
    assert (hit.url, hit.headers) == (f"{UPSTREAM}?e=view", (("User-Agent", "UA/1"),))


@pytest.mark.parametrize(
    ("decision", "agent", "sent"),
    [
        (FORWARD, "Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"),
        (FORWARD, "", GATEWAY_AGENT),
        (FORWARD, "x" * 512, "x" * 512),
        (FORWARD, "x" * 513, "x" * 512),
        (ANONYMOUS, "Mozilla/5.0 (X11)", GATEWAY_AGENT),
    ],
)
def test_the_user_agent(decision: Decision, agent: str, sent: str) -> None:
    assert send(rule(), decision, agent=agent).headers == (("User-Agent", sent),)
    assert GATEWAY_AGENT == "consent-gateway"


def test_identifiers_leave_an_anonymous_hit_and_the_rest_keeps_its_order() -> None:
    query = "uid=u1&e=view&x=1&cid=c1&dl=https%3A%2F%2Fa.example%2F"
    assert send(rule(), FORWARD, query=query).url == (
        f"{UPSTREAM}?uid=u1&e=view&cid=c1&dl=https%3A%2F%2Fa.example%2F"
    )
    assert send(rule(), ANONYMOUS, query=query).url == (
        f"{UPSTREAM}?e=view&dl=https%3A%2F%2Fa.example%2F"
    )


def test_fixed_params_come_last_and_the_client_cannot_set_them() -> None:
    fixed = rule(allowed_params=NameSet(("e", "v")), fixed_params=(("v", "2"),))
    assert send(fixed, FORWARD, query="v=9&e=view").url == f"{UPSTREAM}?e=view&v=2"
    assert allowed_params(fixed, [("v", "9")], anonymous=True) == [("v", "2")]


def test_no_params_no_question_mark() -> None:
    assert send(rule(), FORWARD, query="x=1").url == UPSTREAM


PAGE = "https://shop.example/p?utm_source=news&uid=u%2D1&utm_medium=mail&gclid=G#top"


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        (PAGE, "https://shop.example/p?utm_source=news&utm_medium=mail"),
        ("https://shop.example/p?uid=u%2D1&gclid=G", "https://shop.example/p"),
        ("https://shop.example/p#top", "https://shop.example/p"),
        ("https://shop.example/p#a?utm_source=x", "https://shop.example/p"),  # all after '#'
        ("https://shop.example/p?utm_source=x#a#b", "https://shop.example/p?utm_source=x"),
        ("https://shop.example/p?&&utm_source=x&", "https://shop.example/p?utm_source=x"),
        ("https://shop.example/p?utm%5Fterm=x&utm+x=y", "https://shop.example/p?utm%5Fterm=x"),
        ("https://shop.example/p?utm_flag&id=1", "https://shop.example/p?utm_flag"),
        ("https://shop.example/p?id=1&utm_id=2=3", "https://shop.example/p?utm_id=2=3"),
        ("https://shop.example/p?", "https://shop.example/p"),
        ("", ""),
    ],
)
def test_strip_url_drops_the_fragment_and_every_key_outside_the_allowlist(
    url: str, stripped: str
) -> None:
    assert strip_url(url, NameSet(("utm_*",))) == stripped


def url_rule(**hit: Any) -> Rule:
    return rule(url_params=NameSet(("dl",)), url_query_keys=NameSet(("utm_*",)), **hit)


def test_an_anonymous_hit_carries_page_urls_stripped_exactly() -> None:
    query = "e=view&dl=" + PAGE.replace("%2D", "%252D").replace("&", "%26").replace("#", "%23")
    anonymous = send(url_rule(), ANONYMOUS, query=query)
    assert anonymous.url == (
        f"{UPSTREAM}?e=view&dl=https%3A%2F%2Fshop.example%2Fp%3Futm_source%3Dnews%26utm_medium%3Dmail"
    )
    consented = send(url_rule(), FORWARD, query=query)  # the vendor is allowed the page as is
    assert consented.url == f"{UPSTREAM}?{query}"


def test_page_urls_that_arrived_decoded_are_stripped_too() -> None:
    kept = allowed_params(url_rule(), [("dl", PAGE), ("e", "view")], anonymous=True)
    assert kept == [("dl", "https://shop.example/p?utm_source=news&utm_medium=mail"), ("e", "view")]
    kept = allowed_params(url_rule(), [("dl", {"not": "a url"})], anonymous=True)
    assert kept == [("dl", {"not": "a url"})]
    assert allowed_params(url_rule(), [("dl", PAGE)], anonymous=False) == [("dl", PAGE)]


def test_url_params_are_stripped_even_when_relative_other_values_only_when_absolute() -> None:
    both = url_rule(allowed_params=NameSet(("dl", "e")))
    sent = [("e", "search?q=shoes#f"), ("dl", "/p?uid=1#f")]
    assert allowed_params(both, sent, anonymous=True) == [("e", "search?q=shoes#f"), ("dl", "/p")]
    assert allowed_params(both, sent, anonymous=False) == sent


def test_stripped_urls_are_plain_text_and_clean_values_pass_untouched() -> None:
    [(_, value)] = allowed_params(
        url_rule(), parse_query("dl=https://a.example/p#x"), anonymous=True
    )
    assert value == "https://a.example/p"
    assert not isinstance(value, Encoded)  # re-encoded once, on the way out
    [(_, clean)] = parse_query("e=a.b-c_d~e")
    assert isinstance(clean, Encoded)
    assert clean == "a.b-c_d~e"


@pytest.mark.parametrize(
    ("raw", "key"),
    [("a+b=1", "a b"), ("a%2Bb=1", "a+b"), ("a%20b=1", "a b"), ("a.b=1", "a.b")],
)
def test_parse_query_decodes_keys(raw: str, key: str) -> None:
    assert parse_query(raw) == [(key, "1")]


CONSENT_SIGNALS = (SignalParam("consent.ad_user_data", "marketing", "GRANTED", "DENIED"),)


def test_a_form_hit() -> None:
    form = rule(method="POST", encoding="form", upstream_query_params=NameSet(("cid",)))
    hit = send(form, FORWARD, query="e=a%20b&cid=c1&dl=x")
    assert (hit.method, hit.url) == ("POST", f"{UPSTREAM}?cid=c1")
    assert hit.body == b"e=a%20b&dl=x"
    assert hit.headers == (
        ("User-Agent", "UA/1"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    )
    bare = send(form, ANONYMOUS, query="e=1&cid=c1")
    assert (bare.url, bare.body) == (UPSTREAM, b"e=1")


def test_a_json_hit_nests_dotted_signal_params_only() -> None:
    doc = rule(
        method="POST",
        encoding="json",
        allowed_params=NameSet(("e", "a.b", "consent")),
        signal_params=(*CONSENT_SIGNALS, SignalParam("plain", "analytics", "yes", "no")),
    )
    params = [("e", Encoded("a%20b")), ("a.b", "1"), ("consent", "client says granted")]
    hit = outbound_hit(doc, params, FORWARD, ip=V4, user_agent="UA/1")
    assert hit.url == UPSTREAM
    assert hit.headers[1] == ("Content-Type", "application/json")
    assert hit.body == (b'{"e":"a b","a.b":"1","consent":{"ad_user_data":"DENIED"},"plain":"yes"}')


def test_a_json_signal_param_joins_an_object_the_client_sent() -> None:
    doc = rule(
        encoding="json",
        allowed_params=NameSet(("consent",)),
        signal_params=CONSENT_SIGNALS,
    )
    marketing = Decision("forward", "consented", frozenset({"marketing"}))
    params = [("consent", {"ad_storage": "x"})]
    hit = outbound_hit(doc, params, marketing, ip=None, user_agent="")
    assert json.loads(hit.body) == {"consent": {"ad_storage": "x", "ad_user_data": "GRANTED"}}


def test_values_that_are_not_text_are_compact_json_in_a_query() -> None:
    hit = outbound_hit(rule(), [("e", {"k": [1, 2]})], FORWARD, ip=None, user_agent="a")
    assert hit.url == f"{UPSTREAM}?e=%7B%22k%22%3A%5B1%2C2%5D%7D"


def test_keys_are_encoded_on_the_way_out() -> None:
    spaced = rule(allowed_params=NameSet(("a b", "c[d]")))
    hit = outbound_hit(spaced, [("a b", "1"), ("c[d]", "x y")], FORWARD, ip=None, user_agent="a")
    assert hit.url == f"{UPSTREAM}?a+b=1&c%5Bd%5D=x+y"


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (Decision("forward", "consented", frozenset(), None), "gcs=G100&gcd=11p1p1p1p5"),
        (
            Decision(
                "forward",
                "consented",
                frozenset({"analytics"}),
                ConsentModeState(False, True, False, False, updated=True),
            ),
            "gcs=G101&gcd=11q1r1q1q5",
        ),
    ],
)
def test_consent_mode_is_appended_denied_when_the_decision_has_none(
    decision: Decision, expected: str
) -> None:
    hit = send(rule(consent_mode=True), decision, query="e=view")
    assert hit.url == f"{UPSTREAM}?e=view&{expected}"


def test_no_consent_mode_unless_the_rule_asks() -> None:
    decision = Decision(
        "forward", "consented", frozenset(), ConsentModeState.of(frozenset(), updated=True)
    )
    assert send(rule(), decision).url == f"{UPSTREAM}?e=view"


def test_a_redirect_location() -> None:
    redirect = rule(mode="redirect", advertising_id_params=NameSet(("uid",)))
    assert redirect_location(redirect, parse_query("x=1")) == UPSTREAM
    assert redirect_location(redirect, parse_query("e=1&uid=u&cid=c")) == f"{UPSTREAM}?e=1&cid=c"
    marketing = frozenset({"marketing"})
    assert redirect_location(redirect, parse_query("uid=u"), marketing) == f"{UPSTREAM}?uid=u"


@pytest.mark.parametrize("outcome", ["block", "redirect"])
def test_a_blocked_or_redirected_hit_is_never_shaped_to_be_sent(outcome: Any) -> None:
    with pytest.raises(AssertionError):
        send(rule(ip="forward", ip_param="uip"), Decision(outcome, "denied"))


def test_url_query_keys_match_whole_names() -> None:
    keep = NameSet(("ref", "utm_*"))
    assert strip_url("https://a.example/?ref=x&referrer=y&utm_id=1", keep) == (
        "https://a.example/?ref=x&utm_id=1"
    )


@pytest.mark.parametrize(
    ("encoding", "method"), [("query", "GET"), ("form", "POST"), ("json", "POST")]
)
def test_every_hit_names_its_vendor_and_the_rules_method(encoding: Any, method: Any) -> None:
    hit = send(rule(encoding=encoding, method=method), FORWARD)
    assert (hit.vendor, hit.method) == ("v", method)
    posted = send(rule(encoding=encoding, method="POST"), ANONYMOUS)
    assert (posted.vendor, posted.method) == ("v", "POST")


# Redaction as a hit carries it (gateway/tracking/redaction.py).


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_every_hit_counts_the_values_whose_email_was_redacted(encoding: Any) -> None:
    shaped = rule(encoding=encoding, method="GET" if encoding == "query" else "POST")
    clean = send(shaped, FORWARD, query="e=view")
    assert clean.redacted == 0
    leaky = send(shaped, FORWARD, query="e=ada%40example.com&uid=bo%40example.com")
    assert leaky.redacted == 2
    if encoding == "query":
        assert (clean.body, leaky.body) == (b"", b"")
        assert leaky.url == f"{UPSTREAM}?e=%5Bemail%5D&uid=%5Bemail%5D"


def test_a_consented_hit_keeps_a_urls_query_and_loses_only_the_address() -> None:
    page = "https://a.example/p?x=1&m=ada@example.com"
    [(_, kept)] = allowed_params(rule(), [("e", page)], anonymous=False)
    assert kept == "https://a.example/p?x=1&m=[email]"


def test_a_value_with_nothing_to_take_out_leaves_as_it_came() -> None:
    came = Encoded("https://a.example/p%20q")  # looks like a URL: decoded to be checked
    [(_, kept)], redacted = redact_params(
        [("dl", came)],
        anonymous=True,
        url_params=NameSet(),
        url_query_keys=NameSet(),
        email_params=NameSet(),
    )
    assert (kept, redacted) == (came, 0)
    assert kept is came


@pytest.mark.parametrize(
    ("value", "plain"),
    [("100%", "100%"), ("a%2540b", "a@b"), ("plain", "plain"), ("50%25 off", "50% off")],
)
def test_fully_decoded(value: str, plain: str) -> None:
    assert fully_decoded(value) == plain
