"""The request context of every route, as pure ASGI middleware: a request id, latency and
status metrics. It is the outermost of the app's middleware, so the hot routes
(`gateway.endpoints.hot`) and the Starlette routes get the same context by construction.

It also answers the hot routes itself: their answers are bytes, so it sends them with the
request id added and the origin policy applied (`gateway.endpoints.origin`, the one
`OriginGuard` applies in front of the router) — no middleware layer or wrapped `send` between
a page view's hit and its route. Every other request goes on down the stack, its `send`
observed.

The request id comes from a well-formed `X-Request-ID` header or is generated; it is echoed
in the response and attached to every log line written while the request runs.

This is the gateway's one path for the unexpected (`app.py` registers no `Exception`
handler): an error is logged here, once, with that id and the route template (never the raw
path, which may hold a token or a subject id), and answered with a JSON 500 that carries the
id. A client that hangs up mid-request is not an error: one quiet line, counted as 499.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from time import perf_counter

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.endpoints.hot import HotRoutes
from gateway.endpoints.origin import PASS, OriginPolicy, with_cors
from gateway.logs import request_id
from gateway.metrics import Metrics

_VALID_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")
_PROCESS_PREFIX = secrets.token_hex(4).encode()  # new in every worker process (uvicorn spawns them)
_sequence = itertools.count()
CLIENT_CLOSED = 499  # nginx's "client closed request": no answer was sent
log = logging.getLogger("gateway")


class RequestInstrumentation:
    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        hot: HotRoutes | None = None,
        origin: OriginPolicy | None = None,
    ) -> None:
        self.app = app
        self.tally = metrics.tally
        self.hot = hot
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        incoming = origin = None
        for name, value in scope["headers"]:  # one pass, for the two this layer reads
            if name == b"x-request-id":
                incoming = incoming or value
            elif name == b"origin":
                origin = origin or value
        rid = request_id_of(incoming or b"")
        token = request_id.set(rid.decode())
        found = self.hot.find(scope) if self.hot is not None else None
        sent = [0]  # the status, once the answer has started
        label = ""  # the route's template, once known
        try:
            if found is None:
                await self.app(scope, receive, _observed(send, rid, sent))
            else:
                route, rest = found
                scope["route"], label = route, route.path
                method = scope["method"]
                verdict = (
                    PASS
                    if self.origin is None
                    else self.origin.verdict(scope["path"], method, origin)
                )
                if verdict.answer is not None:
                    status, headers, body = verdict.answer
                elif route.immediate is not None and method in route.allowed:
                    status, headers, body = route.immediate(scope, rest)
                else:
                    status, headers, body = await route.answer(scope, receive, rest)
                headers = [*headers, (b"x-request-id", rid)]
                if verdict.cors is not None:
                    headers = with_cors(headers, verdict.cors)
                sent[0] = status
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send(
                    {"type": "http.response.body", "body": b"" if method == "HEAD" else body}
                )
        except Exception as error:
            label, observed = _route(scope), _observed(send, rid, sent)
            sent[0] = await fail(error, scope, label, rid.decode(), sent[0], observed)
        finally:
            label = label or _route(scope)
            self.tally.request(label, scope["method"], sent[0], perf_counter() - started)
            request_id.reset(token)


def _observed(send: Send, rid: bytes, sent: list[int]) -> Send:
    """`send`, adding the request id to the answer and noting its status in `sent`."""
    stamp = (b"x-request-id", rid)

    async def send_observed(message: Message) -> None:
        if message["type"] == "http.response.start":
            sent[0] = message["status"]
            # A copy: a route's headers may be built once and shared by its answers.
            message["headers"] = [*message.get("headers", ()), stamp]
        await send(message)

    return send_observed


def _route(scope: Scope) -> str:
    """The matched route's template (Starlette's routes and `HotRoute`s alike name it `path`);
    never the raw path, which may hold a token or a subject id."""
    return getattr(scope.get("route"), "path", "(unmatched)")


def request_id_of(incoming: bytes) -> bytes:
    """The request id: a well-formed `X-Request-ID` the client sent, else a new one — this
    process's random prefix and a counter (an id names a request in the logs; it is no secret,
    and a urandom call per request cost more than the rest of a pixel's work). Bytes, as the
    header is sent.

    >>> request_id_of(b"abc-12345678"), len(request_id_of(b"")), request_id_of(b"no spaces here")[:0]
    (b'abc-12345678', 16, b'')
    """
    if incoming and _VALID_ID.fullmatch(incoming):
        return incoming
    return b"%s%08x" % (_PROCESS_PREFIX, next(_sequence) & 0xFFFFFFFF)


async def fail(
    error: Exception, scope: Scope, label: str, rid: str, status: int, send: Send
) -> int:
    """The one path for the unexpected: log once, answer the JSON
    500 if nothing was sent yet; a client that hung up is a quiet 499. Returns the status."""
    if isinstance(error, ClientDisconnect):
        log.info("client closed the request on %s %s (499)", scope["method"], label)
        return CLIENT_CLOSED
    log.exception("unhandled error on %s %s", scope["method"], label, exc_info=error)
    if status == 0:
        body = _error_body(rid)
        await send(_error_start(body))  # `send` is the observed one: it adds the request id
        await send({"type": "http.response.body", "body": body})
    return 500


def _error_body(rid: str) -> bytes:
    detail = "the gateway hit an unexpected error"
    return json.dumps({"error": "internal", "detail": detail, "request_id": rid}).encode()


def _error_start(body: bytes) -> Message:
    return {
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
