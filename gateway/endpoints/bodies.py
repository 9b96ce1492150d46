"""Reading request bodies safely: a size cap, JSON only, and clear 4xx answers."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMedia

MAX_JSON_BODY = 4096


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
    if media_type(request) != "application/json":
        raise UnsupportedMedia("send the body as application/json")
    body = await read_body(request, limit)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
