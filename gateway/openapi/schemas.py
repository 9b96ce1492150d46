"""The JSON shapes of the gateway's API, as OpenAPI 3.1 (JSON Schema) components.

Built from the settings, so category names are the configured ones. `gateway.openapi` puts
them together with the paths (`gateway.openapi.paths`); `tests/test_openapi.py` keeps both true to the routes.
"""

from __future__ import annotations

from typing import Any

from gateway.inputs import SUBJECT_ID_PATTERN
from gateway.receipts.model import FIELD_NAMES
from gateway.settings import Settings

Schema = dict[str, Any]
SUBJECT_PATTERN = f"^{SUBJECT_ID_PATTERN}$"
_TARGET_PATTERN = "^https?://[a-z0-9-]+(\\.[a-z0-9-]+)+(/[A-Za-z0-9._~/-]*)?$"
_PRINTABLE = "^[ -~]{1,64}$"  # what is documented; the API takes any printable text


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: Schema, required: tuple[str, ...] = (), closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _text(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _list(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


_NULLABLE_TEXT: Schema = {"type": ["string", "null"]}
_TIME = _text(format="date-time")
_COUNT = {"type": "integer", "minimum": 0}


def schemas(settings: Settings) -> dict[str, Schema]:
    category = _text(enum=list(settings.consent.categories))
    objectable = _text(
        enum=[c for c in settings.consent.categories if c != "necessary"]
        + [settings.consent.email_category]
    )
    receipt_types: dict[str, Schema] = {name: _text() for name in FIELD_NAMES}
    receipt_types.update(
        granted=_list(_text()),
        denied=_list(_text()),
        refused_vendors=_list(_text()),
        labels=_list({"type": "object"}),  # a form's boxes as shown (`gateway.forms`)
        policy_revision={"type": "integer"},
        gpc={"type": "boolean"},
        subject_kind=_text(enum=["visitor", "recipient"]),
        created_at=_TIME,
    )
    choice_fields: Schema = {
        "action": _text(enum=["accept_all", "reject_all"]),
        "granted": _list(_text()),
        "refused_vendors": _list(
            _text(), description='vendor ids refused inside the granted categories; with "granted"'
        ),
        "language": _text(maxLength=35),
        "page": _text(maxLength=2048, description="the page path; the query is dropped"),
        "source": _text(maxLength=64),
        "app": _object(
            {
                "id": _text(pattern="^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", description="bundle id"),
                "screen": _text(maxLength=64, description="a screen name; no query, no user data"),
            },
            ("id",),
            closed=True,
        ),
    }
    return {
        "Error": _object(
            {
                "error": _text(description="a short, stable code, e.g. `unprocessable`"),
                "detail": _text(description="what was wrong, for a person"),
            },
            ("error", "detail"),
        ),
        "Consent": _object(
            {
                "id": _text(description="the consent id: the visitor's subject id"),
                "revision": {"type": "integer"},
                "granted": _list(category),
                "denied": _list(category),
                "chosen_at": _TIME,
                "gpc": {"type": "boolean"},
                "refused_vendors": _list(
                    _text(), description="vendors refused inside the granted categories"
                ),
            },
            ("id", "revision", "granted", "denied", "chosen_at", "gpc", "refused_vendors"),
        ),
        "ConsentState": _object(
            {
                "consent": {"oneOf": [ref("Consent"), {"type": "null"}]},
                "revision": {"type": "integer"},
                "categories": _list(category),
            },
            ("consent", "revision", "categories"),
        ),
        "Choice": {
            **_object(choice_fields, closed=True),
            "description": 'Either "action" or "granted" (not both).',
            "oneOf": [{"required": ["action"]}, {"required": ["granted"]}],
        },
        "AddressChoice": {
            **_object(
                {
                    **choice_fields,
                    "recipient": _text(description="an email address (hashed) or an ESP id"),
                },
                ("recipient",),
                closed=True,
            ),
            "oneOf": [{"required": ["action"]}, {"required": ["granted"]}],
        },
        "ChoiceRecorded": _object(
            {
                "consent": ref("Consent"),
                "receipt_id": _text(),
                "gpc_applied": {"type": "boolean"},
                "token": _text(
                    description="only for a choice made in an `app`: the signed consent token, "
                    "sent back as `Authorization: Consent <token>` (no cookie is set)"
                ),
                "expires_in": {**_COUNT, "description": "seconds the token stays valid"},
                "delete_cookies": _list(
                    _text(), description="cookies of the vendors this choice does not allow"
                ),
            },
            ("consent", "receipt_id", "gpc_applied", "delete_cookies"),
        ),
        "BannerDetails": _object(
            {
                "texts": {"type": "object", "additionalProperties": _text()},
                "vendors": {"type": "object", "additionalProperties": {"type": "object"}},
            },
            ("texts", "vendors"),
        ),
        "Withdrawal": _object(
            {
                "withdrawn": {"const": True},
                "receipt_id": _NULLABLE_TEXT,
                "delete_cookies": _list(_text(), description="vendor cookies to delete"),
                "erased": {
                    "oneOf": [ref("ErasedCounts"), {"type": "null"}],
                    "description": "only with ?erase=1; null when there was no valid cookie",
                },
            },
            ("withdrawn", "receipt_id", "delete_cookies"),
        ),
        "Receipt": _object(receipt_types, FIELD_NAMES),
        "OwnReceipts": _object(
            {"subject_id": _NULLABLE_TEXT, "receipts": _list(ref("Receipt"))},
            ("subject_id", "receipts"),
        ),
        "SignLinks": {
            **_object(
                {
                    "campaign": _text(pattern=SUBJECT_PATTERN),
                    "recipient": {
                        "description": "an ESP id, or an address (hashed at once, never kept)",
                        "anyOf": [_text(pattern=SUBJECT_PATTERN), _text(format="email")],
                    },
                    "url": _text(pattern=_TARGET_PATTERN, maxLength=2048),
                    "urls": _list(_text(pattern=_TARGET_PATTERN, maxLength=2048), maxItems=500),
                    "sent_at": {"type": ["number", "string"], "description": "unix s or ISO"},
                },
                ("campaign", "recipient"),
                closed=True,
            ),
            "oneOf": [{"required": ["url"]}, {"required": ["urls"]}],
        },
        "SignedLinks": _object(
            {
                "subject": _text(),
                "sent_at": {"type": "integer"},
                "click_urls": _list(_text()),
                "click_url": _text(description='only when "url" was sent'),
                "open_url": _text(),
                "preferences_url": _text(),
            },
            ("subject", "sent_at", "click_urls", "open_url", "preferences_url"),
        ),
        "RecipientConsentRecorded": _object(
            {
                "subject": _text(),
                settings.consent.email_category: _text(enum=["granted", "withdrawn"]),
                "receipt_id": _text(),
            },
            ("subject", settings.consent.email_category, "receipt_id"),
        ),
        "ErasedCounts": _object(
            dict.fromkeys(("receipts", "email_events", "email_consent", "objections"), _COUNT),
            ("receipts", "email_events", "email_consent", "objections"),
        ),
        "Erasure": _object(
            {"subject_id": _text(), "erased": ref("ErasedCounts")}, ("subject_id", "erased")
        ),
        "ObjectionRequest": _object(
            {
                "categories": _list(objectable, minItems=1),
                "source": _text(pattern=_PRINTABLE, description="recorded in the receipt"),
            },
            ("categories",),
            closed=True,
        ),
        "ObjectionRecorded": _object(
            {"subject_id": _text(), "objected": _list(_text()), "receipt_id": _text()},
            ("subject_id", "objected", "receipt_id"),
        ),
        "SubjectExport": _object(
            {
                "format": _text(),
                "subject_id": _text(),
                "exported_at": _TIME,
                "erased_at": {"type": ["string", "null"], "format": "date-time"},
                "receipts": _list(ref("Receipt")),
                "email_tracking": {"type": ["object", "null"]},
                "email_events": _list({"type": "object"}),
                "objection": {"type": ["object", "null"]},
            },
            ("format", "subject_id", "exported_at", "erased_at", "receipts"),
        ),
        "Health": _object({"status": _text()}, ("status",)),
        "Readiness": _object(
            {
                "status": _text(enum=["ready", "unavailable"]),
                "reason": _text(description="why the store cannot take a write (when unavailable)"),
                "instance": _text(description="the process that answered: host:pid"),
                "store": _text(),
                "spool_depth": _COUNT,
                "forwarder": {"type": "object", "additionalProperties": _COUNT},
                "counts_lost": _COUNT,
                "email_events_dropped": _COUNT,
                "delivery": {
                    "type": "object",
                    "description": "per forwarding vendor: queue depth, oldest hit age, counters",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {"type": "number", "minimum": 0},
                    },
                },
            },
            ("status", "instance", "store", "spool_depth", "forwarder"),
        ),
    }
