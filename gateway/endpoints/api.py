"""The ESP-facing admin API: `POST /api/links` signs links, `PUT /api/subjects/{id}/consent`
records a recipient's email-tracking choice, `PUT /api/recipients/consent` does the same for a
sign-up's e-mail address (hashed here, never stored). All need the admin bearer token."""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin_auth import AdminGuard
from gateway.bodies.answers import SignedLinks, recipient_consent_recorded
from gateway.bodies.choices import AddressChoice, Choice
from gateway.bodies.requests import SignLinks
from gateway.consent.choice import parse_choice
from gateway.consent.model import NECESSARY
from gateway.email.identity import subject_for
from gateway.email.recipients import Collection
from gateway.email.service import EmailService
from gateway.endpoints.bodies import read_struct, struct_response
from gateway.errors import Unprocessable
from gateway.inputs import checked_moment, checked_subject
from gateway.receipts.shown import TextsShown
from gateway.settings import ConsentSection

MAX_LINKS_BODY = 256 * 1024
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class EspApi:
    """What the ESP-facing API uses, and nothing else: the admin door, the email service
    (its link signer and recipients' consents) and the consent settings."""

    guard: AdminGuard
    email: EmailService
    consent: ConsentSection

    def routes(self) -> list[Route]:
        return [
            Route("/api/links", self.sign_links, methods=["POST"]),
            Route(
                "/api/subjects/{subject}/consent", self.record_recipient_consent, methods=["PUT"]
            ),
            Route("/api/recipients/consent", self.record_address_consent, methods=["PUT"]),
        ]

    async def sign_links(self, request: Request) -> Response:
        """`{"campaign", "recipient", "url" | "urls", "sent_at"?}` → the signed URLs."""
        await self.guard.require(request)
        body = await read_struct(request, SignLinks, limit=MAX_LINKS_BODY)
        if (body.url is None) == (body.urls is None):
            raise Unprocessable('send either "url" (one target) or "urls" (a list of targets)')
        signed = self.email.signer.sign(
            campaign=body.campaign,
            recipient=body.recipient,
            urls=[body.url] if body.url is not None else body.urls or [],
            sent_at=checked_moment(body.sent_at, "sent_at", unix_seconds=True),
        )
        answer = SignedLinks(
            subject=signed.subject,
            sent_at=signed.sent_at,
            click_urls=list(signed.click_urls),
            open_url=signed.open_url,
            preferences_url=signed.preferences_url,
            click_url=signed.click_urls[0] if body.url is not None else UNSET,
        )
        return struct_response(answer, headers=_NO_STORE)

    async def record_recipient_consent(self, request: Request) -> Response:
        """Body like `POST /consent`: `{"granted": ["email_tracking"], "source": "signup-form"}`,
        `{"granted": []}`, or `{"action": "accept_all" | "reject_all"}`."""
        await self.guard.require(request)
        subject = checked_subject(request.path_params["subject"])
        return await self._record_consent(subject, await read_struct(request, Choice))

    async def record_address_consent(self, request: Request) -> Response:
        """A sign-up form's choice in one call: `{"recipient": "ada@example.com", "granted":
        ["email_tracking"], "source": "signup-form"}`; the address is hashed into the subject
        (as `sign-link` does), the answer names that subject. An ESP id works too."""
        await self.guard.require(request)
        body = await read_struct(request, AddressChoice)
        subject = subject_for(body.recipient, self.email.signer.recipient_key)
        return await self._record_consent(subject, body)

    async def _record_consent(self, subject: str, body: Choice) -> Response:
        category = self.consent.email_category
        choice = parse_choice(body, (NECESSARY, category))
        grant = category in choice.granted
        receipt = await self.email.consents.choose(
            subject,
            grant=grant,
            # The gateway showed nothing: no texts hash; the language is the caller's word for it.
            collection=Collection(
                action="api",
                page=choice.source or choice.page or "api",
                shown=TextsShown(choice.language or "", ""),
            ),
        )
        recorded = recipient_consent_recorded(category)(
            subject=subject,
            email_tracking="granted" if grant else "withdrawn",
            receipt_id=receipt.receipt_id,
        )
        return struct_response(recorded, headers=_NO_STORE)
