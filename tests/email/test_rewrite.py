"""rewrite-email changes the href values it wraps, adds the pixel and honeypot, fills the
preferences placeholder — and leaves every other byte as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.email.links import EmailSigner, MessageLinks
from gateway.email.rewrite import EmailTemplate
from gateway.email.tokens import HONEYPOT_LINK

SAMPLE = Path(__file__).with_name("samples") / "newsletter.html"
SIGNER = EmailSigner(("k" * 40,), "http://gw.test")
CLICK_URL = re.compile(rb"http://gw\.test/c/[A-Za-z0-9._-]+")


def message(recipient: str = "esp-42") -> MessageLinks:
    return SIGNER.message(campaign="spring-26", recipient=recipient, sent_at=1_767_225_600)


def rewrite(document: bytes, recipient: str = "esp-42") -> tuple[bytes, MessageLinks]:
    links = message(recipient)
    return EmailTemplate.parse(document, SIGNER).render(links), links


def clicks_in(output: bytes) -> list[tuple[int, str]]:
    found = []
    for url in CLICK_URL.findall(output):
        click = SIGNER.tokens.read_click(url.decode().rsplit("/", 1)[1])
        assert click is not None
        found.append((click.link, click.target))
    return found


def snippet(links: MessageLinks) -> bytes:
    return (
        f'<a href="{links.honeypot_url()}" style="display:none;font-size:0;line-height:0;'
        'max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true" tabindex="-1"></a>'
        f'<img src="{links.open_url}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    ).encode()


def expected(original: bytes, hrefs: list[bytes], output: bytes, links: MessageLinks) -> bytes:
    """The original with exactly the promised changes, made here independently."""
    urls = CLICK_URL.findall(output)
    honeypot = links.honeypot_url().encode()
    urls = [url for url in urls if url != honeypot]
    assert len(urls) == len(hrefs)
    result, position = original, 0
    for href, url in zip(hrefs, urls, strict=True):
        at = result.index(href, position)
        result = result[:at] + url + result[at + len(href) :]
        position = at + len(url)
    prefs = links.preferences_url.encode()
    result = re.sub(rb"\{\{\s*preferences_url\s*\}\}", prefs, result)
    body_end = result.rindex(b"</BODY>")
    return result[:body_end] + snippet(links) + result[body_end:]


def test_a_realistic_email_changes_only_where_promised() -> None:
    original = SAMPLE.read_bytes()
    output, links = rewrite(original)
    hrefs = [
        b"https://www.example.com/?utm_source=newsletter&amp;utm_medium=email",
        b"https://www.example.com/blog/spring-2026?ref=email&amp;lang=en",
        "https://www.example.com/ru/весна".encode(),
        b"https://www.example.com/offers?c=spring",  # the Outlook VML button
        b"https://www.example.com/offers?c=spring",  # its twin for every other client
    ]
    assert output == expected(original, hrefs, output, links)
    assert clicks_in(output) == [
        (1, "https://www.example.com/?utm_source=newsletter&utm_medium=email"),
        (2, "https://www.example.com/blog/spring-2026?ref=email&lang=en"),
        (3, "https://www.example.com/ru/%D0%B2%D0%B5%D1%81%D0%BD%D0%B0"),
        (4, "https://www.example.com/offers?c=spring"),  # the VML button and its twin:
        (4, "https://www.example.com/offers?c=spring"),  # one link, one number
        (HONEYPOT_LINK, links.preferences_url),
    ]
    # untouched: comments, CSS, mailto/tel/#, data-no-track, ESP merge tags
    for kept in (
        b'<!-- Preheader: <a href="https://example.com/in-a-comment">not a link</a> -->',
        b'/* <a href="https://not-a-link.example/in-css">never touched</a> */',
        b'<a href="mailto:hello@example.com">',
        b'<a href="tel:+441234567890">',
        b'<a href="#offers">',
        b'<a data-no-track href="https://www.example.com/legal/privacy">',
        b'<a href="https://www.example.com/account?id=*|UNIQID|*">',
        b'<IMG SRC="https://cdn.example.com/logo.png" ALT="Northwind" WIDTH=120>',
    ):
        assert kept in output
    assert b"{{" not in output


def test_what_was_left_alone_and_why_is_reported() -> None:
    template = EmailTemplate.parse(SAMPLE.read_bytes(), SIGNER)
    assert template.links == 4  # the VML button and its <a> twin are one link
    assert [(s.line, s.href, s.reason) for s in template.skipped] == [
        (50, "https://www.example.com/account?id=*|UNIQID|*", "holds a template placeholder")
    ]


def test_each_recipient_gets_their_own_links_from_one_parse() -> None:
    template = EmailTemplate.parse(SAMPLE.read_bytes(), SIGNER)
    first, second = template.render(message("esp-1")), template.render(message("esp-2"))
    assert first != second
    tokens = [
        SIGNER.tokens.read_click(url.decode().rsplit("/", 1)[1])
        for url in CLICK_URL.findall(second)
    ]
    assert {token.subject for token in tokens if token is not None} == {"esp-2"}
    assert None not in tokens


def test_crlf_windows_1251_and_stray_bytes_survive() -> None:
    text = (
        '<html><head><meta charset="windows-1251"></head>\r\n'
        '<body>\r\n<p>Привет!</p>\r\n<a href="https://example.com/весна">Весна</a>\r\n'
        "</body></html>\r\n"
    )
    original = text.encode("cp1251") + b"\x98\xff"  # bytes cp1251 leaves undefined, kept as is
    output, links = rewrite(original)
    href = "https://example.com/весна".encode("cp1251")
    assert clicks_in(output)[0] == (1, "https://example.com/%D0%B2%D0%B5%D1%81%D0%BD%D0%B0")
    url = CLICK_URL.findall(output)[0]
    rebuilt = original.replace(href, url).replace(b"</body>", snippet(links) + b"</body>")
    assert output == rebuilt


@pytest.mark.parametrize(
    ("markup", "wrapped"),
    [
        ('<a href="https://x.test/a">', True),
        ("<a href='https://x.test/a'>", True),
        ("<a href=https://x.test/a>", True),
        ('<A\n  HREF = "https://x.test/a"\n>', True),
        ('<a title="1 > 0" href="https://x.test/a">', True),
        ('<area shape="rect" coords="0,0,1,1" href="https://x.test/a">', True),
        ('<a href="  https://x.test/a  ">', True),
        ('<a href="https://x.test/a" data-no-track>', False),
        ('<a href="javascript:alert(1)">', False),
        ('<a href="HTTPS://user@x.test/">', False),
        ('<a href="/relative">', False),
        ('<a href="http://gw.test/p/abc">', False),
        ('<a name="top">', False),
        ("<a href>", False),
        ('<link rel="stylesheet" href="https://x.test/a.css">', False),
        ('<base href="https://x.test/">', False),
        ('<textarea><a href="https://x.test/a"></textarea>', False),
        ('<script>var s = "<a href=\\"https://x.test/a\\">";</script>', False),
        ('<!-- <a href="https://x.test/a"> -->', False),
        ('<!--[if mso]><a href="https://x.test/a">Outlook</a><![endif]-->', True),
    ],
)
def test_which_links_are_wrapped(markup: str, wrapped: bool) -> None:
    document = f"<body>{markup}</body>".encode()
    output, _ = rewrite(document)
    assert (len(CLICK_URL.findall(output)) == 2) is wrapped  # plus the honeypot
    if not wrapped:
        assert markup.encode() in output


@pytest.mark.parametrize(
    "href",
    [
        "https://x.test/u?e={email}",
        "https://x.test/u?e={ email }",
        "https://x.test/u?e=${email}",
        "https://x.test/u?e=${contact.email}",
        "https://x.test/{first_name}/offers",
        "https://x.test/u?e=%7Bemail%7D",
        "https://x.test/u?e=$%7Bemail%7D",
        "https://x.test/u?e={{email}}",
    ],
)
def test_single_brace_and_dollar_merge_tags_are_left_for_the_esp(href: str) -> None:
    markup = f'<a href="{href}">x</a>'.encode()
    output, _ = rewrite(b"<body>" + markup + b"</body>")
    assert markup in output  # not frozen into a signed target
    reasons = {s.reason for s in EmailTemplate.parse(markup, SIGNER).skipped}
    assert reasons == {"holds a template placeholder"}


@pytest.mark.parametrize(
    "href", ["https://x.test/a?q=%7Bnot", "https://x.test/a#{", "https://x.test/$5"]
)
def test_braces_that_are_no_merge_tag_are_still_wrapped(href: str) -> None:
    output, _ = rewrite(f'<body><a href="{href}">x</a></body>'.encode())
    assert len(CLICK_URL.findall(output)) == 2  # the link and the honeypot


VML_BUTTON = (
    '<!--[if mso]><v:roundrect href="{vml}" arcsize="10%"><center>Go</center></v:roundrect>'
    '<![endif]--><!--[if !mso]><!-- --><a href="{html}">Go</a><!--<![endif]-->'
)


@pytest.mark.parametrize(
    ("vml", "html", "numbers"),
    [
        ("https://x.test/a", "https://x.test/a", [1, 1]),  # twins: one number
        ("https://x.test/a", "https://x.test/b", [1, 2]),  # different targets: two links
    ],
)
def test_a_vml_button_and_its_twin_share_one_link_number(
    vml: str, html: str, numbers: list[int]
) -> None:
    document = ("<body>" + VML_BUTTON.format(vml=vml, html=html) + "</body>").encode()
    output, _ = rewrite(document)
    assert [link for link, _ in clicks_in(output)[:2]] == numbers


def test_two_plain_links_to_one_target_keep_their_own_numbers() -> None:
    output, _ = rewrite(b'<body><a href="https://x.test/a">1</a><a href="https://x.test/a">2</a>')
    assert [link for link, _ in clicks_in(output)[:2]] == [1, 2]


def test_entities_in_a_wrapped_href_are_decoded_before_signing() -> None:
    output, _ = rewrite(b'<a href="https://x.test/?a=1&amp;b=&#50;&#x33;">x</a>')
    assert clicks_in(output)[0] == (1, "https://x.test/?a=1&b=23")


def test_no_body_end_tag_means_the_pixel_goes_at_the_end() -> None:
    output, links = rewrite(b"<p>Hello</p>")
    assert output == b"<p>Hello</p>" + snippet(links)


@pytest.mark.parametrize(
    "broken",
    [b"<!-- never closed", b"<a href='https://x.test/", b"<script>never closed", b"<", b"<!"],
)
def test_broken_markup_does_not_stop_the_rewrite(broken: bytes) -> None:
    output, links = rewrite(broken)
    assert output == broken + snippet(links)


FRAGMENTS = [
    "<a href=", "<A HREF='", '"', "'", "mailto:x@y.z", "#top", "<!--", "-->", "<!-->",
    "<!--[if mso]>", "<![endif]-->", "<script>", "</script>", "<style>", "<body>", "</BODY>",
    "</body >", "text", "&amp;", "\r\n", "<", ">", "=", " ", "é", "<v:roundrect href=", "{{",
    "<textarea>", "</textarea>", "<!DOCTYPE html>", "<?xml?>", "data-no-track",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.binary(max_size=4))
def test_any_document_without_web_links_only_gains_the_pixel(
    fragments: list[str], stray: bytes
) -> None:
    document = "".join(fragments).encode() + stray
    output, links = rewrite(document)
    text = document.decode("utf-8", "surrogateescape")
    ends = [m.start() for m in re.finditer(r"</body\s*>", text, re.IGNORECASE)]
    at = len(text[: ends[-1]].encode("utf-8", "surrogateescape")) if ends else len(document)
    assert output == document[:at] + snippet(links) + document[at:]
