"""The document's schemas, generated from the structs the API decodes and answers with
(`gateway.bodies`) and from the receipt model — never written by hand. The configuration then
names what the code cannot know: the categories, the purposes a form may ask for, the email
category's name.

    >>> from gateway.settings import ConsentSection
    >>> schemas = components(ConsentSection(categories=("necessary", "analytics")))
    >>> schemas["ObjectionRequest"]["properties"]["categories"]["items"]["enum"]
    ['analytics', 'email_tracking']
"""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.bodies.answers import (
    ANSWERS,
    Consent,
    ConsentState,
    RecipientConsentRecorded,
    recipient_consent_recorded,
)
from gateway.bodies.choices import AddressChoice, Choice
from gateway.bodies.forms import FormRecorded, FormSubmission
from gateway.bodies.requests import ObjectionRequest, SignLinks
from gateway.forms.submission import FormPurposes
from gateway.model.receipts import Receipt
from gateway.settings import ConsentSection

Schema = dict[str, Any]
REQUESTS = (Choice, AddressChoice, SignLinks, ObjectionRequest, FormSubmission)
_TEMPLATE = "#/components/schemas/{name}"
# Either one or the other: JSON Schema says it beside the properties (`oneOf` of `required`).
_EITHER = {
    "Choice": ("action", "granted"),
    "AddressChoice": ("action", "granted"),
    "SignLinks": ("url", "urls"),
}


def components(policy: ConsentSection) -> dict[str, Schema]:
    """Every schema, its categories and purposes named as `policy` configures them."""
    # The recipient's choice is sent under the configured email category's name.
    recorded = recipient_consent_recorded(policy.email_category)
    answers = (recorded if a is RecipientConsentRecorded else a for a in ANSWERS)
    _, schemas = msgspec.json.schema_components(
        (*REQUESTS, FormRecorded, *answers, Receipt), ref_template=_TEMPLATE
    )
    for name, fields in _EITHER.items():
        schemas[name]["oneOf"] = [{"required": [field]} for field in fields]
    _receipt_as_exported(schemas["Receipt"])
    del schemas["LabelShown"]  # the model's tuple; a receipt in JSON holds objects
    for holder in ("OwnReceipts", "SubjectExport"):
        schemas[holder]["properties"]["receipts"]["items"] = {
            "$ref": _TEMPLATE.format(name="Receipt")
        }
    _name_the_configured(schemas, policy)
    return schemas


def _receipt_as_exported(receipt: Schema) -> None:
    """A receipt in JSON (`gateway.receipts.export`): an ISO time, each box shown as an object."""
    properties = receipt["properties"]
    properties["created_at"] = {"type": "string", "format": "date-time"}
    properties["labels"] = {"type": "array", "items": {"type": "object"}}
    receipt["required"] = list(properties)  # every receipt written today has every field


def _name_the_configured(schemas: dict[str, Schema], policy: ConsentSection) -> None:
    category = {"type": "string", "enum": list(policy.categories)}
    for field in ("granted", "denied"):
        schemas[Consent.__name__]["properties"][field]["items"] = category
    schemas[ConsentState.__name__]["properties"]["categories"]["items"] = category
    objectable = [c for c in policy.categories if c != "necessary"] + [policy.email_category]
    objection = schemas[ObjectionRequest.__name__]["properties"]["categories"]
    objection["items"] = {"type": "string", "enum": objectable}
    purposes = FormPurposes(policy.categories, policy.email_category).allowed
    box = schemas["PurposeBox"]["properties"]["purpose"]
    box["enum"] = sorted(purposes)


def json_schema_patterns(value: Any) -> Any:
    """Patterns as JSON Schema reads them: Python's `\\Z` (end of text) is its `$`."""
    if isinstance(value, dict):
        return {
            key: item[:-2] + "$"
            if key == "pattern" and isinstance(item, str) and item.endswith("\\Z")
            else json_schema_patterns(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [json_schema_patterns(item) for item in value]
    return value
