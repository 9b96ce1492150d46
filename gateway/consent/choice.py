"""A visitor's choice as sent to `POST /consent`, checked against the configured categories.

>>> parse_choice({"granted": ["analytics"]}, ("necessary", "analytics", "marketing")).granted
('analytics', 'necessary')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from gateway.consent.model import NECESSARY
from gateway.errors import Unprocessable
from gateway.inputs import json_object

ChoiceAction = Literal["accept_all", "reject_all", "custom"]
_KEYS = {"action", "granted", "language", "page", "source"}
_MARKETING = "marketing"


@dataclass(frozen=True, slots=True)
class Choice:
    action: ChoiceAction
    granted: tuple[str, ...]
    denied: tuple[str, ...]
    gpc_applied: bool = False  # marketing was removed because of Global Privacy Control
    language: str | None = None
    page: str = ""
    source: str = ""


def parse_choice(body: Any, categories: Sequence[str], gpc: bool = False) -> Choice:
    """Validate a choice body; `necessary` is always granted and GPC always denies marketing."""
    body = json_object(body, _KEYS)
    action, granted_list = body.get("action"), body.get("granted")
    if (action is None) == (granted_list is None):
        raise Unprocessable('send either "action" (accept_all or reject_all) or "granted"')
    chosen: set[str]
    kind: ChoiceAction
    if action is not None:
        if action not in ("accept_all", "reject_all"):
            raise Unprocessable(
                f"unknown action {action!r}", allowed_actions=["accept_all", "reject_all"]
            )
        kind = "accept_all" if action == "accept_all" else "reject_all"
        chosen = set(categories) if kind == "accept_all" else set()
    else:
        if not isinstance(granted_list, list) or not all(isinstance(c, str) for c in granted_list):
            raise Unprocessable('"granted" must be a list of category names')
        unknown_categories = sorted(set(granted_list) - set(categories))
        if unknown_categories:
            raise Unprocessable(
                f"unknown categor{'y' if len(unknown_categories) == 1 else 'ies'}: "
                f"{', '.join(unknown_categories)}",
                valid_categories=list(categories),
            )
        chosen, kind = set(granted_list), "custom"
    chosen.add(NECESSARY)
    gpc_applied = gpc and _MARKETING in chosen
    if gpc:
        chosen.discard(_MARKETING)
    return Choice(
        action=kind,
        granted=tuple(sorted(chosen)),
        denied=tuple(sorted(set(categories) - chosen)),
        gpc_applied=gpc_applied,
        language=_short_text(body, "language", 35) or None,
        page=_page_path(body.get("page")),
        source=_short_text(body, "source", 64),
    )


def _short_text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Unprocessable(f'"{key}" must be printable text of at most {limit} characters')
    return value


def _page_path(value: Any) -> str:
    """Keep only the path: a query string or fragment may carry personal data."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 2048 or not value.isprintable():
        raise Unprocessable('"page" must be the page path, at most 2048 characters')
    path = urlsplit(value).path
    return path[:512] if path.startswith("/") else ""
