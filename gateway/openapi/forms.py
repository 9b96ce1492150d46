"""The operations and bodies of form consent (`gateway.forms`), as OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

from gateway.forms.submission import (
    MAX_ADDRESS,
    MAX_LABEL,
    MAX_PAGE,
    MAX_PURPOSES,
    FormPurposes,
)
from gateway.openapi.schemas import Schema, ref
from gateway.settings import Settings

_HTML = {"description": "A page", "content": {"text/html": {"schema": {}}}}
_TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "a signed link from a confirmation mail or a newsletter",
    "schema": {"type": "string"},
}
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "page language",
    "schema": {"type": "string", "enum": ["en", "ru"]},
}


def _error(description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> Schema:
    return {"summary": summary, "tags": ["forms"], "responses": responses, **extra}


def form_schemas(settings: Settings) -> dict[str, Schema]:
    purposes = sorted(
        FormPurposes(settings.consent.categories, settings.consent.email_category).allowed
    )
    language = {"type": "string", "maxLength": 35, "pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"}
    box = {
        "type": "object",
        "properties": {
            "purpose": {"type": "string", "enum": purposes},
            "label": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL},
            "language": language,
            "ticked": {"type": "boolean"},
            "initially_checked": {
                "type": "boolean",
                "description": "ticked in the HTML before the person acted: refused (422)",
            },
        },
        "required": ["purpose", "label", "language", "ticked", "initially_checked"],
        "additionalProperties": False,
    }
    texts = {"type": "array", "items": {"type": "string"}}
    return {
        "FormSubmission": {
            "type": "object",
            "properties": {
                "form": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
                "page": {"type": "string", "pattern": "^/", "maxLength": MAX_PAGE},
                "policy_revision": {"type": "integer", "minimum": 1},
                "language": language,
                "email": {"type": "string", "maxLength": MAX_ADDRESS},
                "honeypot": {"type": "string", "description": "a hidden field: empty"},
                "purposes": {
                    "type": "array",
                    "items": box,
                    "minItems": 1,
                    "maxItems": MAX_PURPOSES,
                },
            },
            "required": ["form", "page", "policy_revision", "language", "purposes"],
            "additionalProperties": False,
        },
        "FormRecorded": {
            "type": "object",
            "properties": {
                "receipt_id": {"type": ["string", "null"]},
                "subject_id": {"type": ["string", "null"]},
                "granted": texts,
                "denied": texts,
                "awaiting_confirmation": texts,
            },
            "required": ["receipt_id", "subject_id", "granted", "denied", "awaiting_confirmation"],
        },
    }


def forms_paths() -> dict[str, Schema]:
    unsubscribe_form = {
        "type": "object",
        "properties": {
            "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
            "from": {"type": "string", "enum": ["page"]},
            "lang": {"type": "string", "enum": ["en", "ru"]},
        },
    }
    return {
        "/consent/forms": {
            "post": _op(
                "Record a consent form: each box as shown, ticked or not (allowed origins)",
                {
                    "201": {
                        "description": "Recorded",
                        "content": {"application/json": {"schema": ref("FormRecorded")}},
                    },
                    "200": {
                        "description": "Answered, not recorded (the honeypot was filled)",
                        "content": {"application/json": {"schema": ref("FormRecorded")}},
                    },
                    "400": _error("Malformed JSON"),
                    "403": _error("Not an allowed origin"),
                    "409": _error("The page shows another policy revision"),
                    "413": _error("Body too large"),
                    "415": _error("Not JSON"),
                    "422": _error("Invalid: a pre-ticked box, a bad address, an unknown purpose"),
                    "429": _error("Too many confirmation mails for the address or network"),
                    "503": _error("The store is unreachable"),
                },
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": ref("FormSubmission")}},
                },
            )
        },
        "/consent-forms.js": {
            "get": _op(
                "The form-consent script (loaded by pages with a consent form)",
                {"200": {"description": "The script", "content": {"text/javascript": {}}}},
            )
        },
        "/f/{token}": {
            "parameters": [_TOKEN],
            "get": _op(
                "The double opt-in page: a button that confirms (a GET changes nothing)",
                {"200": _HTML, "404": _HTML, "410": _HTML},
                parameters=[_LANG],
            ),
            "post": _op(
                "Confirm: grants the link's purposes once (a receipt)",
                {
                    "200": _HTML,
                    "403": _error("Not from the page itself"),
                    "404": _HTML,
                    "409": _HTML,
                    "410": _HTML,
                    "503": _error("The store is unreachable"),
                },
                parameters=[_LANG],
            ),
        },
        "/u/{token}": {
            "parameters": [_TOKEN],
            "get": _op(
                "The unsubscribe page, in the recipient's language (a GET changes nothing)",
                {"200": _HTML, "404": _HTML},
                parameters=[_LANG, {**_LANG, "name": "done", "schema": {"type": "string"}}],
            ),
            "post": _op(
                "Unsubscribe (RFC 8058 one-click, or the page's button): a receipt, no cookie",
                {
                    "200": {"description": "Unsubscribed (one-click: an empty answer)"},
                    "303": {"description": "Unsubscribed from the page: back to it"},
                    "403": _error("Not from the page itself"),
                    "404": {"description": "Not a valid link"},
                    "413": _error("Body too large"),
                    "503": _error("The store is unreachable"),
                },
                requestBody={
                    "content": {"application/x-www-form-urlencoded": {"schema": unsubscribe_form}}
                },
            ),
        },
    }
