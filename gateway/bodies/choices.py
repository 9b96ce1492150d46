"""What a visitor's or a recipient's choice sends: `POST /consent`, `PUT
/api/subjects/{id}/consent`, `PUT /api/recipients/consent`. The categories and vendors a choice
may name come from the configuration (`gateway.consent.choice` checks them); the rest is here."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec

from gateway.bodies.decode import Problem, Problems

BUNDLE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z"
SCREEN = r"^[\w .:/-]{0,64}\Z"
_APP = '"app" must be {"id": "<bundle id>", "screen": "<screen name>"}'
_BUNDLE = '"app.id" must be a bundle id or package name: letters, digits, ".", "_", "-"'
ACTIONS = ("accept_all", "reject_all")


def _text(limit: int, description: str = "") -> msgspec.Meta:
    return msgspec.Meta(max_length=limit, description=description or None)


class AppPoint(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Where in an app a choice was made: never a query, a deep-link or user data."""

    id: Annotated[str, msgspec.Meta(pattern=BUNDLE_ID, description="bundle id")]
    screen: Annotated[
        str, msgspec.Meta(pattern=SCREEN, description="a screen name; no query, no user data")
    ] = ""


class Choice(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Either "action" or "granted" (not both)."""

    action: Literal["accept_all", "reject_all"] | None = None
    granted: list[str] | None = None
    refused_vendors: (
        Annotated[
            list[str],
            msgspec.Meta(
                description='vendor ids refused inside the granted categories; with "granted"'
            ),
        ]
        | None
    ) = None
    language: Annotated[str, _text(35)] | None = None
    page: Annotated[str, _text(2048, "the page path; the query is dropped")] | None = None
    source: Annotated[str, _text(64)] | None = None
    app: AppPoint | None = None

    problems: ClassVar[Problems] = {
        "action": Problem("unknown action {value}", extra={"allowed_actions": list(ACTIONS)}),
        "granted": '"granted" must be a list of category names',
        "refused_vendors": '"refused_vendors" must be a list of vendor ids',
        "language": '"language" must be printable text of at most 35 characters',
        "page": '"page" must be the page path, at most 2048 characters',
        "source": '"source" must be printable text of at most 64 characters',
        "app": _APP,
        "app.id": Problem(_BUNDLE, missing=_BUNDLE),
        "app.screen": '"app.screen" must be a screen name of at most 64 letters, digits, spaces,'
        ' "._:/-"',
    }


class AddressChoice(Choice, frozen=True, kw_only=True):
    """A sign-up's choice with its address (hashed at once, never kept) or an ESP id."""

    recipient: Annotated[str, msgspec.Meta(description="an email address (hashed) or an ESP id")]

    problems: ClassVar[Problems] = {
        **Choice.problems,
        "recipient": Problem(
            '"recipient" must be an ESP id or an email address',
            missing='send "recipient" (an email address or ESP id) with the choice',
        ),
    }
