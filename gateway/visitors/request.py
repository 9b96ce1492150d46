"""What the gateway may know of a request's sender: summaries only, never raw identifiers.

The endpoints make these from an HTTP request (`gateway.endpoints.facts.request_facts`);
everything below them takes the facts, not the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.visitors.agents import Visitor
from gateway.visitors.network import IPAddress, truncate_ip


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
