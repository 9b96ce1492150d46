"""The application factory: `create_app(settings)` builds a gateway and composes its routes;
nothing happens at import. `app_for(gateway)` composes them from a gateway the caller built
(tests and benches, which look inside it): the app keeps no handle to it.

>>> from pathlib import Path
>>> from gateway.settings import from_keys
>>> settings = from_keys(secret_keys=("s" * 32,), rules=Path(__file__).parents[1] / "tag_rules")
>>> app = create_app(settings)  # what `consent-gateway serve` runs
>>> gateway = Gateway.build(settings)  # or build the parts first, to look inside them
>>> gateway.store.name  # built, not opened: the lifespan of `app_for(gateway)` opens it
'sqlite'
>>> isinstance(app_for(gateway), GatewayApp)
True
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.admin import AdminSite
from gateway.admin.session import AdminSessions
from gateway.admin_auth import AdminGuard
from gateway.banner.routes import StaticAsset, banner_assets, details_route
from gateway.endpoints.answers import client_error_parts
from gateway.endpoints.api import EspApi
from gateway.endpoints.assets import asset_routes
from gateway.endpoints.consent import ConsentChoices
from gateway.endpoints.consent_state import ConsentState
from gateway.endpoints.email import EmailBeacons, PreferencesPage
from gateway.endpoints.forms import FormPages
from gateway.endpoints.health import HEALTHZ, readiness_route
from gateway.endpoints.hot import HotRoute, HotRoutes
from gateway.endpoints.metrics import MetricsEndpoint
from gateway.endpoints.origin import OriginGuard, OriginPolicy, OriginRefusals
from gateway.endpoints.scripts import script_routes
from gateway.endpoints.subjects import SubjectsApi
from gateway.endpoints.tracking import Tracking
from gateway.errors import ClientError, StoreUnavailable
from gateway.instrumentation import RequestInstrumentation
from gateway.logs import configure_logging
from gateway.openapi import openapi_routes
from gateway.rules.model import Rule
from gateway.runtime import Gateway
from gateway.settings import Settings, load_settings


class GatewayApp(Starlette):
    """Starlette, without its `ServerErrorMiddleware`: the request context
    (`RequestInstrumentation`, outermost) is the one path for the unexpected, and a second,
    plain-text 500 layer would only cost every request — the hot ones included — a wrapper."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=dict(self.exception_handlers))
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> GatewayApp:
    """A gateway for `settings`; raises `ConfigError` (one line) for a bad config or rule file.
    `clock` dates what the gateway records (tests pass their own)."""
    return app_for(Gateway.build(settings, clock))


def app_for(gateway: Gateway) -> GatewayApp:
    """The app serving `gateway`: each route given only the parts it uses, the lifespan
    running the gateway (one app per gateway)."""
    settings = gateway.settings
    assets = banner_assets(gateway.banner_config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with gateway.running():
            yield

    choices = ConsentChoices(
        settings.consent,
        settings.network,
        gateway.rules,
        gateway.codec,
        gateway.objections,
        gateway.receipts,
        gateway.store.receipts,
        gateway.rights,
        gateway.shown_texts,
        gateway.clock,
        cookie_secure=settings.site.cookie_secure,
    )
    hot = [*hot_routes(gateway, assets), choices.route()]
    origin = OriginPolicy(
        settings.consent.allowed_origins,
        own_origin=settings.site.public_origin,
        paths=("/consent", "/t/"),
        refusals=OriginRefusals(on_refusal=gateway.metrics.origin_refusals.inc),
    )
    admin = AdminGuard(settings.admin.token_hashes, gateway.admin_attempts)
    app = GatewayApp(
        routes=[
            # Before `/t/{vendor}/{sub_path:path}`.
            *script_routes(gateway.rules, gateway.scripts, gateway.clock),
            *hot,  # answered by the request context (a dict lookup), listed as every route is
            details_route(gateway.banner_config),
            *choices.routes(),
            *PreferencesPage(
                gateway.email, gateway.rights, settings.site.public_origin, settings.network
            ).routes(),
            *FormPages(
                gateway.forms,
                gateway.codec,
                settings.site.public_url,
                settings.site.public_origin,
                settings.consent.revision,
                settings.network,
                gateway.clock,
            ).routes(),
            *EspApi(admin, gateway.email, settings.consent).routes(),
            *SubjectsApi(admin, gateway.rights, gateway.store).routes(),
            *AdminSite(
                AdminSessions(
                    gateway.keys,
                    settings.admin.token_hashes,
                    minutes=settings.admin.session_minutes,
                    secure=settings.site.cookie_secure,
                    store=gateway.store.shared,
                ),
                gateway.admin_attempts,
                settings.site.public_origin,
                gateway.rights,
                gateway.dashboard,
            ).routes(),
            readiness_route(
                gateway.heartbeat,
                gateway.store,
                gateway.figures,
                settings.store.timeout_seconds,
                gateway.archive_mover,
            ),
            *MetricsEndpoint(
                gateway.metrics,
                settings.admin.metrics_token_hashes,
                gateway.admin_attempts,
                settings.network.trusted_proxies,
            ).routes(),
            *openapi_routes(settings.consent, settings.site.public_url, gateway.rules),
        ],
        # Outermost first. The request context answers the hot routes itself, after the
        # origin policy; every other request goes on through the guard to the router.
        middleware=[
            Middleware(
                RequestInstrumentation,
                metrics=gateway.metrics,
                hot=HotRoutes(hot, handed_on=loader_paths(gateway.rules)),
                origin=origin,
            ),
            Middleware(OriginGuard, policy=origin),
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
    if settings.site.demo:
        from gateway.demo.routes import demo_routes  # only a demo gateway loads the demo

        app.router.routes.extend(demo_routes(settings.site, settings.consent.revision))
    return app


def hot_routes(gateway: Gateway, assets: Mapping[str, StaticAsset]) -> list[HotRoute]:
    """The hot routes (`gateway.endpoints.hot`), each handler given only what it uses."""
    settings = gateway.settings
    tracking = Tracking(
        settings.consent,
        settings.network,
        settings.tracking,
        gateway.rules,
        gateway.codec,
        gateway.objections,
        gateway.counter,
        gateway.metrics,
        gateway.appender,
    )
    state = ConsentState(
        gateway.codec, gateway.objections, settings.consent.revision, settings.consent.categories
    )
    return [
        HEALTHZ,
        state.route(),
        *asset_routes(assets),
        *tracking.routes(),
        *EmailBeacons(gateway.email).routes(),
    ]


def loader_paths(rules: Mapping[str, Rule]) -> frozenset[str]:
    """The paths of vendors' loader scripts: under `/t/`, but routes of their own
    (`gateway.endpoints.scripts`)."""
    return frozenset(
        f"/t/{rule.id}{script.path}" for rule in rules.values() for script in rule.scripts
    )


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
    status, body, headers = client_error_parts(error)
    return JSONResponse(body, status_code=status, headers=headers)


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
