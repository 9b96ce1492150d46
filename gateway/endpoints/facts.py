"""The facts of an HTTP request that receipts and decisions may use (`RequestFacts`)."""

from __future__ import annotations

import re
from functools import lru_cache

from starlette.requests import Request
from starlette.types import Scope

from gateway.model.addresses import IPAddress
from gateway.model.visitors import RequestFacts
from gateway.settings import NetworkSection
from gateway.settings.values import Network
from gateway.visitors.agents import classify_visitor
from gateway.visitors.headers import DecisionHeaders, geo_header_name, read_decision_headers
from gateway.visitors.network import client_ip

_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
IP_CACHE_SIZE = 4096  # (peer, X-Forwarded-For) pairs: at most ~1 MB with the length cap below
_CACHED_FORWARDED_LENGTH = 128


def request_facts(request: Request, network: NetworkSection) -> RequestFacts:
    return scope_facts(request.scope, network)


def scope_facts(
    scope: Scope, network: NetworkSection, read: DecisionHeaders | None = None
) -> RequestFacts:
    """Read with the decisions' own header reader (or from what it read: `read`, made with the
    network's geo header): a repeated header means the same here."""
    if read is None:
        read = read_decision_headers(scope["headers"], geo_header_name(network.geo_header))
    client = scope.get("client")
    region = read.region.upper()
    return RequestFacts(
        ip=_client_ip(client[0] if client else None, read.forwarded_for, network.trusted_proxies),
        visitor=classify_visitor(read.user_agent or None),
        region=region if _REGION.fullmatch(region) else "",
        origin=_first(scope["headers"], b"origin")[:200],
        gpc=read.gpc,
    )


@lru_cache(maxsize=IP_CACHE_SIZE)
def _known_client_ip(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> IPAddress | None:
    return client_ip(peer, forwarded_for, trusted)


def _client_ip(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> IPAddress | None:
    """`client_ip`, kept for the addresses seen last (parsing one costs more than the rest of
    the facts); a long `X-Forwarded-For` is not kept."""
    if forwarded_for is not None and len(forwarded_for) > _CACHED_FORWARDED_LENGTH:
        return client_ip(peer, forwarded_for, trusted)
    return _known_client_ip(peer, forwarded_for, trusted)


def _first(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """The first `name` header's value, as Starlette's `Headers.get` reads it, or ""."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""
