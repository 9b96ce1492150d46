"""`GET /openapi.json`: every route of the gateway described as OpenAPI 3.1.

The document is built from the app's settings and rules. `tests/test_openapi.py` checks that
the set of (path, method) in it equals the app's routes (HEAD and the demo aside), and
`tests/test_openapi_live.py` runs schemathesis against a live server with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.openapi.forms import form_schemas, forms_paths
from gateway.openapi.paths import (
    api_paths,
    consent_paths,
    email_paths,
    error_responses,
    operations_paths,
)
from gateway.openapi.schemas import schemas
from gateway.rules.model import ScriptRule
from gateway.runtime import gateway_of
from gateway.settings import Settings
from gateway.tracking.scripts import SCRIPT_VALUE


def openapi_document(
    settings: Settings, vendors: list[str], scripts: Mapping[str, ScriptRule] | None = None
) -> dict[str, Any]:
    """`scripts`: each first-party loader script's path (`/t/ga4/gtag/js`) and its rule."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "consent-gateway",
            "version": "1",
            "description": "Consent, proof of consent, tracking by consent, people's rights. "
            'Every error is JSON `{"error": "...", "detail": "..."}` with a 4xx status.',
        },
        "servers": [{"url": settings.site.public_url.rstrip("/")}],
        "paths": {
            **consent_paths(settings, vendors),
            **email_paths(),
            **api_paths(),
            **operations_paths(),
            **{path: _script_path(script) for path, script in (scripts or {}).items()},
            **forms_paths(),
        },
        "components": {
            "schemas": {**schemas(settings), **form_schemas(settings)},
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


def _script_path(script: ScriptRule) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "query", "schema": {"type": "string", "pattern": SCRIPT_VALUE}}
        for name in script.params
    ]
    return {
        "get": {
            "summary": "A vendor's loader script, fetched server-side and served first-party",
            "tags": ["tracking"],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "The script, cacheable as long as the vendor allows",
                    "content": {"application/javascript": {"schema": {"type": "string"}}},
                },
                **error_responses(404, 422),
                "503": {"description": "The vendor did not deliver it; retry later"},
            },
        }
    }


async def openapi_json(request: Request) -> Response:
    gateway = gateway_of(request)
    scripts = {
        f"/t/{rule.id}{script.path}": script
        for rule in gateway.rules.values()
        for script in rule.scripts
    }
    document = openapi_document(gateway.settings, sorted(gateway.rules), scripts)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
