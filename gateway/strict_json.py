"""Strict JSON, as every body and setting the gateway reads must be: UTF-8 only, at most
`MAX_JSON_DEPTH` levels deep (checked before the parser recurses), no `NaN`/`Infinity`, no number
a double cannot hold exactly, and no lone surrogate (`"\\ud800"`) that would make any answer
echoing it unencodable. No HTTP here: `gateway.endpoints.bodies` reads requests with it, and
`gateway.tracking.bodies` reads hit bodies.

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

from gateway.errors import BadRequest

MAX_JSON_DEPTH = 32
MAX_EXACT_INTEGER = 2**53  # beyond it a JSON number loses digits in most clients
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class _BadNumber(BadRequest):
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


def encodable(text: str) -> bool:
    """Whether `text` encodes as UTF-8 (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_text_encodable(value: Any) -> bool:
    # Recursion is bounded by MAX_JSON_DEPTH, checked before parsing.
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return all(_all_text_encodable(item) for item in value)
    if isinstance(value, dict):
        return all(encodable(key) and _all_text_encodable(item) for key, item in value.items())
    return True
