"""Answers as bytes: the status, raw headers and body a pure-ASGI route sends, and the one
mapping of a `ClientError` to its JSON answer (the Starlette exception handlers render the
same parts, so an error reads alike on every route).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from gateway.bodies.answers import Error
from gateway.errors import ClientError

RawHeaders = list[tuple[bytes, bytes]]
Answer = tuple[int, RawHeaders, bytes]  # status, headers, body


def raw_headers(headers: Mapping[str, str], body: bytes | None = None) -> RawHeaders:
    """`headers` as ASGI spells them; with `body`, its Content-Length too."""
    raw = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    if body is not None:
        raw.append((b"content-length", str(len(body)).encode()))
    return raw


def json_bytes(value: Any) -> bytes:
    """JSON exactly as Starlette's `JSONResponse` renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def json_answer(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Answer:
    body = json_bytes(value)
    named = {**(headers or {}), "Content-Type": "application/json"}
    return status, raw_headers(named, body), body


def struct_answer(
    status: int, answer: msgspec.Struct, headers: Mapping[str, str] | None = None
) -> Answer:
    """`answer` (a struct of `gateway.bodies.answers`) as JSON; `UNSET` fields left out."""
    body = msgspec.json.encode(answer)
    named = {**(headers or {}), "Content-Type": "application/json"}
    return status, raw_headers(named, body), body


def client_error_parts(error: ClientError) -> tuple[int, Any, dict[str, str]]:
    """Status, JSON body and headers of a client error, on every kind of route."""
    return error.status, encodable(error.body()), error.headers()


def client_error_answer(error: ClientError) -> Answer:
    status, body, headers = client_error_parts(error)
    return json_answer(status, body, headers)


def method_not_allowed(methods: Iterable[str]) -> Answer:
    """Starlette's 405 body, with the methods the route takes."""
    allow = ", ".join(methods)
    return struct_answer(405, Error("method_not_allowed", "Method Not Allowed"), {"Allow": allow})


NOT_FOUND: Answer = struct_answer(404, Error("not_found", "Not Found"))


def encodable(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD: an error message may quote what
    the client sent, and a surrogate would make the answer itself fail to encode."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [encodable(item) for item in value]
    if isinstance(value, dict):
        return {encodable(key): encodable(item) for key, item in value.items()}
    return value
