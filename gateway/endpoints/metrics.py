"""`/metrics` for Prometheus, answered only to internal (non-public) addresses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import Forbidden
from gateway.metrics import CONTENT_TYPE
from gateway.runtime import gateway_of
from gateway.visitors.network import parse_ip


async def metrics(request: Request) -> Response:
    gateway = gateway_of(request)
    peer = parse_ip(request.client.host if request.client else None)
    if peer is None or peer.is_global:
        raise Forbidden("metrics are served to internal addresses only")
    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics, methods=["GET"])]
