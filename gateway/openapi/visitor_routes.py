"""The routes a visitor's browser, an app or an email reader calls: the banner, consent,
tracking, email links and consent forms — one row each (`gateway.openapi.table`)."""

from __future__ import annotations

from gateway.bodies.answers import (
    BannerDetails,
    ChoiceRecorded,
    ConsentState,
    OwnReceipts,
    Withdrawal,
)
from gateway.bodies.choices import Choice
from gateway.bodies.forms import FormRecorded, FormSubmission
from gateway.openapi.table import (
    CONSENT,
    FRESH,
    GIF,
    HTML,
    REDIRECT,
    Operation,
    Schema,
    errors,
    json,
    media,
    parameter,
)

LANGUAGE = parameter("lang", "query", "page language", enum=["en", "ru"])
_EMAIL_TOKEN = parameter("token", "path", "a signed email token")
_FORM_TOKEN = parameter("token", "path", "a signed link from a confirmation mail or a newsletter")
_APP_TRACKING = parameter(
    "App-Tracking",
    "header",
    "an app's platform signal (iOS ATT status, Android ad-ID opt-out); anything but "
    "`authorized` is an opt-out of marketing, like GPC",
)
_FORM_REFUSALS = {
    403: "Not an allowed origin",
    422: "Invalid: a pre-ticked box, a bad address, an unknown purpose",
    429: "Too many confirmation mails for the address or network",
}
_NOT_THE_PAGE = {403: "Not from the page itself"}
_PREFERENCES_FORM: Schema = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": ["grant", "withdraw", "erase"]},
        "form_token": {"type": "string"},
        "lang": {"type": "string", "enum": ["en", "ru"]},
    },
    "required": ["action", "form_token"],
}
_UNSUBSCRIBE_FORM: Schema = {
    "type": "object",
    "properties": {
        "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
        "from": {"type": "string", "enum": ["page"]},
        "lang": {"type": "string", "enum": ["en", "ru"]},
    },
}


def _asset(path: str, summary: str, media_type: str, what: str) -> Operation:
    return Operation("get", path, summary, "banner", {200: media(media_type, what), 304: FRESH})


BANNER = (
    _asset(
        "/consent.js", "The banner script, with this site's config", "text/javascript", "The script"
    ),
    _asset("/consent.css", "The banner stylesheet", "text/css", "The stylesheet"),
    _asset(
        "/consent-lazy.js",
        "The banner's lazy part: the preferences list, embed placeholders, notices",
        "text/javascript",
        "The script",
    ),
    _asset(
        "/consent-lazy.css",
        "The stylesheet of the banner's lazy part",
        "text/css",
        "The stylesheet",
    ),
    Operation(
        "get",
        "/consent/details",
        "The banner's preferences layer: its texts and the vendors' details, per language",
        "banner",
        {200: json("Details", BannerDetails), 304: FRESH},
        parameters=(parameter("lang", "query", "a language; others get English"),),
    ),
)

CONSENT_ROUTES = (
    Operation(
        "get",
        "/consent",
        "The caller's current consent (from the cookie or the app's token)",
        "consent",
        {200: json("The state", ConsentState), **errors(403)},
        security=CONSENT,
    ),
    Operation(
        "post",
        "/consent",
        "Record a choice: writes a receipt, sets the cookie (an `app` gets a token)",
        "consent",
        {200: json("Recorded", ChoiceRecorded), **errors(400, 403, 413, 415, 422)},
        body=Choice,
        security=CONSENT,
    ),
    Operation(
        "delete",
        "/consent",
        "Withdraw; with `erase=1`, withdraw and erase everything held under the cookie",
        "consent",
        {200: json("Withdrawn", Withdrawal), **errors(403, 422, 503)},
        parameters=(
            parameter("erase", "query", "1: also erase", enum=["0", "1", "false", "true"]),
        ),
        security=CONSENT,
    ),
    Operation(
        "get",
        "/consent/receipts",
        "The caller's own receipts (self-service access)",
        "consent",
        {200: json("Receipts", OwnReceipts), **errors(403, 503)},
        security=CONSENT,
    ),
)


def tracking(path: str) -> tuple[Operation, ...]:
    """`/t/{vendor}` and the sub-paths the vendor's own client appends (`/g/collect`)."""
    return (
        Operation(
            "get",
            path,
            "An analytics hit or pixel, decided by consent",
            "tracking",
            {200: GIF, 302: REDIRECT, **errors(403, 404)},
            security=CONSENT,
        ),
        Operation(
            "post",
            path,
            "Analytics hits in the body, in the shapes the rule declares (form, JSON whatever "
            "the Content-Type, one query string a line, Matomo bulk requests)",
            "tracking",
            {204: {"description": "Taken"}, 303: REDIRECT, **errors(400, 403, 404, 413)},
            body={
                "text/plain": {"type": "string"},
                "application/x-www-form-urlencoded": {"type": "object"},
                "application/json": {"type": "object"},
            },
            security=CONSENT,
        ),
    )


def tracking_parameters(vendors: list[str], *, sub_path: bool) -> list[Schema]:
    parameters = [parameter("vendor", "path", "a tag rule id", enum=vendors)]
    if sub_path:
        parameters.append(parameter("sub_path", "path", "a path the rule declares in `paths`"))
    return [*parameters, _APP_TRACKING]


EMAIL = (
    Operation("get", "/o/{token}", "The email open beacon", "email", {200: GIF}),
    Operation(
        "get",
        "/c/{token}",
        "An email click-through: a redirect to the signed target",
        "email",
        {302: REDIRECT, 404: media("text/html", "A bad link")},
    ),
    Operation(
        "get",
        "/p/{token}",
        "The recipient's tracking preferences page (`?format=json`: their data)",
        "email",
        {
            200: {
                "description": "The page, or with `?format=json` their data",
                "content": {"text/html": {"schema": {}}, "application/json": {"schema": {}}},
            },
            404: HTML,
            503: HTML,
        },
        parameters=(
            parameter("format", "query", "json: download the data", enum=["json"]),
            LANGUAGE,
        ),
    ),
    Operation(
        "post",
        "/p/{token}",
        "Change the choice, or erase (signed form token, same origin)",
        "email",
        {303: REDIRECT, 403: HTML, 404: HTML, **errors(400, 413, 415, 422)},
        body={"application/x-www-form-urlencoded": _PREFERENCES_FORM},
    ),
)

FORMS = (
    Operation(
        "post",
        "/consent/forms",
        "Record a consent form: each box as shown, ticked or not (allowed origins)",
        "forms",
        {
            201: json("Recorded", FormRecorded),
            200: json("Answered, not recorded (the honeypot was filled)", FormRecorded),
            **errors(400, 403, 409, 413, 415, 422, 429, 503, reasons=_FORM_REFUSALS),
        },
        body=FormSubmission,
    ),
    Operation(
        "get",
        "/consent-forms.js",
        "The form-consent script (loaded by pages with a consent form)",
        "forms",
        {200: {"description": "The script", "content": {"text/javascript": {}}}},
    ),
    Operation(
        "get",
        "/f/{token}",
        "The double opt-in page: a button that confirms (a GET changes nothing)",
        "forms",
        {200: HTML, 404: HTML, 410: HTML},
        parameters=(LANGUAGE,),
    ),
    Operation(
        "post",
        "/f/{token}",
        "Confirm: grants the link's purposes once (a receipt)",
        "forms",
        {200: HTML, 404: HTML, 409: HTML, 410: HTML, **errors(403, 503, reasons=_NOT_THE_PAGE)},
        parameters=(LANGUAGE,),
    ),
    Operation(
        "get",
        "/u/{token}",
        "The unsubscribe page, in the recipient's language (a GET changes nothing)",
        "forms",
        {200: HTML, 404: HTML},
        parameters=(
            LANGUAGE,
            parameter("done", "query", "set by the page's button: say it is done"),
        ),
    ),
    Operation(
        "post",
        "/u/{token}",
        "Unsubscribe (RFC 8058 one-click, or the page's button): a receipt, no cookie",
        "forms",
        {
            200: {"description": "Unsubscribed (one-click: an empty answer)"},
            303: {"description": "Unsubscribed from the page: back to it"},
            404: {"description": "Not a valid link"},
            **errors(403, 413, 503, reasons=_NOT_THE_PAGE),
        },
        body={"application/x-www-form-urlencoded": _UNSUBSCRIBE_FORM},
    ),
)

PATH_PARAMETERS: dict[str, list[Schema]] = {
    "/o/{token}": [_EMAIL_TOKEN],
    "/c/{token}": [_EMAIL_TOKEN],
    "/p/{token}": [_EMAIL_TOKEN],
    "/f/{token}": [_FORM_TOKEN],
    "/u/{token}": [_FORM_TOKEN],
}
