"""What the gateway's JSON API answers, declared once: `/openapi.json` describes these shapes
(category names are filled in from the configuration there). Fields that an answer may leave
out are `UNSET`; `null` is said where it is meant."""

from __future__ import annotations

import functools
from typing import Annotated, Any, ClassVar, Literal, cast

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

Count = Annotated[int, Meta(ge=0)]
Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]


def _said(description: str) -> Meta:
    return Meta(description=description)


class Error(Struct, frozen=True):
    """Every refusal: a short code and what was wrong (some add the valid values)."""

    error: Annotated[str, _said("a short, stable code, e.g. `unprocessable`")]
    detail: Annotated[str, _said("what was wrong, for a person")]


class Consent(Struct, frozen=True):
    id: Annotated[str, _said("the consent id: the visitor's subject id")]
    revision: int
    granted: list[str]  # the configured categories (filled in by gateway.openapi)
    denied: list[str]
    chosen_at: Time
    gpc: bool
    refused_vendors: Annotated[list[str], _said("vendors refused inside the granted categories")]


class ConsentState(Struct, frozen=True):
    consent: Consent | None
    revision: int
    categories: list[str]


class ChoiceRecorded(Struct, frozen=True):
    consent: Consent
    receipt_id: str
    gpc_applied: bool
    delete_cookies: Annotated[list[str], _said("cookies of the vendors this choice does not allow")]
    token: (
        Annotated[
            str,
            _said(
                "only for a choice made in an `app`: the signed consent token, sent back as"
                " `Authorization: Consent <token>` (no cookie is set)"
            ),
        ]
        | UnsetType
    ) = UNSET
    expires_in: Annotated[Count, _said("seconds the token stays valid")] | UnsetType = UNSET


class BannerDetails(Struct, frozen=True):
    texts: dict[str, str]
    vendors: dict[str, dict[str, Any]]


class ErasedCounts(Struct, frozen=True):
    receipts: Count
    email_events: Count
    email_consent: Count
    objections: Count


class Withdrawal(Struct, frozen=True):
    withdrawn: Literal[True]
    receipt_id: str | None
    delete_cookies: Annotated[list[str], _said("vendor cookies to delete")]
    erased: (
        Annotated[
            ErasedCounts | None, _said("only with ?erase=1; null when there was no valid cookie")
        ]
        | UnsetType
    ) = UNSET


class OwnReceipts(Struct, frozen=True):
    subject_id: str | None
    receipts: list[dict[str, Any]]  # each a `Receipt` (gateway.openapi fills in its fields)


class SignedLinks(Struct, frozen=True):
    subject: str
    sent_at: int
    click_urls: list[str]
    open_url: str
    preferences_url: str
    click_url: Annotated[str, _said('only when "url" was sent')] | UnsetType = UNSET


class RecipientConsentRecorded(Struct, frozen=True):
    """The recipient's email-tracking choice, under the configured email category's name."""

    subject: str
    email_tracking: Literal["granted", "withdrawn"]
    receipt_id: str

    email_category_field: ClassVar[str] = "email_tracking"


@functools.cache  # one class per configured name: a handful at most
def recipient_consent_recorded(email_category: str) -> type[RecipientConsentRecorded]:
    """`RecipientConsentRecorded` whose choice is sent under `email_category`, the configured
    name (`/openapi.json` renames the field the same way)."""
    fields = [
        (field.name, field.type) for field in msgspec.structs.fields(RecipientConsentRecorded)
    ]
    shape = msgspec.defstruct(
        RecipientConsentRecorded.__name__,
        fields,
        bases=(RecipientConsentRecorded,),
        rename={RecipientConsentRecorded.email_category_field: email_category},
        frozen=True,
    )
    shape.__doc__ = RecipientConsentRecorded.__doc__  # the schema's description
    return cast("type[RecipientConsentRecorded]", shape)


class Erasure(Struct, frozen=True):
    subject_id: str
    erased: ErasedCounts


class ObjectionRecorded(Struct, frozen=True):
    subject_id: str
    objected: list[str]
    receipt_id: str


class SubjectExport(Struct, frozen=True):
    format: str
    subject_id: str
    exported_at: Time
    erased_at: Annotated[str | None, Meta(extra_json_schema={"format": "date-time"})]
    receipts: list[dict[str, Any]]  # each a `Receipt`
    email_tracking: dict[str, Any] | UnsetType | None = UNSET
    email_events: list[dict[str, Any]] | UnsetType = UNSET
    objection: dict[str, Any] | UnsetType | None = UNSET


class Health(Struct, frozen=True):
    status: str


class OptInMails(Struct, frozen=True):
    """This process's double opt-in mails (`gateway.forms.outbox`)."""

    waiting: Count
    sent: Count
    failed: Count
    dropped: Count


class Readiness(Struct, frozen=True, kw_only=True):
    status: Literal["ready", "unavailable"]
    reason: Annotated[str, _said("why the store cannot take a write (when unavailable)")] | (
        UnsetType
    ) = UNSET
    instance: Annotated[str, _said("the process that answered: host:pid")]
    store: str
    spool_depth: Count
    forwarder: dict[str, Count]
    counts_lost: Count
    email_events_dropped: Count
    opt_in_mails: OptInMails
    delivery: Annotated[
        dict[str, dict[str, Annotated[float, Meta(ge=0)]]],
        _said("per forwarding vendor: queue depth, oldest hit age, counters"),
    ]
    archive: (
        Annotated[
            dict[str, Any],
            _said("with a PostgreSQL archive: whether it answers (`status`, `reason`), its lag"),
        ]
        | UnsetType
    ) = UNSET


ANSWERS: tuple[type[msgspec.Struct], ...] = (
    Error,
    ConsentState,
    ChoiceRecorded,
    BannerDetails,
    Withdrawal,
    OwnReceipts,
    SignedLinks,
    RecipientConsentRecorded,
    Erasure,
    ObjectionRecorded,
    SubjectExport,
    Health,
    Readiness,
)
