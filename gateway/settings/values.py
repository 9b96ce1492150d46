"""Parsers of one setting's value, from TOML (typed) or from an environment variable (text):
each returns the typed value or raises `TypeError` saying what was expected.

    >>> integer("42"), number(" 0.5"), boolean("off"), text_list("a, b,")
    (42, 0.5, False, ('a', 'b'))
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LANGUAGE = re.compile(r"[a-z]{2,3}")
PolicyUrls = tuple[tuple[str, str], ...]
TextTables = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def integer(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise TypeError(f"expected an integer, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def number(value: Any) -> float:
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            raise TypeError(f"expected a number, got {value!r}") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    else:
        parsed = float(value)
    if not math.isfinite(parsed):
        raise TypeError(f"expected a finite number, got {value!r}")
    return parsed


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise TypeError(f"expected true or false, got {value!r}")


def text_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(item.strip() for item in value if item.strip())
    raise TypeError(f"expected a list of strings, got {value!r}")


def lower_list(value: Any) -> tuple[str, ...]:
    return tuple(item.lower() for item in text_list(value))


def upper_list(value: Any) -> tuple[str, ...]:
    return tuple(item.upper() for item in text_list(value))


def optional_text(value: Any) -> str | None:
    return text(value).strip() or None


def path(value: Any) -> Path:
    return Path(text(value))


def optional_path(value: Any) -> Path | None:
    return Path(text(value)) if text(value).strip() else None


def choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        word = text(value).strip().lower()
        if word not in options:
            raise TypeError(f"expected one of {', '.join(options)}, got {value!r}")
        return word

    return parse


def networks(value: Any) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in text_list(value))
    except ValueError as error:
        raise TypeError(f"expected IP addresses or CIDR networks: {error}") from None


def text_tables(value: Any) -> TextTables:
    """`{"en": {"title": "…"}}` from a TOML table, or the same as JSON text in the environment."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nesting thousands deep
            raise TypeError("expected a JSON object of languages to texts") from None
    if not isinstance(value, dict) or not all(
        isinstance(texts, dict) and all(isinstance(t, str) for t in texts.values())
        for texts in value.values()
    ):
        raise TypeError("expected a table per language of text keys to strings")
    return tuple(
        (language, tuple(sorted(texts.items()))) for language, texts in sorted(value.items())
    )


def policy_urls(value: Any) -> str | PolicyUrls:
    """One URL for every language, or a table `{language: url}` (TOML `[policy_url]`, or the
    same as a JSON object in `GATEWAY_POLICY_URL`)."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise TypeError("expected a URL or a JSON object of languages to URLs") from None
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or not all(isinstance(url, str) for url in value.values()):
        raise TypeError("expected a URL, or a table of language codes to URLs")
    for language in value:
        if not LANGUAGE.fullmatch(language):
            raise TypeError(f"expected language codes such as 'en' or 'ru', got {language!r}")
    return tuple(sorted(value.items()))
