"""The gateway as benchmarked: the real app, plus a bare route returning the same GIF (baseline)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import create_app
from gateway.endpoints.pixels import gif_response
from gateway.settings import load_settings


async def bare_gif(request: Request) -> Response:
    return gif_response()


def app() -> Starlette:
    gateway_app = create_app(load_settings())
    gateway_app.router.routes.insert(0, Route("/bench/bare.gif", bare_gif))
    return gateway_app
