"""The facts of an HTTP request that receipts and decisions may use (`RequestFacts`)."""

from __future__ import annotations

import re

from starlette.requests import Request

from gateway.settings_parts import NetworkPart
from gateway.visitors.agents import classify_visitor
from gateway.visitors.network import client_ip
from gateway.visitors.request import RequestFacts

_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def request_facts(request: Request, network: NetworkPart) -> RequestFacts:
    headers = request.headers
    peer = request.client.host if request.client else None
    region = ""
    if network.geo_header:
        candidate = headers.get(network.geo_header, "").strip().upper()
        region = candidate if _REGION.fullmatch(candidate) else ""
    return RequestFacts(
        ip=client_ip(peer, headers.get("x-forwarded-for"), network.trusted_proxies),
        visitor=classify_visitor(headers.get("user-agent")),
        region=region,
        origin=headers.get("origin", "")[:200],
        gpc=headers.get("sec-gpc", "").strip() == "1",
    )
