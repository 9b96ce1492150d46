"""`safe_text`: any string a site can store comes out writable as UTF-8, XML 1.0 and a line."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.scrub import safe_text, scrubbed, without_credentials


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)))
def test_any_text_becomes_utf8_xml_and_json_safe(text: str) -> None:
    safe = safe_text(text)
    safe.encode("utf-8")  # strict: raises on a lone surrogate
    element = ElementTree.Element("case", name=safe)
    element.text = safe
    parsed = ElementTree.fromstring(ElementTree.tostring(element, encoding="unicode"))
    assert parsed.get("name") is not None
    assert json.loads(json.dumps(safe, ensure_ascii=False)) == safe
    assert "\x1b" not in safe


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:pass@host/p", "http://host/p"),
        (
            "see HTTPS://a:b@c@evil.example:8443/x and ftp://u@h/",
            "see HTTPS://evil.example:8443/x and ftp://h/",
        ),
        ("mailto:ann@example.com", "mailto:ann@example.com"),  # not a URL's user information
        ("https://host/path?next=a@b", "https://host/path?next=a@b"),  # '@' after the host
        ("tab\tnew\nline", "tab\tnew\nline"),
        ("\x7f\x85\ufffe", "\\x7f\\x85\\ufffe"),
        ("emoji 😀 stays", "emoji 😀 stays"),
    ],
)
def test_what_is_dropped_and_what_is_escaped(text: str, expected: str) -> None:
    assert safe_text(text) == expected


def test_scrubbed_reaches_into_containers_and_dataclasses() -> None:
    from gateway.audit.record import StorageRecord

    record = StorageRecord("localStorage", "k\ud800", "https://a:b@x.example", "", "")
    [clean] = scrubbed([record])
    assert (clean.key, clean.origin) == ("k\\ud800", "https://x.example")
    assert record.key == "k\ud800"  # a copy: what was recorded stays as it was, for judging


def test_credentials_out_of_the_start_url() -> None:
    assert without_credentials("https://host/") == ("https://host/", None)
    assert without_credentials("https://ann@host/") == ("https://host/", ("ann", ""))
