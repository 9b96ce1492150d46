"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope

from gateway.endpoints.answers import Answer, json_answer
from gateway.endpoints.hot import HotRoute
from gateway.errors import StoreUnavailable
from gateway.instances import InstanceHeartbeat
from gateway.process_figures import ProcessFigures
from gateway.store import Store
from gateway.store.archive.mover import ArchiveMover

_NO_STORE = {"Cache-Control": "no-store"}
WRITE_CHECK_SECONDS = 1.0  # at most: readiness must answer before a load balancer gives up


async def _healthz(scope: Scope, receive: Receive, rest: str) -> Answer:
    return _HEALTHY


_HEALTHY = json_answer(200, {"status": "ok"}, _NO_STORE)
# Liveness: the process answers. A hot route (pure ASGI): probes come every second or so.
HEALTHZ = HotRoute("/healthz", _healthz)


def readiness_route(
    heartbeat: InstanceHeartbeat,
    store: Store,
    figures: ProcessFigures,
    store_timeout_seconds: float,
    archive_mover: ArchiveMover | None,
) -> Route:
    """`GET /readyz`, given what it reads: this process's name and figures, and the store."""
    deadline = min(WRITE_CHECK_SECONDS, store_timeout_seconds)

    async def readyz(request: Request) -> Response:
        body = {
            "instance": heartbeat.name,  # which process answered: host:pid
            "store": store.name,
            **figures.of_instance(),
            "delivery": figures.delivery_report(),
        }
        if archive_mover is not None:  # its health and lag; down, it is not unready
            body["archive"] = await archive_mover.health(WRITE_CHECK_SECONDS)
        try:
            await store.check_writable(deadline)  # reachable is not enough: writable
        except StoreUnavailable as error:
            return JSONResponse(
                {"status": "unavailable", "reason": str(error), **body},
                status_code=503,
                headers=_NO_STORE,
            )
        return JSONResponse({"status": "ready", **body}, headers=_NO_STORE)

    return Route("/readyz", readyz, methods=["GET"])
