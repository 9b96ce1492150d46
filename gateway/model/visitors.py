"""What the gateway may know of a request's sender: summaries only, never raw identifiers.

`Visitor` is what a user agent says (`gateway.visitors.agents.classify_visitor` reads it);
`RequestFacts` is what a request says. The endpoints make these from an HTTP request
(`gateway.endpoints.facts.request_facts`); everything below them takes the facts, not the
request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.model.addresses import IPAddress, truncate_ip

AgentRole = Literal[
    "browser",
    "app",
    "mail_client",
    "image_proxy",
    "link_scanner",
    "crawler",
    "http_library",
    "headless",
    "unknown",
]
DeviceKind = Literal["desktop", "mobile", "tablet", "bot", "other"]


@dataclass(frozen=True, slots=True)
class Visitor:
    """What a user agent says about who is asking.

    `is_bot` is True for every machine that acts on its own account. An image
    proxy (Gmail's GoogleImageProxy) is not a bot, because it fetches for a
    person who opened a message, but it is not that person's device either.
    """

    is_bot: bool
    role: AgentRole
    browser: str
    os: str
    device: DeviceKind


@dataclass(frozen=True, slots=True)
class RequestFacts:
    ip: IPAddress | None  # kept in memory for the request only; stored truncated
    visitor: Visitor
    region: str  # ISO country (and subdivision) from the configured geo header, or ""
    origin: str  # the page's origin, from the Origin header, or ""
    gpc: bool  # Sec-GPC: 1

    @property
    def truncated_ip(self) -> str:
        return truncate_ip(self.ip)


# An API call speaks for a person elsewhere (a signup form, an ESP, a DPO): its own IP and agent
# say nothing about that person, so the receipt does not carry them.
NO_FACTS = RequestFacts(
    ip=None,
    visitor=Visitor(is_bot=False, role="unknown", browser="", os="", device="other"),
    region="",
    origin="",
    gpc=False,
)
