"""`GET /openapi.json`: every route of the gateway described as OpenAPI 3.1.

The document is generated: its schemas from the structs the API decodes and answers with
(`gateway.openapi.components`), its operations from a table of routes, one row each
(`gateway.openapi.visitor_routes`, `gateway.openapi.admin_routes`), and what the configuration
names (categories, vendors, first-party scripts) from the consent policy and the rules.
`tests/test_openapi.py` checks that the set of (path, method) in it equals the app's routes
(HEAD and the demo aside), and `tests/test_openapi_live.py` runs schemathesis against a live
server with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.openapi import admin_routes, visitor_routes
from gateway.openapi.components import components, json_schema_patterns
from gateway.openapi.table import Operation, Schema, errors, media, parameter
from gateway.rules.model import Rule, ScriptRule
from gateway.settings import ConsentSection
from gateway.tracking.scripts import SCRIPT_VALUE


def openapi_document(
    policy: ConsentSection,
    public_url: str,
    vendors: list[str],
    scripts: Mapping[str, ScriptRule] | None = None,
) -> dict[str, Any]:
    """The document for a gateway at `public_url` with this consent policy (its categories)
    and these vendors; `scripts`: each first-party loader script's path (`/t/ga4/gtag/js`)
    and its rule."""
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "consent-gateway",
            "version": "1",
            "description": "Consent, proof of consent, tracking by consent, people's rights. "
            'Every error is JSON `{"error": "...", "detail": "..."}` with a 4xx status.',
        },
        "servers": [{"url": public_url.rstrip("/")}],
        "paths": {
            **_paths(vendors),
            **{
                path: {"get": _script_row(path, script).openapi()}
                for path, script in (scripts or {}).items()
            },
        },
        "components": {
            "schemas": components(policy),
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer"},
                "metricsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token whose SHA-256 is in GATEWAY_METRICS_TOKEN_HASHES",
                },
                "adminSession": {"type": "apiKey", "in": "cookie", "name": "cg_admin"},
                "consentCookie": {"type": "apiKey", "in": "cookie", "name": "cg_consent"},
                "consentToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Consent <token>`: how apps, which keep no cookies, carry "
                    "the token `POST /consent` answered with; same rules as the cookie",
                },
            },
        },
    }
    return cast(dict[str, Any], json_schema_patterns(document))


def _paths(vendors: list[str]) -> dict[str, Schema]:
    rows: tuple[Operation, ...] = (
        *visitor_routes.BANNER,
        *visitor_routes.CONSENT_ROUTES,
        *visitor_routes.tracking("/t/{vendor}"),
        *visitor_routes.tracking("/t/{vendor}/{sub_path}"),
        *visitor_routes.EMAIL,
        *visitor_routes.FORMS,
        *admin_routes.API,
        *admin_routes.OPERATIONS,
        *admin_routes.ADMIN_PAGES,
    )
    parameters = {
        **visitor_routes.PATH_PARAMETERS,
        **admin_routes.PATH_PARAMETERS,
        "/t/{vendor}": visitor_routes.tracking_parameters(vendors, sub_path=False),
        "/t/{vendor}/{sub_path}": visitor_routes.tracking_parameters(vendors, sub_path=True),
    }
    paths: dict[str, Schema] = {path: {"parameters": list(p)} for path, p in parameters.items()}
    for row in rows:
        paths.setdefault(row.path, {})[row.method] = row.openapi()
    return paths


def _script_row(path: str, script: ScriptRule) -> Operation:
    return Operation(
        "get",
        path,
        "A vendor's loader script, fetched server-side and served first-party",
        "tracking",
        {
            200: media(
                "application/javascript",
                "The script, cacheable as long as the vendor allows",
                {"type": "string"},
            ),
            **errors(404, 422),
            503: {"description": "The vendor did not deliver it; retry later"},
        },
        parameters=tuple(
            parameter(name, "query", "as the vendor's snippet sends it", pattern=SCRIPT_VALUE)
            for name in script.params
        ),
    )


def openapi_routes(
    policy: ConsentSection, public_url: str, rules: Mapping[str, Rule]
) -> list[Route]:
    """`GET /openapi.json` for this consent policy, the gateway's public URL and its rules (the
    vendors and their loader scripts)."""
    scripts = {
        f"/t/{rule.id}{script.path}": script for rule in rules.values() for script in rule.scripts
    }

    async def openapi_json(request: Request) -> Response:
        document = openapi_document(policy, public_url, sorted(rules), scripts)
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})

    return [Route("/openapi.json", openapi_json, methods=["GET"])]
