"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import StoreUnavailable
from gateway.runtime import gateway_of

_NO_STORE = {"Cache-Control": "no-store"}
WRITE_CHECK_SECONDS = 1.0  # at most: readiness must answer before a load balancer gives up


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: Request) -> Response:
    gateway = gateway_of(request)
    body = {
        "instance": gateway.heartbeat.name,  # which process answered: host:pid
        "store": gateway.store.name,
        **gateway.instance_figures(),
        "delivery": gateway.delivery_report(),
    }
    if gateway.archive_mover is not None:  # its health and lag; down, it is not unready
        body["archive"] = await gateway.archive_mover.health(WRITE_CHECK_SECONDS)
    deadline = min(WRITE_CHECK_SECONDS, gateway.settings.store.timeout_seconds)
    try:
        await gateway.store.check_writable(deadline)  # reachable is not enough: writable
    except StoreUnavailable as error:
        return JSONResponse(
            {"status": "unavailable", "reason": str(error), **body},
            status_code=503,
            headers=_NO_STORE,
        )
    return JSONResponse({"status": "ready", **body}, headers=_NO_STORE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
