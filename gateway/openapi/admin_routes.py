"""The routes of operators and their tools: the admin API (links, recipients' consent, people's
rights, the receipts export), operations, and the dashboard's pages — one row each."""

from __future__ import annotations

from msgspec import Struct

from gateway.bodies.answers import (
    Erasure,
    Health,
    ObjectionRecorded,
    Readiness,
    RecipientConsentRecorded,
    SignedLinks,
    SubjectExport,
)
from gateway.bodies.choices import AddressChoice, Choice
from gateway.bodies.requests import SUBJECT, ObjectionRequest, SignLinks
from gateway.openapi.table import (
    ADMIN_SESSION,
    ADMIN_TOKEN,
    HTML,
    REDIRECT,
    Operation,
    Schema,
    errors,
    json,
    media,
    parameter,
)

_ADMIN_API = (401, 403, 429)
_MOMENT = {"format": "date-time"}
_SUBJECT = parameter("subject", "path", "a consent id or a recipient id", pattern=SUBJECT)


def _api(
    method: str,
    path: str,
    summary: str,
    tag: str,
    answers: dict[int, Schema],
    body: type[Struct] | None = None,
    parameters: tuple[Schema, ...] = (),
) -> Operation:
    """A row of the admin API: the admin bearer token, and its refusals."""
    answers = {**answers, **errors(*_ADMIN_API)}
    return Operation(method, path, summary, tag, answers, body, parameters, ADMIN_TOKEN)


API = (
    _api(
        "post",
        "/api/links",
        "Sign click, open and preferences URLs for one email",
        "api",
        {200: json("Signed", SignedLinks), **errors(400, 413, 415, 422)},
        body=SignLinks,
    ),
    _api(
        "get",
        "/api/subjects/{subject}",
        "Export everything held about a subject (an attachment)",
        "rights",
        {200: json("The export", SubjectExport), **errors(422, 503)},
    ),
    _api(
        "delete",
        "/api/subjects/{subject}",
        "Erase everything held about a subject; only a tombstone stays",
        "rights",
        {200: json("Erased", Erasure), **errors(422, 503)},
    ),
    _api(
        "put",
        "/api/subjects/{subject}/consent",
        "Record a recipient's email-tracking consent (signup form, ESP)",
        "api",
        {200: json("Recorded", RecipientConsentRecorded), **errors(400, 413, 415, 422)},
        body=Choice,
    ),
    _api(
        "put",
        "/api/recipients/consent",
        "Record a sign-up's email-tracking consent by address (hashed, not stored)",
        "api",
        {200: json("Recorded", RecipientConsentRecorded), **errors(400, 413, 415, 422)},
        body=AddressChoice,
    ),
    _api(
        "post",
        "/api/subjects/{subject}/objection",
        "Record an objection (a receipt); enforced by every decision",
        "rights",
        {200: json("Recorded", ObjectionRecorded), **errors(400, 413, 415, 422, 503)},
        body=ObjectionRequest,
    ),
    _api(
        "get",
        "/api/receipts",
        "Every receipt in [since, until), streamed",
        "rights",
        {
            200: {
                "description": "The receipts, oldest first",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            **errors(422, 503),
        },
        parameters=(
            parameter("since", "query", "ISO date or time, inclusive (UTC if no zone)", **_MOMENT),
            parameter("until", "query", "ISO date or time, exclusive", **_MOMENT),
            parameter("format", "query", "default jsonl", enum=["csv", "jsonl"]),
        ),
    ),
)

OPERATIONS = (
    Operation("get", "/healthz", "Liveness", "ops", {200: json("Alive", Health)}),
    Operation(
        "get",
        "/readyz",
        "Readiness: the store answers",
        "ops",
        {200: json("Ready", Readiness), 503: json("Not ready", Readiness)},
    ),
    Operation(
        "get",
        "/metrics",
        "Prometheus metrics: for internal effective clients, or with a metrics token",
        "ops",
        {200: media("text/plain", "Metrics"), **errors(401, 403, 429)},
        security=({}, {"metricsToken": []}),
    ),
    Operation(
        "get",
        "/openapi.json",
        "This document",
        "ops",
        {200: json("OpenAPI 3.1", {"type": "object"})},
    ),
)


def _page(method: str, path: str, summary: str, answer: Schema = HTML) -> Operation:
    """A dashboard page answers a page, a download or a redirect; a refusal is a page (wrong
    token, expired form, unknown subject, store down) or, for a body it cannot read, JSON."""
    form = {"application/x-www-form-urlencoded": {"type": "object"}} if method == "post" else None
    refusals = errors(400, 401, 403, 413, 415, 422, 429, 503, also_html=True)
    return Operation(
        method,
        path,
        summary,
        "admin",
        {200: answer, 303: REDIRECT, **refusals},
        body=form,
        security=ADMIN_SESSION,
    )


ADMIN_PAGES = (
    _page("get", "/admin", "The dashboard (`?days=7|14|30`), or a redirect to the login"),
    _page("get", "/admin/login", "The login form"),
    _page("post", "/admin/login", "Log in with an admin token: sets the session cookie"),
    _page("post", "/admin/logout", "End the session"),
    _page(
        "get",
        "/admin/receipts.csv",
        "Every receipt as CSV (`?since=&until=`), streamed",
        media("text/csv", "Every receipt, streamed as CSV"),
    ),
    _page("post", "/admin/subject", "Look a subject up"),
    _page(
        "post",
        "/admin/subject/export",
        "Download what is held about a subject (JSON)",
        json("What is held about the subject", {"type": "object"}),
    ),
    _page("post", "/admin/subject/erase", "Confirm, then (with `confirmed=yes`) erase a subject"),
)

PATH_PARAMETERS: dict[str, list[Schema]] = {
    "/api/subjects/{subject}": [_SUBJECT],
    "/api/subjects/{subject}/consent": [_SUBJECT],
    "/api/subjects/{subject}/objection": [_SUBJECT],
}
