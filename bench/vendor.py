"""A stand-in vendor for the benchmark: answers every hit with 204 and counts them.

`/count` is how many hits arrived; `/stats` also counts distinct `rand` values (the bench
gives every hit its own), so a hit delivered twice shows as a duplicate. With
`BENCH_VENDOR_DELAY_MS` set it waits that long before answering: a slow upstream.
"""

from __future__ import annotations

import asyncio
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

DELAY = float(os.environ.get("BENCH_VENDOR_DELAY_MS", "0")) / 1000
received = 0
seen: set[str] = set()


async def collect(request: Request) -> Response:
    global received
    await request.body()
    received += 1
    token = request.query_params.get("rand")
    if token is not None:
        seen.add(token)
    if DELAY:
        await asyncio.sleep(DELAY)
    return Response(status_code=204)


async def count(request: Request) -> Response:
    return PlainTextResponse(str(received))


async def stats(request: Request) -> Response:
    return JSONResponse({"received": received, "unique": len(seen)})


async def reset(request: Request) -> Response:
    global received
    received = 0
    seen.clear()
    return Response(status_code=204)


app = Starlette(
    routes=[
        Route("/count", count),
        Route("/stats", stats),
        Route("/reset", reset, methods=["POST"]),
        Route("/{path:path}", collect, methods=["GET", "POST"]),
    ]
)
