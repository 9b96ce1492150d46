"""The `cg_consent` values of Cookie headers, read with `str.find` (no regular expression): the
cases where a scan by hand can go wrong."""

from __future__ import annotations

import pytest

from gateway.visitors.headers import consent_cookies


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
