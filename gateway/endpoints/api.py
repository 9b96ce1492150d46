"""The ESP-facing admin API: `POST /api/links` signs links, `PUT /api/subjects/{id}/consent`
records a recipient's email-tracking choice, `PUT /api/recipients/consent` does the same for a
sign-up's e-mail address (hashed here, never stored). All need the admin bearer token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.admin_auth import require_admin
from gateway.consent.choice import parse_choice
from gateway.consent.model import NECESSARY
from gateway.email.identity import subject_for
from gateway.email.recipients import Collection
from gateway.endpoints.bodies import read_json
from gateway.errors import Unprocessable
from gateway.inputs import checked_moment, checked_subject, json_object
from gateway.receipts.shown import TextsShown
from gateway.runtime import Gateway, gateway_of

MAX_LINKS_BODY = 256 * 1024
_LINK_FIELDS = {"campaign", "recipient", "url", "urls", "sent_at"}
_NO_STORE = {"Cache-Control": "no-store"}


async def sign_links(request: Request) -> Response:
    """`{"campaign", "recipient", "url" | "urls", "sent_at"?}` → the signed URLs."""
    gateway = gateway_of(request)
    await require_admin(request, gateway.settings.admin.token_hashes)
    body = json_object(await read_json(request, limit=MAX_LINKS_BODY), _LINK_FIELDS)
    urls = _urls(body)
    signed = gateway.email.signer.sign(
        campaign=body.get("campaign"),
        recipient=body.get("recipient"),
        urls=urls,
        sent_at=checked_moment(body.get("sent_at"), "sent_at", unix_seconds=True),
    )
    answer: dict[str, Any] = {
        "subject": signed.subject,
        "sent_at": signed.sent_at,
        "click_urls": list(signed.click_urls),
        "open_url": signed.open_url,
        "preferences_url": signed.preferences_url,
    }
    if "url" in body:
        answer["click_url"] = signed.click_urls[0]
    return JSONResponse(answer, headers=_NO_STORE)


def _urls(body: dict[str, Any]) -> list[str]:
    if ("url" in body) == ("urls" in body):
        raise Unprocessable('send either "url" (one target) or "urls" (a list of targets)')
    urls = [body["url"]] if "url" in body else body["urls"]
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise Unprocessable('"urls" must be a list of URLs')
    return urls


async def record_recipient_consent(request: Request) -> Response:
    """Body like `POST /consent`: `{"granted": ["email_tracking"], "source": "signup-form"}`,
    `{"granted": []}`, or `{"action": "accept_all" | "reject_all"}`."""
    gateway = gateway_of(request)
    await require_admin(request, gateway.settings.admin.token_hashes)
    subject = checked_subject(request.path_params["subject"])
    return await _record_consent(gateway, subject, await read_json(request))


async def record_address_consent(request: Request) -> Response:
    """A sign-up form's choice in one call: `{"recipient": "ada@example.com", "granted":
    ["email_tracking"], "source": "signup-form"}`; the address is hashed into the subject
    (as `sign-link` does), the answer names that subject. An ESP id works too."""
    gateway = gateway_of(request)
    await require_admin(request, gateway.settings.admin.token_hashes)
    body = await read_json(request)
    if not isinstance(body, dict) or "recipient" not in body:
        raise Unprocessable('send "recipient" (an email address or ESP id) with the choice')
    recipient = body.pop("recipient")
    subject = subject_for(recipient, gateway.email.signer.recipient_key)
    return await _record_consent(gateway, subject, body)


async def _record_consent(gateway: Gateway, subject: str, body: Any) -> Response:
    settings = gateway.settings
    choice = parse_choice(body, (NECESSARY, settings.consent.email_category))
    grant = settings.consent.email_category in choice.granted
    receipt = await gateway.email.consents.choose(
        subject,
        grant=grant,
        # The gateway showed nothing: no texts hash; the language is the caller's word for it.
        collection=Collection(
            action="api",
            page=choice.source or choice.page or "api",
            shown=TextsShown(choice.language or "", ""),
        ),
    )
    return JSONResponse(
        {
            "subject": subject,
            settings.consent.email_category: "granted" if grant else "withdrawn",
            "receipt_id": receipt.receipt_id,
        },
        headers=_NO_STORE,
    )


routes = [
    Route("/api/links", sign_links, methods=["POST"]),
    Route("/api/subjects/{subject}/consent", record_recipient_consent, methods=["PUT"]),
    Route("/api/recipients/consent", record_address_consent, methods=["PUT"]),
]
