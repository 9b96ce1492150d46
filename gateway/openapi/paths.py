"""The operations of every route, by URL family, as OpenAPI 3.1 path items."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.openapi.schemas import SUBJECT_PATTERN, Schema, ref
from gateway.settings import Settings

_REASONS = {
    400: "Malformed input",
    401: "Missing or wrong admin token",
    403: "Refused: the origin, the admin API being closed, the address or an expired form",
    404: "Not found",
    413: "Body too large",
    415: "Wrong content type",
    422: "Well-formed but invalid",
    429: "Too many failed admin attempts",
    503: "The store is unreachable",
}
_ADMIN_API = (401, 403, 429)
_ADMIN_PAGES = {
    ("/admin", "get"): "The dashboard (`?days=7|14|30`), or a redirect to the login",
    ("/admin/login", "get"): "The login form",
    ("/admin/login", "post"): "Log in with an admin token: sets the session cookie",
    ("/admin/logout", "post"): "End the session",
    ("/admin/receipts.csv", "get"): "Every receipt as CSV (`?since=&until=`), streamed",
    ("/admin/subject", "post"): "Look a subject up",
    ("/admin/subject/export", "post"): "Download what is held about a subject (JSON)",
    ("/admin/subject/erase", "post"): "Confirm, then (with `confirmed=yes`) erase a subject",
}


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(media_type: str, description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "content": {media_type: {"schema": schema or {}}}}


def _errors(*codes: int) -> dict[str, Schema]:
    return {str(code): _json(_REASONS[code], ref("Error")) for code in codes}


def _op(summary: str, tag: str, responses: Mapping[str, Schema], **extra: Any) -> Schema:
    return {"summary": summary, "tags": [tag], "responses": dict(responses), **extra}


def _param(name: str, where: str, description: str, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _request(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# Consent is optional: no token at all is "no consent", never an error.
_CONSENT: Schema = {"security": [{}, {"consentCookie": []}, {"consentToken": []}]}
_GIF = _body("image/gif", "The 43-byte transparent GIF (`Cache-Control: no-store`)")
_HTML = _body("text/html", "A page")
_REDIRECT = {"description": "A redirect (`Location`)"}
_TOKEN = _param("token", "path", "a signed email token")
_SUBJECT = _param("subject", "path", "a consent id or a recipient id", pattern=SUBJECT_PATTERN)
_BEARER: list[Schema] = [{"adminToken": []}]
_SESSION: list[Schema] = [{"adminSession": []}]


def consent_paths(settings: Settings, vendors: list[str]) -> dict[str, Schema]:
    choice_errors = _errors(400, 403, 413, 415, 422)
    return {
        "/consent.js": {
            "get": _op(
                "The banner script, with this site's config",
                "banner",
                {"200": _body("text/javascript", "The script"), "304": {"description": "Fresh"}},
            )
        },
        "/consent.css": {
            "get": _op(
                "The banner stylesheet",
                "banner",
                {"200": _body("text/css", "The stylesheet"), "304": {"description": "Fresh"}},
            )
        },
        "/consent-lazy.js": {
            "get": _op(
                "The banner's lazy part: the preferences list, embed placeholders, notices",
                "banner",
                {"200": _body("text/javascript", "The script"), "304": {"description": "Fresh"}},
            )
        },
        "/consent-lazy.css": {
            "get": _op(
                "The stylesheet of the banner's lazy part",
                "banner",
                {"200": _body("text/css", "The stylesheet"), "304": {"description": "Fresh"}},
            )
        },
        "/consent/details": {
            "get": _op(
                "The banner's preferences layer: its texts and the vendors' details, per language",
                "banner",
                {"200": _json("Details", ref("BannerDetails")), "304": {"description": "Fresh"}},
                parameters=[_param("lang", "query", "a language; others get English")],
            )
        },
        "/consent": {
            "get": _op(
                "The caller's current consent (from the cookie or the app's token)",
                "consent",
                {"200": _json("The state", ref("ConsentState")), **_errors(403)},
                **_CONSENT,
            ),
            "post": _op(
                "Record a choice: writes a receipt, sets the cookie (an `app` gets a token)",
                "consent",
                {"200": _json("Recorded", ref("ChoiceRecorded")), **choice_errors},
                requestBody=_request(ref("Choice")),
                **_CONSENT,
            ),
            "delete": _op(
                "Withdraw; with `erase=1`, withdraw and erase everything held under the cookie",
                "consent",
                {"200": _json("Withdrawn", ref("Withdrawal")), **_errors(403, 422, 503)},
                parameters=[
                    _param("erase", "query", "1: also erase", enum=["0", "1", "false", "true"])
                ],
                **_CONSENT,
            ),
        },
        "/consent/receipts": {
            "get": _op(
                "The caller's own receipts (self-service access)",
                "consent",
                {"200": _json("Receipts", ref("OwnReceipts")), **_errors(403, 503)},
                **_CONSENT,
            )
        },
        "/t/{vendor}": _tracking(vendors),
        # The sub-paths the vendor's own client appends, as its rule declares (`/g/collect`).
        "/t/{vendor}/{sub_path}": _tracking(vendors, sub_path=True),
    }


def _tracking(vendors: list[str], *, sub_path: bool = False) -> Schema:
    parameters = [_param("vendor", "path", "a tag rule id", enum=vendors)]
    if sub_path:
        parameters.append(_param("sub_path", "path", "a path the rule declares in `paths`"))
    parameters.append(
        _param(
            "App-Tracking",
            "header",
            "an app's platform signal (iOS ATT status, Android ad-ID opt-out); anything but "
            "`authorized` is an opt-out of marketing, like GPC",
        )
    )
    return {
        "parameters": parameters,
        "get": _op(
            "An analytics hit or pixel, decided by consent",
            "tracking",
            {"200": _GIF, "302": _REDIRECT, **_errors(403, 404)},
            **_CONSENT,
        ),
        "post": _op(
            "Analytics hits in the body, in the shapes the rule declares (form, JSON whatever "
            "the Content-Type, one query string a line, Matomo bulk requests)",
            "tracking",
            {"204": {"description": "Taken"}, "303": _REDIRECT, **_errors(400, 403, 404, 413)},
            requestBody={
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                    "application/json": {"schema": {"type": "object"}},
                }
            },
            **_CONSENT,
        ),
    }


def email_paths() -> dict[str, Schema]:
    form = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["grant", "withdraw", "erase"]},
            "form_token": {"type": "string"},
            "lang": {"type": "string", "enum": ["en", "ru"]},
        },
        "required": ["action", "form_token"],
    }
    return {
        "/o/{token}": {
            "parameters": [_TOKEN],
            "get": _op("The email open beacon", "email", {"200": _GIF}),
        },
        "/c/{token}": {
            "parameters": [_TOKEN],
            "get": _op(
                "An email click-through: a redirect to the signed target",
                "email",
                {"302": _REDIRECT, "404": _body("text/html", "A bad link")},
            ),
        },
        "/p/{token}": {
            "parameters": [_TOKEN],
            "get": _op(
                "The recipient's tracking preferences page (`?format=json`: their data)",
                "email",
                {"200": _HTML, "404": _HTML, "503": _HTML},
                parameters=[
                    _param("format", "query", "json: download the data", enum=["json"]),
                    _param("lang", "query", "page language", enum=["en", "ru"]),
                ],
            ),
            "post": _op(
                "Change the choice, or erase (signed form token, same origin)",
                "email",
                {"303": _REDIRECT, "403": _HTML, "404": _HTML, **_errors(400, 413, 415, 422)},
                requestBody={"content": {"application/x-www-form-urlencoded": {"schema": form}}},
            ),
        },
    }


def api_paths() -> dict[str, Schema]:
    moment = {"format": "date-time"}
    return {
        "/api/links": {
            "post": _op(
                "Sign click, open and preferences URLs for one email",
                "api",
                {"200": _json("Signed", ref("SignedLinks")), **_errors(400, 413, 415, 422)}
                | _errors(*_ADMIN_API),
                requestBody=_request(ref("SignLinks")),
                security=_BEARER,
            )
        },
        "/api/subjects/{subject}": {
            "parameters": [_SUBJECT],
            "get": _op(
                "Export everything held about a subject (an attachment)",
                "rights",
                {"200": _json("The export", ref("SubjectExport")), **_errors(422, 503)}
                | _errors(*_ADMIN_API),
                security=_BEARER,
            ),
            "delete": _op(
                "Erase everything held about a subject; only a tombstone stays",
                "rights",
                {"200": _json("Erased", ref("Erasure")), **_errors(422, 503)}
                | _errors(*_ADMIN_API),
                security=_BEARER,
            ),
        },
        "/api/subjects/{subject}/consent": {
            "parameters": [_SUBJECT],
            "put": _op(
                "Record a recipient's email-tracking consent (signup form, ESP)",
                "api",
                {"200": _json("Recorded", ref("RecipientConsentRecorded"))}
                | _errors(400, 413, 415, 422, *_ADMIN_API),
                requestBody=_request(ref("Choice")),
                security=_BEARER,
            ),
        },
        "/api/subjects/{subject}/objection": {
            "parameters": [_SUBJECT],
            "post": _op(
                "Record an objection (a receipt); enforced by every decision",
                "rights",
                {"200": _json("Recorded", ref("ObjectionRecorded"))}
                | _errors(400, 413, 415, 422, 503, *_ADMIN_API),
                requestBody=_request(ref("ObjectionRequest")),
                security=_BEARER,
            ),
        },
        "/api/receipts": {
            "get": _op(
                "Every receipt in [since, until), streamed",
                "rights",
                {
                    "200": {
                        "description": "The receipts, oldest first",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    **_errors(422, 503, *_ADMIN_API),
                },
                parameters=[
                    _param(
                        "since", "query", "ISO date or time, inclusive (UTC if no zone)", **moment
                    ),
                    _param("until", "query", "ISO date or time, exclusive", **moment),
                    _param("format", "query", "default jsonl", enum=["csv", "jsonl"]),
                ],
                security=_BEARER,
            )
        },
    }


def operations_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {
        "/healthz": {"get": _op("Liveness", "ops", {"200": _json("Alive", ref("Health"))})},
        "/readyz": {
            "get": _op(
                "Readiness: the store answers",
                "ops",
                {
                    "200": _json("Ready", ref("Readiness")),
                    "503": _json("Not ready", ref("Readiness")),
                },
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics: for internal effective clients, or with a metrics token",
                "ops",
                {"200": _body("text/plain", "Metrics"), **_errors(401, 403, 429)},
                security=[{}, {"metricsToken": []}],
            )
        },
        "/openapi.json": {
            "get": _op("This document", "ops", {"200": _json("OpenAPI 3.1", {"type": "object"})})
        },
    }
    for (path, method), summary in _ADMIN_PAGES.items():
        operation = _op(summary, "admin", _admin_page_responses(path), security=_SESSION)
        if method == "post":
            operation["requestBody"] = {
                "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
            }
        paths.setdefault(path, {})[method] = operation
    return paths


_ADMIN_DOWNLOADS = {
    "/admin/receipts.csv": _body("text/csv", "Every receipt, streamed as CSV"),
    "/admin/subject/export": _json("What is held about the subject", {"type": "object"}),
}


def _admin_page_responses(path: str) -> dict[str, Schema]:
    """A dashboard page answers a page, a download or a redirect; a refusal is a page (wrong
    token, expired form, unknown subject, store down) or, for a body it cannot read, JSON."""
    either = {
        code: {
            "description": _REASONS[code],
            "content": {"text/html": {"schema": {}}, "application/json": {"schema": ref("Error")}},
        }
        for code in (400, 401, 403, 413, 415, 422, 429, 503)
    }
    return {
        "200": _ADMIN_DOWNLOADS.get(path, _HTML),
        "303": _REDIRECT,
        **{str(code): response for code, response in either.items()},
    }
