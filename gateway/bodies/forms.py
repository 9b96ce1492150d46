"""What a consent form sends (`POST /consent/forms`) and what it is answered. The purposes a
form may name come from the configuration (`gateway.forms.submission` checks them)."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from gateway.bodies.decode import Problems

FORM_ID = r"^[A-Za-z0-9._:-]{1,64}\Z"
LANGUAGE = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}\Z"
MAX_PURPOSES = 16
MAX_LABEL = 1000
MAX_PAGE = 512
MAX_ADDRESS = 254
_Language = Annotated[str, msgspec.Meta(max_length=35, pattern=LANGUAGE)]
_TAG = 'must be a language tag like "en" or "ru-RU"'


class PurposeBox(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One checkbox as the person saw it."""

    purpose: str
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LABEL, pattern=r"\S")]
    language: _Language
    ticked: bool
    initially_checked: Annotated[
        bool, msgspec.Meta(description="ticked in the HTML before the person acted: refused (422)")
    ]


class FormSubmission(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    form: Annotated[str, msgspec.Meta(pattern=FORM_ID)]
    page: Annotated[str, msgspec.Meta(pattern="^/", max_length=MAX_PAGE)]
    policy_revision: Annotated[int, msgspec.Meta(ge=1)]
    language: _Language
    purposes: Annotated[list[PurposeBox], msgspec.Meta(min_length=1, max_length=MAX_PURPOSES)]
    email: Annotated[str, msgspec.Meta(max_length=MAX_ADDRESS)] | None = None
    honeypot: Annotated[str, msgspec.Meta(description="a hidden field: empty")] = ""

    problems: ClassVar[Problems] = {
        "form": '"form" must be 1 to 64 letters, digits or "._:-"',
        "page": f'"page" must be a path starting with "/" (at most {MAX_PAGE})',
        "policy_revision": '"policy_revision" must be an integer ≥ 1',
        "language": f'"language" {_TAG}',
        "email": '"email" must be an email address',
        "honeypot": '"honeypot" must be a string',
        "purposes": f'"purposes" must be a list of 1 to {MAX_PURPOSES} checkboxes',
        "purposes[].purpose": "{where}: unknown purpose {value}",
        "purposes[].label": f'{{where}}: "label" must be the text shown (1 to {MAX_LABEL})',
        "purposes[].language": f"{{where}}.language {_TAG}",
        "purposes[].ticked": '{where}: "ticked" and "initially_checked" must be true or false',
        "purposes[].initially_checked": (
            '{where}: "ticked" and "initially_checked" must be true or false'
        ),
    }


class FormRecorded(msgspec.Struct, frozen=True):
    receipt_id: str | None
    subject_id: str | None
    granted: list[str]
    denied: list[str]
    awaiting_confirmation: list[str]
