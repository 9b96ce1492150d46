"""`GET /t/{vendor}{path}` for a rule's `[scripts]`: the vendor's loader from our own origin.

Thin: the query is narrowed to the rule's params, the script comes from the bounded cache
(`gateway.tracking.scripts`), and the answer says how long a browser may keep it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.errors import NotFound, Unprocessable
from gateway.rules.model import Rule, ScriptRule
from gateway.tracking.scripts import (
    CONTENT_TYPE,
    FirstPartyScripts,
    ScriptUnavailable,
    script_query,
)


def script_routes(
    rules: Mapping[str, Rule], scripts: FirstPartyScripts, clock: Callable[[], float]
) -> list[BaseRoute]:
    """One route per declared script, matched before the hit routes of `/t/{vendor}/…`; each
    is given the scripts' cache and the clock, nothing else."""
    return [
        Route(
            f"/t/{rule.id}{script.path}",
            _serve(rule.id, script, scripts, clock),
            methods=["GET", "HEAD"],
            name=f"script_{rule.id}{script.path}",
        )
        for rule in rules.values()
        for script in rule.scripts
    ]


def _serve(
    vendor: str, script: ScriptRule, scripts: FirstPartyScripts, clock: Callable[[], float]
) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        refused = script.refused(request.query_params)
        if refused is not None:  # not this site's: nothing fetched, nothing cached
            raise NotFound(f"{vendor} serves no script for that {refused}")
        query = script_query(script, request.query_params)
        if query is None:
            names = ", ".join(script.params)
            raise Unprocessable(f"expected {names} of at most 64 letters, digits or ._-")
        try:
            found = await scripts.get(vendor, script, query)
        except ScriptUnavailable as error:
            if error.status == 404:
                raise NotFound(f"{vendor} has no such script") from None
            # The vendor failed, not the request: the page loads without it and may retry.
            return JSONResponse(
                {"error": "unavailable", "detail": f"{vendor}'s script could not be fetched"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        max_age = found.max_age(clock())
        return Response(
            found.body,
            media_type=CONTENT_TYPE,
            headers={
                "Cache-Control": f"public, max-age={max_age}",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return serve
