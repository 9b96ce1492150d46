"""The hot routes, in pure ASGI: `/t/…`, `/o/…`, `/c/…`, `GET /consent`, `/healthz` and the
banner's script and stylesheet — what every page view and every email open goes through.

Each is a `HotRoute`: a Starlette `Route` of the app (listed in `app.routes`, described in
`/openapi.json`, fuzzed with the others) whose handler returns its answer as bytes. There is no
second implementation beside it. `HotRoutes`, the innermost middleware of the app
(`gateway.app`), finds them by a dict lookup on the path instead of the router's walk through
every route, so the request context (`gateway.instrumentation`: request id, latency, counting,
the one JSON 500) and the origin guard see these requests as they see every other. It sets
`scope["route"]` (whose `path` names the route in metrics and logs), answers a method the
route does not take with the router's 405, and a `ClientError` with the one JSON mapping
(`gateway.endpoints.answers`). Answers are made of headers and bodies built at start: no
Request or Response object is made for a GET.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.endpoints.answers import Answer, client_error_answer, method_not_allowed
from gateway.errors import ClientError

Handler = Callable[[Scope, Receive, str], Awaitable[Answer]]


class HotRoute(Route):
    """A route of the app (in `app.routes`, as every route is) whose handler gets the scope,
    `receive` and the path's rest after its prefix (`/t/`), and returns its `Answer`.

    `HotRoutes` finds it by a dict lookup and answers it before the router would; the router
    can answer it too, through the same `respond`. A method not in `methods` is answered 405,
    or with `hands_on` left to another hot route of the path (`GET` and `POST /consent`), else
    to the router (`DELETE /consent` is a Starlette route)."""

    def __init__(
        self,
        path: str,
        handler: Handler,
        methods: tuple[str, ...] = ("GET", "HEAD"),
        *,
        hands_on: bool = False,
    ) -> None:
        super().__init__(path, _Endpoint(self), methods=list(methods))
        self.handler = handler
        self.allowed = methods
        self.hands_on = hands_on
        # `/t/{vendor}`: the handler gets what follows `/t/`; an exact path gets "".
        self.prefix = path[:3] if "{" in path else ""

    async def respond(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        method: str = scope["method"]
        if method not in self.allowed:
            answer = method_not_allowed(self.allowed)
        else:
            try:
                answer = await self.handler(scope, receive, rest)
            except ClientError as error:
                answer = client_error_answer(error)
        status, headers, body = answer
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


class _Endpoint:
    """The route's ASGI app when the router dispatches it (a class, so Starlette calls it as
    ASGI rather than as a request/response function)."""

    def __init__(self, route: HotRoute) -> None:
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        rest = path[len(self.route.prefix) :] if self.route.prefix else ""
        await self.route.respond(scope, receive, send, rest)


class HotRoutes:
    """Pure ASGI middleware, innermost: answers the app's `HotRoute`s by a dict lookup on the
    path, and hands every other request to `app` (the router) untouched."""

    def __init__(
        self, app: ASGIApp, *, routes: Iterable[BaseRoute], handed_on: frozenset[str]
    ) -> None:
        self.app = app
        hot = [route for route in routes if isinstance(route, HotRoute)]
        self.exact: dict[str, HotRoute] = {}
        # Another hot route of an exact path, by method (`POST /consent` beside `GET`).
        self.also: dict[tuple[str, str], HotRoute] = {}
        for route in hot:
            if not route.prefix and self.exact.setdefault(route.path, route) is not route:
                self.also.update({(route.path, method): route for method in route.allowed})
        # Per prefix: the route of `/t/ga4` and, if any, of `/t/ga4/g/collect`.
        self.prefixed: dict[str, tuple[HotRoute | None, HotRoute | None]] = {}
        for route in hot:
            if route.prefix:
                one, deeper = self.prefixed.get(route.prefix, (None, None))
                if ":path}" in route.path:
                    deeper = route
                else:
                    one = route
                self.prefixed[route.prefix] = (one, deeper)
        self.handed_on = handed_on  # paths under a prefix that other routes serve (loaders)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        route = self.exact.get(path)
        rest = ""
        if route is None:
            found = self._find(path)
            if found is None:  # not a hot route: the router answers (or 404s) it
                await self.app(scope, receive, send)
                return
            route, rest = found
        if route.hands_on and scope["method"] not in route.allowed:
            other = self.also.get((route.path, scope["method"]))
            if other is None:
                await self.app(scope, receive, send)
                return
            route = other
        scope["route"] = route
        await route.respond(scope, receive, send, rest)

    def _find(self, path: str) -> tuple[HotRoute, str] | None:
        """The route and rest of a path under a prefix, or None: not a hot route. A trailing
        `/` is answered in place, as the router answers it (`gateway.app`)."""
        if path.endswith("/") and (stripped := path.rstrip("/")) in self.exact:
            return self.exact[stripped], ""
        routes = self.prefixed.get(path[:3])
        if routes is None or path in self.handed_on:
            return None
        one, deeper = routes
        rest = path[3:]
        head, slash, _ = rest.partition("/")
        if not head or one is None:
            return None
        if not slash:
            return one, rest
        if deeper is not None:
            return deeper, rest
        # `/o/<token>/`: the router strips trailing slashes; `/o/a/b` is no route.
        token = rest.rstrip("/")
        return (one, token) if "/" not in token else None
