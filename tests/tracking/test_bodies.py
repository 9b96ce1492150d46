"""`hits_in_body`: any bytes a client sends give hits or a `ClientError` (a 4xx), never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.consent.model import DEFAULT_CATEGORIES
from gateway.errors import ClientError
from gateway.rules.loader import load_rules
from gateway.tracking.bodies import MAX_HITS_PER_BODY, hits_in_body
from tests.conftest import REPO

RULES = load_rules(REPO / "tag_rules", categories=DEFAULT_CATEGORIES)
TAKING = sorted(r for r in RULES if RULES[r].hit.mode != "block")
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
BODIES = (
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | JSONISH.map(lambda value: json.dumps(value).encode())
    | st.lists(st.text(max_size=40), max_size=6).map(
        lambda requests: json.dumps({"requests": requests}).encode()
    )
)


@pytest.mark.parametrize("vendor", TAKING)
@settings(max_examples=80, deadline=None)
@given(body=BODIES)
def test_any_body_gives_hits_or_a_client_error(vendor: str, body: bytes) -> None:
    hit = RULES[vendor].hit
    refused: ClientError | None = None
    try:
        hits = hits_in_body(hit, [("v", "2")], body)
    except ClientError as error:
        refused = error
    if refused is not None:
        assert 400 <= refused.status < 500
        assert getattr(refused, "reason", "")  # counted under a stable code
        return
    assert 1 <= len(hits) <= MAX_HITS_PER_BODY
    for params in hits:
        assert params[0] == ("v", "2")  # every hit carries the request's query
        if body.decode().strip():  # a body of (Unicode) whitespace only is an empty body
            assert any(hit.keeps_param(name, anonymous=False) for name, _ in params[1:])
