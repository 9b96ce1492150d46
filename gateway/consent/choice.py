"""A visitor's choice as sent to `POST /consent`, checked against the configured categories.

>>> parse_choice({"granted": ["analytics"]}, ("necessary", "analytics", "marketing")).granted
('analytics', 'necessary')

Vendor-level refusals go with `granted`: `{"granted": ["analytics"], "refused_vendors": ["ga4"]}`
grants analytics for every analytics vendor but GA4. A refusal of a vendor whose category is
not granted anyway is dropped (the category refusal already covers it).

>>> parse_choice({"granted": ["analytics"], "refused_vendors": ["ga4", "meta_pixel"]},
...              ("necessary", "analytics", "marketing"),
...              vendors={"ga4": "analytics", "meta_pixel": "marketing"}).refused_vendors
('ga4',)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from gateway.consent.model import NECESSARY
from gateway.errors import Unprocessable
from gateway.inputs import json_object

ChoiceAction = Literal["accept_all", "reject_all", "custom"]
_KEYS = {"action", "granted", "refused_vendors", "language", "page", "source", "app"}
_APP_KEYS = {"id", "screen"}
_MARKETING = "marketing"
_BUNDLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SCREEN = re.compile(r"[\w .:/-]{1,64}")


@dataclass(frozen=True, slots=True)
class AppPoint:
    """Where in an app a choice was made: the bundle id / package name and a screen name —
    never a query, a deep-link or user data (the form of both is checked)."""

    bundle_id: str
    screen: str = ""

    @property
    def collection_point(self) -> str:
        """`app://com.example.shop/Onboarding`, the app's counterpart of origin + path."""
        return f"app://{self.bundle_id}/{self.screen}".rstrip("/")


@dataclass(frozen=True, slots=True)
class Choice:
    action: ChoiceAction
    granted: tuple[str, ...]
    denied: tuple[str, ...]
    gpc_applied: bool = False  # marketing was removed because of Global Privacy Control
    refused_vendors: tuple[str, ...] = ()  # vendors refused inside the granted categories
    language: str | None = None
    page: str = ""
    source: str = ""
    app: AppPoint | None = None  # made in an app: the token travels in the body, not a cookie


def parse_choice(
    body: Any,
    categories: Sequence[str],
    gpc: bool = False,
    vendors: Mapping[str, str] | None = None,
) -> Choice:
    """Validate a choice body; `necessary` is always granted and GPC always denies marketing.

    `vendors` maps each vendor a visitor may refuse (id) to its category.
    """
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
    refused = _refused_vendors(body.get("refused_vendors"), vendors or {}, action is not None)
    return Choice(
        action=kind,
        refused_vendors=tuple(sorted(v for v in refused if (vendors or {})[v] in chosen)),
        granted=tuple(sorted(chosen)),
        denied=tuple(sorted(set(categories) - chosen)),
        gpc_applied=gpc_applied,
        language=_short_text(body, "language", 35) or None,
        page=_page_path(body.get("page")),
        source=_short_text(body, "source", 64),
        app=_app_point(body.get("app")),
    )


def _refused_vendors(value: Any, vendors: Mapping[str, str], with_action: bool) -> set[str]:
    if value is None:
        return set()
    if with_action:
        raise Unprocessable('"refused_vendors" goes with "granted", not with "action"')
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unprocessable('"refused_vendors" must be a list of vendor ids')
    unknown = sorted(set(value) - set(vendors))
    if unknown:
        raise Unprocessable(
            f"unknown vendor{'' if len(unknown) == 1 else 's'}: {', '.join(unknown)}",
            valid_vendors=sorted(vendors),
        )
    return set(value)


def _short_text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Unprocessable(f'"{key}" must be printable text of at most {limit} characters')
    return value


def _app_point(value: Any) -> AppPoint | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - _APP_KEYS:
        raise Unprocessable('"app" must be {"id": "<bundle id>", "screen": "<screen name>"}')
    bundle_id, screen = value.get("id"), value.get("screen", "")
    if not (isinstance(bundle_id, str) and _BUNDLE_ID.fullmatch(bundle_id)):
        raise Unprocessable(
            '"app.id" must be a bundle id or package name: letters, digits, ".", "_", "-"'
        )
    if not (isinstance(screen, str) and (screen == "" or _SCREEN.fullmatch(screen))):
        raise Unprocessable(
            '"app.screen" must be a screen name of at most 64 letters, digits, spaces, "._:/-"'
        )
    return AppPoint(bundle_id, screen.strip(" /"))


def _page_path(value: Any) -> str:
    """Keep only the path: a query string or fragment may carry personal data."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 2048 or not value.isprintable():
        raise Unprocessable('"page" must be the page path, at most 2048 characters')
    try:
        path = urlsplit(value).path
    except ValueError:  # urlsplit refuses an unbalanced "[" in the host: keep no path
        return ""
    return path[:512] if path.startswith("/") else ""
