"""A fast stand-in vendor for the benchmark: answers every hit with 204 and counts them."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

received = 0


async def collect(request: Request) -> Response:
    global received
    await request.body()
    received += 1
    return Response(status_code=204)


async def count(request: Request) -> Response:
    return PlainTextResponse(str(received))


app = Starlette(
    routes=[
        Route("/count", count),
        Route("/{path:path}", collect, methods=["GET", "POST"]),
    ]
)
