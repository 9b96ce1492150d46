"""The hot routes as pure ASGI, in front of the Starlette app: `GET` of `/t/…`, `/o/…`, `/c/…`,
`/consent`, `/consent.js`, `/consent.css` and `/healthz` — what every page view and every email
open goes through.

Each answer is made of headers and bodies built at start; the ASGI headers are read in one
pass; counts go to plain dicts (`Metrics.tally`, exported at scrape). No Request, Response,
router or middleware object is made per request. The logic stays where it lives (the decision
core, the endpoints' shared functions): this module only reads headers and writes bytes.

A request that is not the common case goes on to the full Starlette stack, which answers it as
it always did: a handler returns None to hand it on, *before* doing anything (a POST, a HEAD,
an Origin to check, an unknown vendor or path, an invalid token). Unexpected errors take the
one error path of `gateway.instrumentation`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.banner.routes import StaticAsset
from gateway.consent.model import Consent
from gateway.decision import decide
from gateway.email.targets import is_redirectable
from gateway.endpoints.consent import consent_state, current_consent
from gateway.endpoints.email import note_click, note_open
from gateway.endpoints.pixels import GIF, PIXEL_HEADERS
from gateway.endpoints.tracking import carry_out, visitor_signals
from gateway.instrumentation import fail, request_id_of
from gateway.logs import request_id
from gateway.runtime import Gateway
from gateway.tracking.bodies import HitTooLarge
from gateway.tracking.hits import parse_query
from gateway.visitors.headers import geo_header_name, read_decision_headers

RawHeaders = list[tuple[bytes, bytes]]
Answer = tuple[int, RawHeaders, bytes]  # status, headers, body
Handler = Callable[[Scope, dict[bytes, bytes], str], Answer | None]
# Routing and caching headers only: what decides is read by `read_decision_headers`, the one
# reader both paths share (it resolves a repeated header the same way everywhere).
_WANTED = frozenset({b"origin", b"x-request-id", b"accept-encoding", b"if-none-match"})


def _raw(headers: Mapping[str, str], body: bytes | None = None) -> RawHeaders:
    raw = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    if body is not None:
        raw.append((b"content-length", str(len(body)).encode()))
    return raw


_HEALTHY = b'{"status":"ok"}'
_HEALTHZ: Answer = (
    200,
    _raw({"Content-Type": "application/json", "Cache-Control": "no-store"}, _HEALTHY),
    _HEALTHY,
)
_OPEN: Answer = (
    200,
    _raw({**PIXEL_HEADERS, "Content-Type": "image/gif", "Referrer-Policy": "no-referrer"}, GIF),
    GIF,
)
_CLICK = _raw({"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}, b"")
_PRIVATE_JSON = _raw(
    {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "Vary": "Cookie, Authorization",
    }
)


@lru_cache(maxsize=64)
def _pixel(outcome: str, reason: str) -> RawHeaders:
    """The GIF's headers for one decision (a handful of outcome × reason pairs)."""
    return _raw(
        {
            **PIXEL_HEADERS,
            "Content-Type": "image/gif",
            "X-Consent-Decision": f"{outcome}; reason={reason}",
        },
        GIF,
    )


@lru_cache(maxsize=64)
def _redirect(outcome: str, reason: str) -> RawHeaders:
    """A redirect's headers for one decision, without its Location."""
    return _raw({**PIXEL_HEADERS, "X-Consent-Decision": f"{outcome}; reason={reason}"}, b"")


@lru_cache(maxsize=4096)
def _consent_body(consent: Consent | None, state: Callable[[Consent | None], Any]) -> bytes:
    return json.dumps(
        state(consent), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


class HotPaths:
    """ASGI app: the hot routes, else `app` (the Starlette stack)."""

    def __init__(self, app: ASGIApp, gateway: Gateway, assets: Mapping[str, StaticAsset]) -> None:
        self.app = app
        self.gateway = gateway
        self.assets = assets
        self.own_origin = gateway.settings.site.public_origin.encode("latin-1")
        self.geo_header = geo_header_name(gateway.settings.network.geo_header)
        self.exact: dict[str, tuple[str, Handler]] = {
            "/healthz": ("/healthz", lambda scope, headers, rest: _HEALTHZ),
            "/consent": ("/consent", self.read_consent),
            **{path: (path, self._asset_handler(asset)) for path, asset in assets.items()},
        }
        self.script_paths = frozenset(
            f"/t/{rule.id}{script.path}"
            for rule in gateway.rules.values()
            for script in rule.scripts
        )
        # The consent state's JSON, per consent, for this gateway's settings.
        self._state = lambda consent: consent_state(gateway, consent)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        found = self.exact.get(path)
        if found is not None:
            route, handler = found
            rest = ""
        elif path in self.script_paths:  # a vendor's loader script: served by its own route
            await self.app(scope, receive, send)
            return
        elif path.startswith("/t/"):
            rest = path[3:]
            route = "/t/{vendor}/{sub_path:path}" if "/" in rest else "/t/{vendor}"
            handler = self.track
        elif path.startswith("/o/"):
            route, handler, rest = "/o/{token}", self.open_beacon, path[3:]
        elif path.startswith("/c/"):
            route, handler, rest = "/c/{token}", self.click_through, path[3:]
        else:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _WANTED:
                headers[name] = value
        origin = headers.get(b"origin")
        if (
            origin is not None
            and origin != self.own_origin
            and path.startswith(("/t/", "/consent"))
        ):
            await self.app(scope, receive, send)  # the origin guard answers, with CORS headers
            return
        rid = request_id_of(headers.get(b"x-request-id", b""))
        token = request_id.set(rid)
        status, declined = 0, False
        try:
            answer = handler(scope, headers, rest)
            if answer is None:
                declined = True
            else:
                status, raw, body = answer
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*raw, (b"x-request-id", rid.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        except Exception as error:
            status = await fail(error, scope, route, rid, status, send)
        finally:
            request_id.reset(token)
            if not declined:
                self.gateway.metrics.tally.request(
                    route, "GET", status, time.perf_counter() - started
                )
        if declined:  # untouched: the full stack answers (and counts) it
            await self.app(scope, receive, send)

    # -- the handlers: None hands the request on, untouched -------------------------------------

    def track(self, scope: Scope, headers: dict[bytes, bytes], rest: str) -> Answer | None:
        gateway = self.gateway
        vendor, _, sub_path = rest.partition("/")
        rule = gateway.rules.get(vendor)
        if rule is None or (sub_path and not rule.hit.accepts_path(sub_path)):
            return None  # the full path answers the 404 with its details
        read = read_decision_headers(scope["headers"], self.geo_header)
        consent = gateway.objections.standing(gateway.codec.decode_presented(read.consent_tokens))
        decision = decide(rule, consent, visitor_signals(gateway, consent, read))
        # A GET carries one hit, its query: read only when something is sent or redirected.
        hits = (
            []
            if decision.outcome == "block"
            else [parse_query(scope["query_string"].decode("latin-1"))]
        )
        client = scope.get("client")
        try:
            decision, location = carry_out(
                gateway,
                rule,
                decision,
                hits,
                consent,
                peer=client[0] if client else None,
                forwarded_for=read.forwarded_for,
                user_agent=read.user_agent,
            )
        except HitTooLarge:
            return None  # nothing done yet: the full path answers (and counts) the 413
        if location is not None:
            raw = _redirect(decision.outcome, decision.reason)
            return 302, [*raw, (b"location", location.encode("latin-1"))], b""
        return 200, _pixel(decision.outcome, decision.reason), GIF

    def open_beacon(self, scope: Scope, headers: dict[bytes, bytes], token: str) -> Answer | None:
        email = self.gateway.email
        opened = email.tokens.read_open(token) if "/" not in token else None
        if opened is None:
            return None  # counted as invalid by the full path
        note_open(email, opened, scope["headers"])
        return _OPEN

    def click_through(self, scope: Scope, headers: dict[bytes, bytes], token: str) -> Answer | None:
        email = self.gateway.email
        click = email.tokens.read_click(token) if "/" not in token else None
        if click is None or not is_redirectable(click.target):
            return None  # the full path counts it and shows the page
        note_click(email, click, scope["headers"])
        # Location is exactly the signed text (checked at signing): no re-quoting.
        return 302, [*_CLICK, (b"location", click.target.encode("latin-1"))], b""

    def read_consent(self, scope: Scope, headers: dict[bytes, bytes], rest: str) -> Answer:
        tokens = read_decision_headers(scope["headers"], None).consent_tokens
        body = _consent_body(current_consent(self.gateway, tokens), self._state)
        return 200, [*_PRIVATE_JSON, (b"content-length", str(len(body)).encode())], body

    def _asset_handler(self, asset: StaticAsset) -> Handler:
        answers: dict[tuple[bytes, bytes], Answer] = {}

        def serve(scope: Scope, headers: dict[bytes, bytes], rest: str) -> Answer:
            key = (headers.get(b"accept-encoding", b""), headers.get(b"if-none-match", b""))
            answer = answers.get(key)
            if answer is None:
                status, named, body = asset.answer(
                    key[0].decode("latin-1"), key[1].decode("latin-1")
                )
                answer = (status, _raw(named, body if status == 200 else None), body)
                if len(answers) < 1024:  # browsers send a few dozen spellings
                    answers[key] = answer
            return answer

        return serve
