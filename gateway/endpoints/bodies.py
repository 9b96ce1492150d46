"""Reading request bodies: the one reader every route uses, with clear 4xx answers; and
writing an answer from its declared struct (`struct_response`).

- a size cap, checked against `Content-Length` first and then while the body streams in;
- JSON that is strict (`gateway.strict_json`: UTF-8, bounded depth, exact numbers, no lone
  surrogates), decoded into its declared shape (`gateway.bodies`);
- urlencoded forms decoded one way (UTF-8, the last value of a repeated field).

A pure-ASGI route (`gateway.endpoints.hot`) reads its body with `receive_json`, the same checks
in the same order on the scope and `receive` (no Request object), and decodes it with
`decode_json` in one step.

A client that goes away mid-body raises Starlette's `ClientDisconnect`, which the
instrumentation middleware logs as one quiet 499 line.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from gateway.bodies.decode import decode
from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMedia
from gateway.strict_json import encodable, parse_json

MAX_JSON_BODY = 4096
MAX_FORM_BODY = 4096
Shape = TypeVar("Shape", bound=msgspec.Struct)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int, what: str = "the body") -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"{what} may be at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"{what} may be at most {limit} bytes")
    return bytes(body)


async def read_json(request: Request, limit: int = MAX_JSON_BODY) -> Any:
    """The body as strict JSON (any JSON value; callers check its shape)."""
    if media_type(request) != "application/json":
        raise UnsupportedMedia("send the body as application/json")
    return parse_json(await read_body(request, limit))


async def receive_json(scope: Scope, receive: Receive, limit: int = MAX_JSON_BODY) -> bytes:
    """`read_json`'s checks on a pure-ASGI request: the media type, the declared size, the size
    as the body streams in. The body's bytes, for `decode_json`."""
    content_type = declared = b""
    for name, value in scope["headers"]:  # the first of each, as Starlette's `Headers.get`
        if name == b"content-type" and not content_type:
            content_type = value or b" "
        elif name == b"content-length" and not declared:
            declared = value or b" "
    if content_type.split(b";", 1)[0].strip().lower() != b"application/json":
        raise UnsupportedMedia("send the body as application/json")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes")
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes")
        if not message.get("more_body", False):
            return body


def decode_json(body: bytes, shape: type[Shape]) -> Shape:
    """`body` decoded and validated as `shape` in one step (msgspec's typed decoder), for a
    shape made of text, lists of text and structs of those (`gateway.bodies.choices.Choice`).

    For such a shape the typed decoder refuses whatever strict JSON refuses (invalid UTF-8, lone
    surrogates, control characters; any number is the wrong type; nesting is the shape's), so
    what it takes is what `read_struct` would take. Whatever it refuses is read again the strict
    way, which names the problem as every other route does (400 for JSON, 422 for a field).
    """
    try:
        return msgspec.json.decode(body, type=shape)
    except (msgspec.DecodeError, ValueError):  # invalid UTF-8 is a ValueError
        return decode(parse_json(body), shape)


async def read_struct(request: Request, shape: type[Shape], limit: int = MAX_JSON_BODY) -> Shape:
    """The body as strict JSON decoded into `shape` (`gateway.bodies`): 422 names the bad field."""
    return decode(await read_json(request, limit), shape)


def struct_response(
    answer: msgspec.Struct, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`answer` (a struct of `gateway.bodies.answers`, whose schema `/openapi.json` shows) as
    JSON; fields left `UNSET` are left out."""
    body = msgspec.json.encode(answer)
    return Response(body, status_code, headers, media_type="application/json")


async def read_form(request: Request, limit: int = MAX_FORM_BODY) -> dict[str, str]:
    """The urlencoded fields (the last value of a repeated one), decoded as UTF-8."""
    if media_type(request) != "application/x-www-form-urlencoded":
        raise UnsupportedMedia("send the form as application/x-www-form-urlencoded")
    body = await read_body(request, limit, "the form")
    try:
        text = body.decode("utf-8")
        fields = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form is not valid UTF-8 urlencoded text") from None
    if any(not encodable(part) for pair in fields for part in pair):
        raise BadRequest("the form is not valid UTF-8 urlencoded text")
    return dict(fields)
