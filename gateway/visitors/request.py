"""What the gateway may know of a request's sender: summaries only, never raw identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from gateway.settings import Settings
from gateway.visitors.agents import Visitor, classify_visitor
from gateway.visitors.network import IPAddress, client_ip, truncate_ip

_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


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


def request_facts(request: Request, settings: Settings) -> RequestFacts:
    headers = request.headers
    peer = request.client.host if request.client else None
    region = ""
    if settings.geo_header:
        candidate = headers.get(settings.geo_header, "").strip().upper()
        region = candidate if _REGION.fullmatch(candidate) else ""
    return RequestFacts(
        ip=client_ip(peer, headers.get("x-forwarded-for"), settings.trusted_proxies),
        visitor=classify_visitor(headers.get("user-agent")),
        region=region,
        origin=headers.get("origin", "")[:200],
        gpc=headers.get("sec-gpc", "").strip() == "1",
    )
