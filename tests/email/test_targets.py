"""Click targets are checked and normalised when signed: the open-redirect defence starts here."""

from __future__ import annotations

import pytest

from gateway.email.targets import checked_target, is_redirectable
from gateway.errors import Unprocessable
from gateway.model.link_limits import MAX_TARGET_LENGTH


@pytest.mark.parametrize(
    ("given", "signed"),
    [
        ("https://www.example.com/", "https://www.example.com/"),
        ("https://www.example.com", "https://www.example.com"),
        ("HTTPS://WWW.Example.COM/Path?Q=1#Top", "https://www.example.com/Path?Q=1#Top"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/a%20b?x=%2F", "https://example.com/a%20b?x=%2F"),  # not twice
        (
            "https://example.com/весна?q=да",
            "https://example.com/%D0%B2%D0%B5%D1%81%D0%BD%D0%B0?q=%D0%B4%D0%B0",
        ),
        ("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/"),
        ("https://exаmple.com/", "https://xn--exmple-4nf.com/"),  # Cyrillic 'а': shown as it is
        ("https://example.com./", "https://example.com/"),
        ("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"),
        ('https://example.com/"><script>', "https://example.com/%22%3E%3Cscript%3E"),
        ("https://example.com/?next=//evil.test", "https://example.com/?next=//evil.test"),
    ],
)
def test_good_targets_are_normalised(given: str, signed: str) -> None:
    assert checked_target(given) == signed
    assert checked_target(signed) == signed  # idempotent
    assert is_redirectable(signed)


@pytest.mark.parametrize(
    "given",
    [
        "",
        "//evil.test/",
        "/relative/path",
        "evil.test",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "ftp://example.com/",
        "https:/evil.test",
        "https:///evil.test",
        "https:\\\\evil.test",
        "https://example.com\\@evil.test",
        "https://example.com@evil.test/",
        "https://user:pass@example.com/",
        "https://example.com%2F@evil.test/",
        "https://evil.test%2Fexample.com/",
        "https://example.com/\r\nSet-Cookie: x=1",
        "https://example.com/%0d%0a\n",
        "java\tscript:alert(1)",
        "https://exa\tmple.com/",
        " https://example.com/",
        "https://example.com/ ",
        "https://example.com:99999/",
        "https://example.com:port/",
        "https://exam_ple.com/",
        "https://-example.com/",
        "https://[::1/",
        "https://example.com/" + "a" * MAX_TARGET_LENGTH,
        "https://\x00example.com/",
        "https://example.com/\x7f",
        "https://example.com/\udcff",
        "https:// /",
        "https://",
    ],
)
def test_unsafe_targets_are_refused(given: str) -> None:
    with pytest.raises(Unprocessable):
        checked_target(given)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("https://example.com/", True),
        ("https://www.example.com/", True),
        ("https://shop.eu.example.com/", True),
        ("https://example.com.evil.test/", False),
        ("https://notexample.com/", False),
        ("https://exаmple.com/", False),  # the look-alike never matches
        ("https://partner.test/", True),
        ("https://sub.partner.test/", True),
    ],
)
def test_the_allowlist_admits_listed_hosts_and_their_subdomains(host: str, allowed: bool) -> None:
    allowlist = ("example.com", "partner.test")
    if allowed:
        assert checked_target(host, allowlist)
    else:
        with pytest.raises(Unprocessable, match="not in the allowed target hosts"):
            checked_target(host, allowlist)


@pytest.mark.parametrize(
    "target",
    ["javascript:alert(1)", "//evil.test", "https://a.test/\r\nX: y", "https://a.test/\\", ""],
)
def test_the_last_check_before_location_refuses_what_signing_would(target: str) -> None:
    assert not is_redirectable(target)
