"""The application factory: `create_app(settings)` builds a gateway; nothing happens at import.

>>> from pathlib import Path
>>> from gateway.settings import from_keys
>>> app = create_app(from_keys(secret_keys=("s" * 32,), rules=Path(__file__).parents[1] / "tag_rules"))
>>> app.state.gateway.store.name  # built, not opened: the lifespan opens it
'sqlite'
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from gateway import openapi
from gateway.admin import admin_routes
from gateway.admin_auth import FailedAdminAttempts
from gateway.banner.routes import StaticAsset, banner_assets, banner_routes_for
from gateway.endpoints import api, consent, email, forms, health, metrics, subjects, tracking
from gateway.endpoints.hot import HotPaths
from gateway.endpoints.origin import OriginGuard, OriginRefusals
from gateway.endpoints.scripts import script_routes
from gateway.errors import ClientError, StoreUnavailable
from gateway.instrumentation import RequestInstrumentation
from gateway.logs import configure_logging
from gateway.runtime import Gateway
from gateway.settings import Settings, load_settings


class GatewayApp(Starlette):
    """Starlette, with the hot routes answered in front of its stack (`HotPaths`)."""

    hot_paths: HotPaths | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot_paths is None:
            await super().__call__(scope, receive, send)
        else:
            await self.hot_paths(scope, receive, send)

    def answer_hot_paths_first(self, gateway: Gateway, assets: Mapping[str, StaticAsset]) -> None:
        full_stack = super().__call__
        self.hot_paths = HotPaths(full_stack, gateway, assets)


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> GatewayApp:
    """A gateway for `settings`; raises `ConfigError` (one line) for a bad config or rule file.
    `clock` dates what the gateway records (tests pass their own)."""
    gateway = Gateway.build(settings, clock)
    assets = banner_assets(gateway.banner_config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = GatewayApp(
        routes=[  # the hot paths first: routes are matched in order
            *script_routes(gateway.rules),
            *tracking.routes,
            *email.routes,
            *banner_routes_for(gateway.banner_config, assets),
            *consent.routes,
            *forms.routes,
            *api.routes,
            *subjects.routes,
            *admin_routes(gateway),
            *health.routes,
            *metrics.routes,
            *openapi.routes,
        ],
        middleware=[
            Middleware(RequestInstrumentation, metrics=gateway.metrics),
            Middleware(
                OriginGuard,
                allowed_origins=settings.consent.allowed_origins,
                own_origin=settings.site.public_origin,
                paths=("/consent", "/t/"),
                refusals=OriginRefusals(on_refusal=gateway.metrics.origin_refusals.inc),
            ),
        ],
        exception_handlers={
            ClientError: client_error,
            HTTPException: http_error,
            StoreUnavailable: store_unavailable,
            # No `Exception` handler: an unexpected error has one path, RequestInstrumentation,
            # which logs it once with the request id and answers the JSON 500.
        },
        lifespan=lifespan,
    )
    _serve_trailing_slashes_in_place(app.router)
    app.answer_hot_paths_first(gateway, assets)
    app.state.gateway = gateway
    app.state.admin_attempts = FailedAdminAttempts(
        settings.network.trusted_proxies, store=gateway.store.shared
    )
    if settings.site.demo:
        from gateway.demo.routes import demo_routes  # only a demo gateway loads the demo

        app.router.routes.extend(demo_routes())
    return app


def _serve_trailing_slashes_in_place(router: Router) -> None:
    """Answer `/x/` as `/x` itself instead of Starlette's redirect, whose Location is built
    from the Host header (an open redirect behind a careless proxy); anything else stays 404."""
    not_found = router.default
    router.redirect_slashes = False

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] == "http" and path.endswith("/") and path.rstrip("/"):
            raw = scope.get("raw_path")
            stripped = {"path": path.rstrip("/")}
            if isinstance(raw, bytes):
                stripped["raw_path"] = raw.rstrip(b"/")
            await router.app({**scope, **stripped}, receive, send)
            return
        await not_found(scope, receive, send)

    router.default = default


def app_from_environment() -> Starlette:
    """The uvicorn factory used by `consent-gateway serve` workers (a worker process of
    `--workers N` starts with no log handler of its own)."""
    settings = load_settings()
    configure_logging(settings.site.log_level, settings.site.log_format)
    return create_app(settings)


async def client_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ClientError)
    return JSONResponse(_encodable(error.body()), status_code=error.status, headers=error.headers())


def _encodable(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD: an error message may quote what
    the client sent, and a surrogate would make the answer itself fail to encode."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    return value


async def http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse(
        {"error": code, "detail": error.detail},
        status_code=error.status_code,
        headers=error.headers,
    )


async def store_unavailable(request: Request, error: Exception) -> Response:
    return JSONResponse(
        {"error": "unavailable", "detail": "the store is unreachable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )
