"""The facts of an HTTP request that receipts and decisions may use (`RequestFacts`)."""

from __future__ import annotations

import re

from starlette.requests import Request

from gateway.model.visitors import RequestFacts
from gateway.settings import NetworkSection
from gateway.visitors.agents import classify_visitor
from gateway.visitors.headers import geo_header_name, read_decision_headers
from gateway.visitors.network import client_ip

_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def request_facts(request: Request, network: NetworkSection) -> RequestFacts:
    """Read with the decisions' own header reader: a repeated header means the same here."""
    read = read_decision_headers(request.scope["headers"], geo_header_name(network.geo_header))
    peer = request.client.host if request.client else None
    region = read.region.upper()
    return RequestFacts(
        ip=client_ip(peer, read.forwarded_for, network.trusted_proxies),
        visitor=classify_visitor(read.user_agent or None),
        region=region if _REGION.fullmatch(region) else "",
        origin=request.headers.get("origin", "")[:200],
        gpc=read.gpc,
    )
