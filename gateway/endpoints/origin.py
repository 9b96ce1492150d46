"""Cross-origin access for the browser-facing API: exact-match Origin, credentials, else 403.

`OriginPolicy.check` is the one policy (pure: a request's scope in, a `Verdict` out). A request
without `Origin` (curl, a server, a same-origin navigation) passes; a request whose Origin is
neither the gateway's own nor an allowed site origin is refused with 403 before it reaches an
endpoint — and the refusal is counted and logged (`OriginRefusals`), because a site whose origin
is missing from `GATEWAY_ALLOWED_ORIGINS` shows a banner that silently cannot save a choice.

Two places apply it: `OriginGuard`, pure ASGI middleware in front of the router, and the request
context for the hot routes it answers itself (`gateway.instrumentation`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.endpoints.answers import Answer, RawHeaders, json_answer

_ALLOW_METHODS = "GET, POST, DELETE"
_ALLOW_HEADERS = "Content-Type"
log = logging.getLogger("gateway.origin")


class OriginRefusals:
    """Counts refused origins and logs each at most once a `window` (an origin names a site,
    not a person: it may be logged). At most `max_origins` are remembered at once; beyond,
    refusals are still counted but a new origin is logged only when old ones expire.

    >>> logged = []
    >>> refusals = OriginRefusals(clock=lambda: 100.0, on_refusal=lambda: None)
    >>> refusals.log = logged.append
    >>> refusals("https://shop.example"), refusals("https://shop.example")
    (True, False)
    """

    def __init__(
        self,
        *,
        on_refusal: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        window: float = 60.0,
        max_origins: int = 1024,
    ) -> None:
        self.on_refusal = on_refusal
        self.clock = clock
        self.window = window
        self.max_origins = max_origins
        self._last_logged: dict[str, float] = {}
        self._refused: dict[str, int] = {}  # refusals since the origin was last logged
        self.log: Callable[[str], None] = log.warning

    def __call__(self, origin: str) -> bool:
        """Count one refusal of `origin`; True if it was logged now."""
        self.on_refusal()
        origin = origin[:200]  # a header is client input: bound what reaches the log
        now = self.clock()
        last = self._last_logged.get(origin)
        if last is not None and now - last < self.window:
            self._refused[origin] = self._refused.get(origin, 0) + 1
            return False
        if last is None and len(self._last_logged) >= self.max_origins:
            self._forget_expired(now)
            if len(self._last_logged) >= self.max_origins:
                return False
        earlier = self._refused.pop(origin, 0)
        self._last_logged[origin] = now
        also = f" (and {earlier} more time(s) since last logged)" if earlier else ""
        self.log(
            f"refused a request from origin {origin}{also}: it may not use the consent API;"
            " if it is your site, add it to GATEWAY_ALLOWED_ORIGINS"
        )
        return True

    def _forget_expired(self, now: float) -> None:
        for origin, last in list(self._last_logged.items()):
            if now - last >= self.window:
                del self._last_logged[origin]
                self._refused.pop(origin, None)


class Verdict(NamedTuple):
    """What the origin policy says of a request."""

    answer: Answer | None = None  # send this instead (a refusal, or a preflight's answer)
    cors: RawHeaders | None = None  # the route answers, with these headers (a cross origin)


PASS = Verdict()  # no Origin, the gateway's own, or a path the policy does not guard


class OriginPolicy:
    def __init__(
        self,
        allowed_origins: Iterable[str],
        own_origin: str,
        paths: tuple[str, ...],
        refusals: Callable[[str], object] = lambda origin: None,
    ) -> None:
        self.refusals = refusals
        self.cross_origins = frozenset(o.rstrip("/") for o in allowed_origins)
        self.own_origin = own_origin
        self.paths = paths

    def check(self, scope: Scope) -> Verdict:
        if not scope["path"].startswith(self.paths):
            return PASS
        return self.verdict(scope["path"], scope["method"], _origin(scope))

    def verdict(self, path: str, method: str, sent: bytes | None) -> Verdict:
        """The verdict on a request for `path` whose `Origin` header is `sent` (None: none),
        for a caller that has read the headers already (the request context)."""
        if sent is None or not path.startswith(self.paths):
            return PASS
        origin = sent.decode("latin-1")
        if origin == self.own_origin:
            return PASS
        if origin not in self.cross_origins:
            self.refusals(origin)
            return Verdict(answer=_FORBIDDEN)
        if method == "OPTIONS":
            return Verdict(answer=_preflight(origin))
        return Verdict(cors=[(b"access-control-allow-origin", origin.encode("latin-1"))])


def with_cors(headers: RawHeaders, cors: RawHeaders) -> RawHeaders:
    """A copy of an answer's `headers` for a cross-origin request: `cors`, credentials, and
    `Origin` added to its `Vary` (a hot route's headers are built once and shared)."""
    merged = MutableHeaders(raw=list(headers))
    for name, value in cors:
        merged[name.decode("latin-1")] = value.decode("latin-1")
    merged["Access-Control-Allow-Credentials"] = "true"
    merged.add_vary_header("Origin")
    return merged.raw


class OriginGuard:
    """The policy, as pure ASGI middleware in front of the router."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        verdict = PASS if scope["type"] != "http" else self.policy.check(scope)
        if verdict is PASS:
            await self.app(scope, receive, send)
            return
        if verdict.answer is not None:
            status, headers, body = verdict.answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        cors = verdict.cors or []

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_cors(list(message.get("headers", ())), cors)}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _origin(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return bytes(value)
    return None


_FORBIDDEN: Answer = json_answer(
    403,
    {
        "error": "forbidden",
        "detail": "this origin may not use the consent API (the gateway's GATEWAY_ALLOWED_ORIGINS)",
    },
    {"Vary": "Origin"},
)


def _preflight(origin: str) -> Answer:
    headers = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-allow-methods", _ALLOW_METHODS.encode()),
        (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
        (b"access-control-max-age", b"600"),
        (b"vary", b"Origin"),
    ]
    return 204, headers, b""
