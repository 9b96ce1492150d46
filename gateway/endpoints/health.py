"""Liveness and readiness for orchestrators and load balancers."""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import UnsetType
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from gateway.bodies.answers import Health, Readiness
from gateway.endpoints.answers import Answer, struct_answer
from gateway.endpoints.bodies import struct_response
from gateway.endpoints.hot import HotRoute
from gateway.errors import StoreUnavailable
from gateway.instances import InstanceHeartbeat
from gateway.process_figures import ProcessFigures
from gateway.store import Store
from gateway.store.archive.mover import ArchiveMover

_NO_STORE = {"Cache-Control": "no-store"}
WRITE_CHECK_SECONDS = 1.0  # at most: readiness must answer before a load balancer gives up


def _healthz(scope: Scope, rest: str) -> Answer:
    return _HEALTHY


_HEALTHY = struct_answer(200, Health("ok"), _NO_STORE)
# Liveness: the process answers. A hot route (pure ASGI): probes come every second or so.
HEALTHZ = HotRoute.at_once("/healthz", _healthz)


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
        archive: dict[str, object] | UnsetType = msgspec.UNSET
        if archive_mover is not None:  # its health and lag; down, it is not unready
            archive = await archive_mover.health(WRITE_CHECK_SECONDS)
        try:
            await store.check_writable(deadline)  # reachable is not enough: writable
        except StoreUnavailable as error:
            unready = readiness("unavailable", str(error), archive)
            return struct_response(unready, 503, headers=_NO_STORE)
        return struct_response(readiness("ready", msgspec.UNSET, archive), headers=_NO_STORE)

    def readiness(
        status: Literal["ready", "unavailable"],
        reason: str | UnsetType,
        archive: dict[str, object] | UnsetType,
    ) -> Readiness:
        return Readiness(
            status=status,
            reason=reason,
            instance=heartbeat.name,  # which process answered: host:pid
            store=store.name,
            spool_depth=figures.spool_depth(),
            forwarder=figures.delivery_totals(),
            counts_lost=figures.counter.lost,
            email_events_dropped=figures.email_recorder.dropped,
            opt_in_mails=figures.opt_in_mails(),
            delivery=figures.delivery_report(),
            archive=archive,
        )

    return Route("/readyz", readyz, methods=["GET"])
