"""Machine or person: the verdict on one open or click, `human | proxied | machine`.

Two stages. On the request, `first_verdict` looks at what that request alone shows: who is
asking (`classify_visitor` role) and how soon after sending. A few seconds later, once the
message's neighbouring clicks are known, `ClickTimes.discounts` turns a click into a
machine's when it sits in a burst (three different links of one message within a second —
nobody reads that fast, scanners do) or near a click on the hidden honeypot link.

    >>> first_verdict("open", "image_proxy", seconds_after_send=3600, min_click_seconds=10)
    'proxied'
    >>> first_verdict("click", "browser", seconds_after_send=2, min_click_seconds=10)
    'machine'
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from typing import Final

from gateway.email.tokens import HONEYPOT_LINK
from gateway.model.email_events import EventKind, Verdict
from gateway.model.visitors import AgentRole
from gateway.visitors.agents import classify_visitor

BURST_SECONDS: Final = 1.0
BURST_LINKS: Final = 3
HONEYPOT_SECONDS: Final = 10.0
PERSON_ROLES: Final = frozenset({"browser", "mail_client"})
# Office's own HTTP stack (`ms-office`, `MSOffice 16`): Outlook fetching a message's images as
# it is opened, but on a link the pre-fetcher / link probe — the person's click arrives from
# their browser, never in Office's name.
_OFFICE_AGENT: Final = re.compile(r"ms-office|msoffice", re.IGNORECASE)
_PREFETCH_HEADERS: Final = frozenset({b"sec-purpose", b"purpose", b"x-purpose", b"x-moz"})
MessageKey = tuple[str, str, int]  # campaign, subject, send time


def agent_role(kind: EventKind, agent: str) -> AgentRole:
    """Who is asking, for an open or a click: the agent's role, except that Office asking
    for a link is a link scanner (see `_OFFICE_AGENT`).

    >>> agent_role("click", "Mozilla/4.0 (compatible; ms-office; MSOffice 16)")
    'link_scanner'
    >>> agent_role("open", "Mozilla/4.0 (compatible; ms-office; MSOffice 16)")
    'mail_client'
    """
    role = classify_visitor(agent).role
    if kind == "click" and role == "mail_client" and _OFFICE_AGENT.search(agent):
        return "link_scanner"
    return role


def first_verdict(
    kind: EventKind, role: AgentRole, *, seconds_after_send: float, min_click_seconds: float
) -> Verdict:
    """What one request shows. An image proxy (Gmail, Yahoo, Apple Mail Privacy Protection)
    fetches the pixel for a person's mailbox: `proxied`, kept apart rather than discarded.
    Link scanners, HTTP libraries, headless browsers, crawlers and unknown agents: `machine`."""
    if role == "image_proxy":
        return "proxied" if kind == "open" else "machine"
    if role not in PERSON_ROLES:
        return "machine"
    if kind == "click" and seconds_after_send < min_click_seconds:
        return "machine"  # security gateways follow links as the message is delivered
    return "human"


def agent_and_prefetch(raw_headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, bool]:
    """The user agent, and whether this is a speculative fetch (`Sec-Purpose: prefetch`,
    `Purpose: prefetch`, `X-Moz: prefetch`, `X-Purpose: preview`) — redirected like any click,
    never counted as one. One pass over the ASGI headers (names arrive lower-cased): on the hot
    path, five `Headers.get` scans cost more than the rest of the check."""
    agent, prefetch = "", False
    for name, value in raw_headers:
        if name == b"user-agent":
            agent = value.decode("latin-1")
        elif name in _PREFETCH_HEADERS:
            lowered = value.lower()
            prefetch = prefetch or b"prefetch" in lowered or b"preview" in lowered
    return agent, prefetch


def discounted(clicks: Iterable[tuple[float, int]], at: float) -> bool:
    """True if a click at `at`, among a message's `clicks` (time, link), is in a burst of
    several links or near a honeypot click.

    >>> discounted([(100.0, 1), (100.4, 2), (100.7, 3)], at=100.4)
    True
    >>> discounted([(100.0, 1), (160.0, 2)], at=160.0)
    False
    """
    return ClickTimes(clicks).discounts(at)


class ClickTimes:
    """A message's clicks as sorted times per link: each `discounts` check costs
    O(links × log clicks), not O(clicks) — a link clicked thousands of times (a scanner, a
    load test) must not make settling its clicks quadratic and stall the event loop."""

    def __init__(self, clicks: Iterable[tuple[float, int]]) -> None:
        by_link: dict[int, list[float]] = {}
        for when, link in clicks:
            by_link.setdefault(link, []).append(when)
        for times in by_link.values():
            times.sort()
        self._by_link = by_link

    def discounts(self, at: float) -> bool:
        near = sum(_any_within(times, at, BURST_SECONDS) for times in self._by_link.values())
        if near >= BURST_LINKS:
            return True
        honeypot = self._by_link.get(HONEYPOT_LINK)
        return honeypot is not None and _any_within(honeypot, at, HONEYPOT_SECONDS)


def _any_within(times: list[float], at: float, seconds: float) -> bool:
    first = bisect_left(times, at - seconds)
    return first < len(times) and times[first] <= at + seconds
