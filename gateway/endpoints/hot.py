"""The hot routes, in pure ASGI: `/t/…`, `/o/…`, `/c/…`, `GET /consent`, `/healthz` and the
banner's script and stylesheet — what every page view and every email open goes through.

Each is a `HotRoute`: a Starlette `Route` of the app (listed in `app.routes`, described in
`/openapi.json`, fuzzed with the others) whose handler returns its answer as bytes. There is no
second implementation beside it. `HotRoutes` finds them by a dict lookup on the path instead of
the router's walk through every route; the request context (`gateway.instrumentation`: request
id, latency, counting, the one JSON 500) uses it to answer these requests itself, after the
same origin policy the other routes get (`gateway.endpoints.origin`), with no layer of
middleware or wrapped `send` between it and the route. A route's answer: the router's 405 for a
method it does not take, a `ClientError` through the one JSON mapping
(`gateway.endpoints.answers`), else its handler's. Answers are made of headers and bodies built
at start: no Request or Response object is made for a GET.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from gateway.endpoints.answers import Answer, RawHeaders, client_error_answer, method_not_allowed
from gateway.errors import ClientError

Handler = Callable[[Scope, Receive, str], Awaitable[Answer]]
# A handler that needs no I/O and refuses nothing (no `ClientError`): given the scope and the
# path's rest, it returns the answer at once.
Immediate = Callable[[Scope, str], Answer]


class HotRoute(Route):
    """A route of the app (in `app.routes`, as every route is) whose handler gets the scope,
    `receive` and the path's rest after its prefix (`/t/`), and returns its `Answer`.

    `HotRoutes` finds it by a dict lookup, so the request context answers it before the router
    would; the router can answer it too (a path with a trailing `/`), through the same `answer`. A method not in `methods` is answered 405,
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
        self.immediate: Immediate | None = None

    @classmethod
    def at_once(
        cls,
        path: str,
        answer: Immediate,
        methods: tuple[str, ...] = ("GET", "HEAD"),
        *,
        hands_on: bool = False,
    ) -> HotRoute:
        """A route whose answer needs no I/O and refuses nothing (the health check, the banner's
        assets, the consent state): the request context calls `answer` without making a
        coroutine for it, as the most frequent requests deserve."""

        async def handler(scope: Scope, receive: Receive, rest: str) -> Answer:
            return answer(scope, rest)

        route = cls(path, handler, methods, hands_on=hands_on)
        route.immediate = answer
        return route

    async def answer(self, scope: Scope, receive: Receive, rest: str) -> Answer:
        if scope["method"] not in self.allowed:
            return method_not_allowed(self.allowed)
        try:
            return await self.handler(scope, receive, rest)
        except ClientError as error:
            return client_error_answer(error)

    async def respond(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        await send_answer(send, scope["method"], await self.answer(scope, receive, rest))


async def send_answer(
    send: Send, method: str, answer: Answer, extra: RawHeaders | None = None
) -> None:
    """Send `answer` (no body to a HEAD), with `extra` headers after its own."""
    status, headers, body = answer
    if extra:
        headers = [*headers, *extra]
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
    """The app's `HotRoute`s by path: `find` is a dict lookup, not the router's walk."""

    def __init__(self, routes: Iterable[BaseRoute], *, handed_on: frozenset[str]) -> None:
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

    def find(self, scope: Scope) -> tuple[HotRoute, str] | None:
        """The hot route of an HTTP request and its path's rest, or None: the router's."""
        path: str = scope["path"]
        route = self.exact.get(path)
        rest = ""
        if route is None:
            found = self._under_prefix(path)
            if found is None:  # not a hot route: the router answers (or 404s) it
                return None
            route, rest = found
        if route.hands_on and scope["method"] not in route.allowed:
            other = self.also.get((route.path, scope["method"]))
            return None if other is None else (other, rest)
        return route, rest

    def _under_prefix(self, path: str) -> tuple[HotRoute, str] | None:
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
