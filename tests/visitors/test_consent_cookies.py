"""The `cg_consent` values of Cookie headers, read with `str.find` (no regular expression): the
cases where a scan by hand can go wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.visitors.headers import consent_cookies, presented_tokens, read_decision_headers


@pytest.mark.parametrize(
    ("headers", "values"),
    [
        (["cg_consent=abc"], ("abc",)),
        (["a=1; cg_consent=abc; b=2"], ("abc",)),
        (["a=1;cg_consent=abc"], ("abc",)),
        (["a=1;\tcg_consent= abc \t"], ("abc",)),
        (['cg_consent="abc"'], ("abc",)),
        (['cg_consent="'], ('"',)),  # one quote is not a quoted value
        (["xcg_consent=no"], ()),
        (["xcg_consent=no; cg_consent=yes"], ("yes",)),
        (["cg_consent="], ()),
        (["cg_consent=;cg_consent=b"], ("b",)),
        (["cg_consent=a; cg_consent=b; cg_consent=a"], ("a", "b")),
        (["cg_consent=a", "cg_consent=b"], ("a", "b")),
        # A name inside a value is part of that value, never a cookie of its own.
        (["cg_consent=cg_consent=\tcg_consent=x"], ("cg_consent=\tcg_consent=x",)),
        (["cg_consent=v cg_consent=w; z=1"], ("v cg_consent=w",)),
        (["cg_consent"], ()),
        ([""], ()),
    ],
)
def test_consent_cookie_values(headers: list[str], values: tuple[str, ...]) -> None:
    assert consent_cookies(headers) == values


_HEADER_NAMES = st.sampled_from(
    [b"cookie", b"authorization", b"user-agent", b"x-forwarded-for", b"sec-gpc", b"accept"]
)
_HEADER_VALUES = st.sampled_from(
    [
        b"cg_consent=a",
        b"x=1; cg_consent=b",
        b"cg_consent=a; cg_consent=c",
        b"Consent app-token",
        b"Bearer other",
        b"Consent ",
        b"",
        b"1",
    ]
)


@given(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=6))
def test_get_consent_reads_the_tokens_a_decision_reads(raw: list[tuple[bytes, bytes]]) -> None:
    """`GET /consent` reads only two headers; it reads them as every decision does, whatever
    else is sent and however often."""
    assert presented_tokens(raw) == read_decision_headers(raw, None).consent_tokens
