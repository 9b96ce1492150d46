"""Reading request bodies: the one reader every route uses, with clear 4xx answers.

- a size cap, checked against `Content-Length` first and then while the body streams in;
- JSON that is strict: UTF-8 only, at most `MAX_JSON_DEPTH` levels deep (checked before the
  parser recurses), no `NaN`/`Infinity`, no number a double cannot hold exactly, and no lone
  surrogate (`"\\ud800"`) that would make any answer echoing it unencodable;
- urlencoded forms decoded one way (UTF-8, the last value of a repeated field).

A client that goes away mid-body raises Starlette's `ClientDisconnect`, which the
instrumentation middleware logs as one quiet 499 line.

>>> parse_json(b'{"granted": ["analytics"]}')
{'granted': ['analytics']}
>>> parse_json(b'{"n": NaN}')
Traceback (most recent call last):
gateway.errors.BadRequest: the body holds a number JSON cannot carry (NaN, Infinity or beyond ±2^53)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from gateway.errors import BadRequest, PayloadTooLarge, UnsupportedMedia

MAX_JSON_BODY = 4096
MAX_FORM_BODY = 4096
MAX_JSON_DEPTH = 32
MAX_EXACT_INTEGER = 2**53  # beyond it a JSON number loses digits in most clients
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class _BadNumber(ValueError):
    """A number the strict parser refuses."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(text)
    return value


def _exact_integer(text: str) -> int | float:
    if len(text.lstrip("-")) > 16:  # cheap guard before int(): no 4300-digit conversions
        raise _BadNumber(text)
    value = int(text)
    if abs(value) > MAX_EXACT_INTEGER:
        raise _BadNumber(text)
    return value


def _no_constant(text: str) -> Any:
    raise _BadNumber(text)


_DECODER = json.JSONDecoder(
    parse_float=_finite_float, parse_int=_exact_integer, parse_constant=_no_constant
)


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
    if any(not _encodable(part) for pair in fields for part in pair):
        raise BadRequest("the form is not valid UTF-8 urlencoded text")
    return dict(fields)


def parse_json(body: bytes, what: str = "the body") -> Any:
    """Strict JSON from bytes; `BadRequest` naming what is wrong (never echoing the input)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadRequest(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        document = _DECODER.decode(text)
    except _BadNumber:
        raise BadRequest(
            f"{what} holds a number JSON cannot carry (NaN, Infinity or beyond ±2^53)"
        ) from None
    except (ValueError, RecursionError):
        raise BadRequest(f"{what} is not valid JSON") from None
    if not _all_text_encodable(document):
        raise BadRequest(f"{what} holds a lone surrogate escape (like \\ud800)")
    return document


def json_depth(text: str) -> int:
    """How deep the brackets of `text` nest, strings aside (an upper bound for invalid JSON).

    >>> json_depth('{"a": [1, "]]]"]}')
    2
    """
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_text_encodable(value: Any) -> bool:
    # Recursion is bounded by MAX_JSON_DEPTH, checked before parsing.
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, list):
        return all(_all_text_encodable(item) for item in value)
    if isinstance(value, dict):
        return all(_encodable(key) and _all_text_encodable(item) for key, item in value.items())
    return True
