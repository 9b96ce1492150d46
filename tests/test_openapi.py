"""`/openapi.json` stays true: it describes exactly the app's routes, and its references resolve."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from gateway.app import create_app
from gateway.openapi.components import REQUESTS
from gateway.settings import Settings
from tests.conftest import REPO, serving

IGNORED_METHODS = {"HEAD"}


def route_operations(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Mount):
            yield from route_operations(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and route.methods:
            for method in route.methods - IGNORED_METHODS:
                # `{sub_path:path}` is `{sub_path}` in OpenAPI.
                yield re.sub(r":\w+}", "}", prefix + route.path), method.lower()
        else:
            raise AssertionError(f"a route the test does not know how to read: {route!r}")


def document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


async def fetch_document(app: Starlette) -> dict[str, Any]:
    async with serving(app) as http:
        answer = await http.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    document: dict[str, Any] = answer.json()
    return document


async def test_the_document_describes_every_route_and_nothing_else(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(demo=True))
    served = {
        (path, method)
        for path, method in route_operations(app.routes)
        if not path.startswith("/demo")
    }
    described = document_operations(await fetch_document(app))
    assert served - described == set(), "routes missing from /openapi.json"
    assert described - served == set(), "/openapi.json describes routes that do not exist"


async def test_every_operation_answers_something_and_every_reference_resolves(
    make_settings: Callable[..., Settings],
) -> None:
    document = await fetch_document(create_app(make_settings()))
    assert document["openapi"].startswith("3.1")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["responses"], (path, method)
            assert operation["summary"], (path, method)
    schemas = document["components"]["schemas"]
    for reference in references(document):
        assert reference.startswith("#/components/schemas/")
        assert reference.rsplit("/", 1)[1] in schemas, reference
    error = schemas["Error"]
    assert error["required"] == ["error", "detail"]


async def test_the_api_operations_name_their_auth_and_categories(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ga4.toml").write_text((REPO / "tag_rules" / "ga4.toml").read_text())
    settings = make_settings(categories=("necessary", "analytics", "ads"), rules=rules)
    document = await fetch_document(create_app(settings))
    paths = document["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if path.startswith("/api/"):
                assert operation["security"] == [{"adminToken": []}], (path, method)
            elif path.startswith("/admin"):
                assert operation["security"] == [{"adminSession": []}], (path, method)
            elif path == "/metrics":  # an internal client, or a scraper with a metrics token
                assert operation["security"] == [{}, {"metricsToken": []}]
            elif path in ("/consent", "/consent/receipts") or path.startswith("/t/{vendor}"):
                # optional: the cookie (browsers) or `Authorization: Consent …` (apps)
                assert operation["security"] == [{}, {"consentCookie": []}, {"consentToken": []}]
            else:
                assert "security" not in operation, (path, method)
    objectable = document["components"]["schemas"]["ObjectionRequest"]
    assert objectable["properties"]["categories"]["items"]["enum"] == [
        "analytics",
        "ads",
        "email_tracking",
    ]
    assert paths["/t/{vendor}"]["parameters"][0]["schema"]["enum"] == ["ga4"]


async def test_the_schemas_are_the_structs_the_api_decodes_with_json_schema_patterns(
    make_settings: Callable[..., Settings],
) -> None:
    document = await fetch_document(create_app(make_settings()))
    schemas = document["components"]["schemas"]
    for shape in REQUESTS:  # each request body is its struct, closed to other fields
        assert schemas[shape.__name__]["additionalProperties"] is False, shape
    posted = document["paths"]["/consent"]["post"]["requestBody"]["content"]["application/json"]
    assert posted["schema"] == {"$ref": "#/components/schemas/Choice"}
    # Python's "end of text" (\Z) is written as JSON Schema's "$".
    text = json.dumps(document)
    assert "\\\\Z" not in text
    bundle = schemas["AppPoint"]["properties"]["id"]["pattern"]
    assert bundle.endswith("$")
    assert re.search(bundle, "com.example.shop")
