"""Queue entries: a decided hit read back from its entry makes the very request the edge
would have shaped at once (query, form and JSON encodings, Consent Mode, signal parameters,
the address in a parameter or a header, redacted and non-text values); an entry of the old
format (the shaped request) reads back whole."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.decision import ConsentModeState, Decision
from gateway.delivery.queue import QueuedHit
from gateway.model.decided_hits import DecidedHit
from gateway.model.encoded import Encoded
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule, SignalParam
from gateway.rules.name_sets import NameSet
from gateway.tracking.hits import decided_hit, outbound_hit, parse_query
from tests.tracking.test_hit_shaping import ANONYMOUS, FORWARD, UPSTREAM, V4, V6, rule

AGENT = "Mozilla/5.0 (X11; Linux x86_64)"
SIGNALS = (SignalParam("consent.ad_user_data", "marketing", "GRANTED", "DENIED"),)
MARKETING = Decision(
    "forward",
    "consented",
    frozenset({"analytics", "marketing"}),
    ConsentModeState(True, True, True, True, updated=True),
)
TEXT = (
    "e=a%20b&cid=c1&dl=https%3A%2F%2Fa.example%2Fp%3Ftoken%3Dt%26utm_source%3Dn&uid=ada%40x.example"
)

CASES: list[tuple[str, Rule, list[tuple[str, Any]], Decision]] = [
    ("query", rule(ip="forward", ip_param="uip"), parse_query(TEXT), FORWARD),
    ("query, anonymous", rule(ip="forward", ip_param="uip"), parse_query(TEXT), ANONYMOUS),
    ("consent mode", rule(consent_mode=True, ip="truncate", ip_header="X-Forwarded-For"),
     parse_query(TEXT), MARKETING),
    ("consent mode denied", rule(consent_mode=True), parse_query(TEXT), ANONYMOUS),
    ("fixed", rule(fixed_params=(("v", "2"),)), parse_query("v=9&" + TEXT), FORWARD),
    ("form", rule(method="POST", encoding="form", upstream_query_params=NameSet(("cid",))),
     parse_query(TEXT), FORWARD),
    ("json", rule(method="POST", encoding="json", allowed_params=NameSet(("e", "n", "consent")),
                  signal_params=SIGNALS),
     [("e", Encoded("a%20b")), ("n", 3), ("consent", {"ad_storage": "x"})], MARKETING),
    ("json values in a query", rule(), [("e", {"k": [1, 2.5, None, True]}), ("dl", "x y")],
     FORWARD),
]  # fmt: skip


@pytest.mark.parametrize(("name", "r", "params", "decision"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("ip", [V4, V6, None])
def test_a_decided_hit_read_back_from_its_entry_makes_the_same_request(
    name: str, r: Rule, params: list[tuple[str, Any]], decision: Decision, ip: Any
) -> None:
    decided = decided_hit(r, params, decision, ip=ip, user_agent=AGENT)
    queued = QueuedHit(decided, "c1", 1000.5, decision.signalled, 999.0, "abc")
    back = QueuedHit.from_json(queued.encoded())
    assert back == queued
    assert back.request(r) == outbound_hit(r, params, decision, ip=ip, user_agent=AGENT)
    assert back.request(r).url.startswith(UPSTREAM)


def test_the_entry_keeps_what_is_encoded_apart_from_what_is_plain() -> None:
    params = [("e", Encoded("a%20b")), ("dl", "a b"), ("n", 3)]
    decided = decided_hit(rule(allowed_params=NameSet(("e", "dl", "n"))), params, ANONYMOUS,
                          ip=V4, user_agent=AGENT)  # fmt: skip
    entry = json.loads(QueuedHit(decided, None, 1.0).encoded())
    assert entry["p"] == [["e", "a%20b"], ["dl", "a b", 1], ["n", 3, 1]]
    assert entry["n"] == 1
    assert "ua" not in entry  # an anonymous ping carries the gateway's agent
    assert "ip" not in entry  # this rule sends no address
    (back,) = [QueuedHit.from_json(json.dumps(entry)).hit]
    assert isinstance(back, DecidedHit)
    assert [type(value) for _, value in back.pairs] == [Encoded, str, int]


def test_an_entry_of_the_old_format_reads_back_as_the_request_it_holds() -> None:
    text = (
        '{"v":"ga4","m":"POST","u":"https://v.example/collect?a=1","h":[["User-Agent","UA"],'
        '["Content-Type","application/json"]],"b":"{\\"e\\":\\"\\u00ff\\"}","c":"c1",'
        '"t":1000.5,"g":["analytics"],"ct":999}'
    )
    queued = QueuedHit.from_json(text)
    hit = OutboundHit(
        "ga4",
        "POST",
        "https://v.example/collect?a=1",
        (("User-Agent", "UA"), ("Content-Type", "application/json")),
        '{"e":"ÿ"}'.encode("latin-1"),
    )
    assert queued == QueuedHit(hit, "c1", 1000.5, frozenset({"analytics"}), 999.0)
    assert queued.request(rule()) is queued.hit  # shaped already: sent as it is
    assert queued.to_json() == text  # appended again, the same entry


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"v":"ga4","p":[["e"]],"c":null,"t":1}',
        '{"v":"ga4","p":[["e",3]],"c":null,"t":1}',  # a number must say it is plain
        '{"v":"ga4","p":[],"c":null}',
    ],
)
def test_an_unreadable_entry_is_refused(text: str) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        QueuedHit.from_json(text)
