"""Cross-origin access for the browser-facing API: exact-match Origin, credentials, else 403.

Pure ASGI middleware. A request without `Origin` (curl, a server, a same-origin navigation)
passes; a request whose Origin is neither the gateway's own nor an allowed site origin is
refused with 403 before it reaches an endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALLOW_METHODS = "GET, POST, DELETE"
_ALLOW_HEADERS = "Content-Type"


class OriginGuard:
    def __init__(
        self, app: ASGIApp, allowed_origins: Iterable[str], own_origin: str, paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.cross_origins = frozenset(o.rstrip("/") for o in allowed_origins)
        self.own_origin = own_origin
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is None or origin == self.own_origin:
            await self.app(scope, receive, send)
            return
        if origin not in self.cross_origins:
            await _forbidden(send, origin)
            return
        if scope["method"] == "OPTIONS":
            await _preflight(send, origin)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = origin
                headers["Access-Control-Allow-Credentials"] = "true"
                headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _forbidden(send: Send, origin: str) -> None:
    body = json.dumps(
        {"error": "forbidden", "detail": "this origin may not use the consent API"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"vary", b"Origin"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _preflight(send: Send, origin: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-allow-methods", _ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
