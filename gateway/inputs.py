"""Checks of values that arrive from outside a JSON body — a path, a query string, a
form, the CLI — one function per kind, each answering `Unprocessable` (422) with one message for
bad input. JSON bodies are declared and checked in `gateway.bodies`.

    >>> checked_subject("esp-42")
    'esp-42'
    >>> checked_moment("2026-01-31", "since")
    1769817600.0
    >>> checked_moment("yesterday", "since")
    Traceback (most recent call last):
    ...
    gateway.errors.Unprocessable: "since" must be an ISO date or time from 1970 on, like 2026-01-31 or 2026-01-31T12:00:00Z

A bad value is a 422 everywhere (the API, the dashboard's CSV, the email API); only a body
that is not JSON at all is a 400.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from gateway.errors import Unprocessable

# A subject is a visitor's consent id or a recipient id (an ESP id, or the keyed hash of an
# address): never an address. The OpenAPI document uses the same pattern.
SUBJECT_ID_PATTERN = r"[A-Za-z0-9._:-]{1,64}"
_SUBJECT = re.compile(SUBJECT_ID_PATTERN)
SUBJECT_RULE = (
    'a subject id is 1 to 64 letters, digits or "._:-": a consent id or a recipient id'
    " (an ESP id, or the subject POST /api/links returns for an address)"
)
LAST_MOMENT = 253_402_300_799.0  # 9999-12-31T23:59:59Z


def is_subject(value: object) -> bool:
    return isinstance(value, str) and _SUBJECT.fullmatch(value) is not None


def checked_subject(value: object) -> str:
    """`value` if it can be a subject id."""
    if not is_subject(value):
        raise Unprocessable(SUBJECT_RULE)
    assert isinstance(value, str)
    return value


def parse_moment(text: str) -> float:
    """`2026-01-31` or `2026-01-31T12:00:00+00:00` (UTC when no zone), from 1970 to 9999, →
    unix seconds; `ValueError` otherwise (the CLI's form of `checked_moment`).

    >>> parse_moment("2026-01-31T12:00:00Z")
    1769860800.0
    """
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    except (ValueError, OverflowError):
        raise ValueError(f"expected an ISO date or time, got {text!r}") from None
    if not 0 <= seconds <= LAST_MOMENT:
        raise ValueError(f"expected an ISO date or time from 1970 on, got {text!r}")
    return seconds


def checked_moment(value: object, name: str, *, unix_seconds: bool = False) -> float | None:
    """The moment in `value` (an ISO date or time; or unix seconds where `unix_seconds`), or
    None when it is absent or empty."""
    if value is None or value == "":
        return None
    if unix_seconds and isinstance(value, int | float) and not isinstance(value, bool):
        if 0 <= value <= LAST_MOMENT:
            return float(value)
    elif isinstance(value, str):
        try:
            return parse_moment(value)
        except ValueError:
            pass
    raise Unprocessable(
        f'"{name}" must be an ISO date or time from 1970 on, like 2026-01-31 or'
        " 2026-01-31T12:00:00Z" + (", or unix seconds" if unix_seconds else "")
    )
