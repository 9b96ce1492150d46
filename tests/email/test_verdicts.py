"""Machine or person, one request at a time and then by a message's neighbouring clicks."""

from __future__ import annotations

import pytest

from gateway.email.verdicts import agent_and_prefetch, agent_role, discounted, first_verdict
from gateway.visitors.agents import classify_visitor

GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
APPLE_MPP = "Mozilla/5.0"
APPLE_MAIL = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
OUTLOOK = (
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E;"
    " Microsoft Outlook 16.0.4266; ms-office; MSOffice 16)"
)
OUTLOOK_PROBE = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
NEW_OUTLOOK = (  # the new Outlook for Windows is Edge: its clicks are the person's
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"
)
SAFE_LINKS = "Mozilla/5.0 (compatible; Microsoft Office 365 ATP Safe Links)"
PROOFPOINT = "Proofpoint URL Defense/1.0"
BARRACUDA = "Barracuda Sentinel (EE)"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
CURL = "curl/8.5.0"
PYTHON = "python-requests/2.31.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LATER = 3600.0


@pytest.mark.parametrize(
    ("agent", "open_verdict", "click_verdict"),
    [
        (GMAIL_PROXY, "proxied", "machine"),
        (APPLE_MPP, "proxied", "machine"),
        (APPLE_MAIL, "human", "human"),
        # Outlook fetches images as the person opens the message, but a request in its own
        # name for a link is its pre-fetcher / Office link probe: the person's click arrives
        # from their browser.
        (OUTLOOK, "human", "machine"),
        (OUTLOOK_PROBE, "human", "machine"),
        (NEW_OUTLOOK, "human", "human"),
        (FIREFOX, "human", "human"),
        (SAFE_LINKS, "machine", "machine"),
        (PROOFPOINT, "machine", "machine"),
        (BARRACUDA, "machine", "machine"),
        (HEADLESS, "machine", "machine"),
        (CURL, "machine", "machine"),
        (PYTHON, "machine", "machine"),
        (GOOGLEBOT, "machine", "machine"),
        ("", "machine", "machine"),
    ],
)
def test_first_verdict_by_agent(agent: str, open_verdict: str, click_verdict: str) -> None:
    assert (
        first_verdict(
            "open", agent_role("open", agent), seconds_after_send=LATER, min_click_seconds=10
        )
        == open_verdict
    )
    assert (
        first_verdict(
            "click", agent_role("click", agent), seconds_after_send=LATER, min_click_seconds=10
        )
        == click_verdict
    )


@pytest.mark.parametrize(("seconds", "verdict"), [(0, "machine"), (9.9, "machine"), (10, "human")])
def test_a_click_seconds_after_sending_is_a_machine(seconds: float, verdict: str) -> None:
    role = classify_visitor(FIREFOX).role
    assert first_verdict("click", role, seconds_after_send=seconds, min_click_seconds=10) == verdict
    assert first_verdict("open", role, seconds_after_send=seconds, min_click_seconds=10) == "human"


@pytest.mark.parametrize(
    ("headers", "prefetch"),
    [
        ({}, False),
        ({"sec-purpose": "prefetch"}, True),
        ({"sec-purpose": "prefetch;prerender"}, True),
        ({"purpose": "prefetch"}, True),
        ({"x-moz": "prefetch"}, True),
        ({"x-purpose": "preview"}, True),
        ({"sec-purpose": ""}, False),
        ({"accept": "text/html"}, False),
    ],
)
def test_prefetches_are_recognised(headers: dict[str, str], prefetch: bool) -> None:
    raw = [
        (b"user-agent", FIREFOX.encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    assert agent_and_prefetch(raw) == (FIREFOX, prefetch)
    assert agent_and_prefetch([]) == ("", False)


def test_three_links_within_a_second_are_a_burst() -> None:
    clicks = [(100.0, 1), (100.3, 2), (100.6, 3)]
    assert discounted(clicks, 100.3)
    assert not discounted(clicks[:2], 100.3)


def test_a_person_clicking_two_links_or_one_link_twice_is_no_burst() -> None:
    clicks = [(100.0, 1), (100.2, 1), (100.4, 2), (100.6, 1)]
    assert not discounted(clicks, 100.4)
    clicks += [(200.0, 1), (201.5, 2), (203.0, 3)]  # three links, seconds apart
    assert not discounted(clicks, 201.5)


def test_a_honeypot_click_discounts_the_clicks_around_it_only() -> None:
    clicks = [(100.0, 2), (104.0, 0), (500.0, 2)]  # the honeypot at 104; a person minutes later
    assert discounted(clicks, 100.0)
    assert not discounted(clicks, 500.0)
