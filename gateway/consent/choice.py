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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from gateway.bodies.choices import Choice as ChoiceBody
from gateway.bodies.decode import decode
from gateway.consent.model import NECESSARY
from gateway.errors import Unprocessable

ChoiceAction = Literal["accept_all", "reject_all", "custom"]
_MARKETING = "marketing"


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
    """Validate a choice body (parsed JSON, or a decoded `bodies.Choice`); `necessary` is always
    granted and GPC always denies marketing.

    `vendors` maps each vendor a visitor may refuse (id) to its category.
    """
    sent = body if isinstance(body, ChoiceBody) else decode(body, ChoiceBody)
    if (sent.action is None) == (sent.granted is None):
        raise Unprocessable('send either "action" (accept_all or reject_all) or "granted"')
    chosen: set[str]
    kind: ChoiceAction
    if sent.action is not None:
        kind = sent.action
        chosen = set(categories) if kind == "accept_all" else set()
    else:
        assert sent.granted is not None
        unknown_categories = sorted(set(sent.granted) - set(categories))
        if unknown_categories:
            raise Unprocessable(
                f"unknown categor{'y' if len(unknown_categories) == 1 else 'ies'}: "
                f"{', '.join(unknown_categories)}",
                valid_categories=list(categories),
            )
        chosen, kind = set(sent.granted), "custom"
    chosen.add(NECESSARY)
    gpc_applied = gpc and _MARKETING in chosen
    if gpc:
        chosen.discard(_MARKETING)
    refused = _refused_vendors(sent.refused_vendors, vendors or {}, sent.action is not None)
    return Choice(
        action=kind,
        refused_vendors=tuple(sorted(v for v in refused if (vendors or {})[v] in chosen)),
        granted=tuple(sorted(chosen)),
        denied=tuple(sorted(set(categories) - chosen)),
        gpc_applied=gpc_applied,
        language=_printable(sent.language, "language") or None,
        page=_page_path(_printable(sent.page, "page")),
        source=_printable(sent.source, "source"),
        app=AppPoint(sent.app.id, sent.app.screen.strip(" /")) if sent.app else None,
    )


def _refused_vendors(
    value: list[str] | None, vendors: Mapping[str, str], with_action: bool
) -> set[str]:
    if value is None:
        return set()
    if with_action:
        raise Unprocessable('"refused_vendors" goes with "granted", not with "action"')
    unknown = sorted(set(value) - set(vendors))
    if unknown:
        raise Unprocessable(
            f"unknown vendor{'' if len(unknown) == 1 else 's'}: {', '.join(unknown)}",
            valid_vendors=sorted(vendors),
        )
    return set(value)


def _printable(value: str | None, key: str) -> str:
    """JSON Schema cannot say "printable": the one check the body's declaration leaves to us."""
    if value is not None and not value.isprintable():
        message = ChoiceBody.problems[key]
        assert isinstance(message, str)
        raise Unprocessable(message)
    return value or ""


def _page_path(value: str) -> str:
    """Keep only the path: a query string or fragment may carry personal data."""
    if not value:
        return ""
    try:
        path = urlsplit(value).path
    except ValueError:  # urlsplit refuses an unbalanced "[" in the host: keep no path
        return ""
    return path[:512] if path.startswith("/") else ""
