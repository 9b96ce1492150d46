"""The admin API's request bodies: signing an email's links (`POST /api/links`) and recording
an objection (`POST /api/subjects/{id}/objection`). What they name (campaigns, targets and how
many, categories) is checked by the email and rights code, which the CLI shares: the schema
says it with their limits."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from gateway.bodies.decode import Problem, Problems
from gateway.inputs import SUBJECT_ID_PATTERN
from gateway.model.link_limits import MAX_LINKS, MAX_TARGET_LENGTH

SUBJECT = rf"^{SUBJECT_ID_PATTERN}\Z"
TARGET = r"^https?://[a-z0-9-]+(\.[a-z0-9-]+)+(/[A-Za-z0-9._~/-]*)?\Z"  # what is documented
_MOMENT = '"sent_at" must be an ISO date or time from 1970 on, like 2026-01-31 or 2026-01-31T12:00:00Z, or unix seconds'
_URLS = '"urls" must be a list of URLs'
_CAMPAIGN = '"campaign" must be 1 to 64 letters, digits or "._:-"'
_RECIPIENT = '"recipient" must be an ESP id or an email address'
_CATEGORIES = '"categories" must be a list of category names'
_Target = Annotated[  # checked by gateway.email.targets, with its own words
    str, msgspec.Meta(extra_json_schema={"maxLength": MAX_TARGET_LENGTH, "pattern": TARGET})
]


class SignLinks(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One email's links to sign: either "url" or "urls"."""

    campaign: Annotated[str, msgspec.Meta(extra_json_schema={"pattern": SUBJECT})]
    recipient: Annotated[
        str,
        msgspec.Meta(
            description="an ESP id, or an address (hashed at once, never kept)",
            extra_json_schema={"anyOf": [{"pattern": SUBJECT}, {"format": "email"}]},
        ),
    ]
    url: _Target | None = None
    urls: (
        Annotated[list[_Target], msgspec.Meta(extra_json_schema={"maxItems": MAX_LINKS})] | None
    ) = None
    sent_at: Annotated[float | str, msgspec.Meta(description="unix s or ISO")] | None = None

    problems: ClassVar[Problems] = {
        "campaign": Problem(_CAMPAIGN, missing=_CAMPAIGN),
        "recipient": Problem(_RECIPIENT, missing=_RECIPIENT),
        "url": _URLS,
        "urls": _URLS,
        "sent_at": _MOMENT,
    }


class ObjectionRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The categories a subject objects to, and where the objection came from."""

    # At least one: `gateway.rights` says which categories can be objected to when none is.
    categories: Annotated[list[str], msgspec.Meta(extra_json_schema={"minItems": 1})]
    source: Annotated[
        str, msgspec.Meta(min_length=1, max_length=64, description="recorded in the receipt")
    ] = "api"

    problems: ClassVar[Problems] = {
        "categories": Problem(_CATEGORIES, missing=_CATEGORIES),
        "source": '"source" must be printable text of 1 to 64 characters',
    }
