"""The shape of one row of the route table (`Operation`) and how a row becomes an OpenAPI 3.1
operation. Bodies are named by their struct (`gateway.bodies`), whose schema is a component.

    >>> from gateway.bodies.answers import Health
    >>> row = Operation("get", "/healthz", "Liveness", "ops", {200: json("Alive", Health)})
    >>> row.openapi()["responses"]["200"]["content"]["application/json"]["schema"]
    {'$ref': '#/components/schemas/Health'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

Schema = dict[str, Any]
Shape = type[msgspec.Struct] | Schema
REASONS = {
    400: "Malformed input",
    401: "Missing or wrong admin token",
    403: "Refused: the origin, the admin API being closed, the address or an expired form",
    404: "Not found",
    409: "The page shows another policy revision",
    410: "The link has expired",
    413: "Body too large",
    415: "Wrong content type",
    422: "Well-formed but invalid",
    429: "Too many failed admin attempts",
    503: "The store is unreachable",
}
# Consent is optional: no token at all is "no consent", never an error.
CONSENT: tuple[Schema, ...] = ({}, {"consentCookie": []}, {"consentToken": []})
ADMIN_TOKEN: tuple[Schema, ...] = ({"adminToken": []},)
ADMIN_SESSION: tuple[Schema, ...] = ({"adminSession": []},)


def ref(shape: Shape) -> Schema:
    if isinstance(shape, dict):
        return shape
    return {"$ref": f"#/components/schemas/{shape.__name__}"}


def json(description: str, shape: Shape) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref(shape)}}}


def media(media_type: str, description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "content": {media_type: {"schema": schema or {}}}}


def parameter(name: str, where: str, description: str, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": {"type": "string", **schema},
    }


GIF = media("image/gif", "The 43-byte transparent GIF (`Cache-Control: no-store`)")
HTML = media("text/html", "A page")
REDIRECT: Schema = {"description": "A redirect (`Location`)"}
FRESH: Schema = {"description": "Fresh"}


def errors(
    *codes: int, also_html: bool = False, reasons: Mapping[int, str] | None = None
) -> dict[int, Schema]:
    """JSON `Error` answers (`reasons`: what they mean here, where it is not the usual);
    `also_html`: a page for a person, or JSON for a body it cannot read."""
    content: Schema = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    if also_html:
        content = {"text/html": {"schema": {}}, **content}
    said = {**REASONS, **(reasons or {})}
    return {code: {"description": said[code], "content": content} for code in codes}


@dataclass(frozen=True)
class Operation:
    """One row: a method on a path, what it is for, what it takes and what it answers."""

    method: str
    path: str
    summary: str
    tag: str
    answers: Mapping[int, Schema]
    body: type[msgspec.Struct] | Mapping[str, Shape] | None = None  # a struct: JSON, required
    parameters: tuple[Schema, ...] = ()
    security: tuple[Schema, ...] | None = None
    extra: Schema = field(default_factory=dict)

    def openapi(self) -> Schema:
        operation: Schema = {
            "summary": self.summary,
            "tags": [self.tag],
            "responses": {str(code): answer for code, answer in sorted(self.answers.items())},
        }
        if self.parameters:
            operation["parameters"] = list(self.parameters)
        if isinstance(self.body, type):
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(self.body)}},
            }
        elif self.body is not None:
            content = {kind: {"schema": ref(shape)} for kind, shape in self.body.items()}
            operation["requestBody"] = {"content": content}
        if self.security is not None:
            operation["security"] = list(self.security)
        return operation | self.extra
