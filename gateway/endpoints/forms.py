"""`POST /consent/forms` (a consent form was sent), `/f/{token}` (double opt-in confirmation),
`/u/{token}` (unsubscribe; `POST` is RFC 8058 one-click), `GET /consent-forms.js`.

`/consent/forms` is behind the Origin check of the consent API (allowed site origins only).
`/f` and `/u` answer pages in the recipient's language; their GETs change nothing (scanners
follow links), a POST does: from the page's button, or — `/u` — from a mailbox provider's
one-click request, which gets an empty 200 (no page, no cookie).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.bodies.forms import FormRecorded
from gateway.consent.cookie import ConsentCodec
from gateway.email.pages import page_headers
from gateway.endpoints.bodies import read_body, read_json, struct_response
from gateway.endpoints.facts import request_facts
from gateway.errors import Forbidden
from gateway.forms.pages import form_page, language_of
from gateway.forms.script import FORM_SCRIPT_HEADERS, form_script
from gateway.forms.service import FormService
from gateway.forms.submission import PreTicked, parse_submission
from gateway.settings import NetworkSection
from gateway.visitors.headers import presented_tokens
from gateway.visitors.network import client_ip

log = logging.getLogger("gateway.forms")
MAX_FORM_BODY = 32 * 1024  # 16 boxes of 1000-character labels, with room for JSON escapes
MAX_UNSUBSCRIBE_BODY = 1024
_PRIVATE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class FormPages:
    """What consent forms, their confirmations and unsubscriptions use, and nothing else: the
    form service, the consent codec (a visitor's id), the site's URL and consent revision, the
    network settings (client addresses) and the clock."""

    forms: FormService
    codec: ConsentCodec
    public_url: str
    public_origin: str
    revision: int
    network: NetworkSection
    clock: Callable[[], float]

    def routes(self) -> list[Route]:
        return [
            Route("/consent/forms", self.record_form, methods=["POST"]),
            Route("/consent-forms.js", self.forms_script, methods=["GET"]),
            Route("/f/{token}", self.confirm, methods=["GET", "POST"]),
            Route("/u/{token}", self.unsubscribe, methods=["GET", "POST"]),
        ]

    async def record_form(self, request: Request) -> Response:
        return await _record_form(self, request)

    async def confirm(self, request: Request) -> Response:
        return await _confirm(self, request)

    async def unsubscribe(self, request: Request) -> Response:
        return await _unsubscribe(self, request)

    async def forms_script(self, request: Request) -> Response:
        return Response(
            form_script(self.public_url, self.revision),
            media_type="text/javascript; charset=utf-8",
            headers=FORM_SCRIPT_HEADERS,
        )


async def _record_form(page: FormPages, request: Request) -> Response:
    forms = page.forms
    try:
        submission = parse_submission(await read_json(request, MAX_FORM_BODY), forms.purposes)
    except PreTicked as error:  # the site's bug: its developer reads the log and the console
        log.warning("form consent refused: %s", error.detail)
        forms.refused("pre_ticked")
        raise
    visitor = page.codec.decode_presented(presented_tokens(request.scope["headers"]))
    submitted = await forms.submit(
        submission,
        request_facts(request, page.network),
        visitor_id=visitor.consent_id if visitor is not None else None,
        client=_client_network(request, page.network),
    )
    answer = FormRecorded(
        receipt_id=submitted.receipt_id,
        subject_id=submitted.subject_id,
        granted=list(submitted.granted),
        denied=list(submitted.denied),
        awaiting_confirmation=list(submitted.awaiting_confirmation),
    )
    return struct_response(answer, 201 if submitted.receipt_id else 200, _PRIVATE)


def _client_network(request: Request, network: NetworkSection) -> str:
    """The client's network for the mail limits: an IPv4 address, an IPv6 /64."""
    peer = request.client.host if request.client else None
    proxies = network.trusted_proxies
    address = client_ip(peer, request.headers.get("x-forwarded-for"), proxies)
    if address is None:
        return "unknown"
    prefix = 32 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


async def _confirm(page: FormPages, request: Request) -> Response:
    token = request.path_params["token"]
    asked = request.query_params.get("lang")
    browser = request.headers.get("accept-language", "")
    status = {"confirmed": 200, "replayed": 409, "expired": 410, "invalid": 404, "erased": 410}
    if request.method == "GET":  # a page with the button: scanners and previews spend nothing
        valid = page.forms.tokens.read_confirmation(token, page.clock())
        if valid is None:
            outcome = "expired" if page.forms.tokens.is_expired(token) else "invalid"
            html = form_page(language_of(asked, browser), f"confirm_{outcome}")
            return HTMLResponse(html, status_code=status[outcome], headers=page_headers())
        language = language_of(asked or valid.language, "")
        html = form_page(language, "confirm_ask", action=f"/f/{token}", button="confirm")
        return HTMLResponse(html, headers=page_headers())
    _same_origin_only(request, page.public_origin)
    facts = replace(request_facts(request, page.network), origin=page.public_origin)
    confirmed = await page.forms.confirm(token, facts)
    # The page speaks the mail's language (the form's), unless `?lang=` asks for another.
    language = language_of(asked or confirmed.language or None, browser)
    return HTMLResponse(
        form_page(language, f"confirm_{confirmed.outcome}"),
        status_code=status[confirmed.outcome],
        headers=page_headers(),
    )


async def _unsubscribe(page: FormPages, request: Request) -> Response:
    token = request.path_params["token"]
    subject = page.forms.tokens.read_unsubscribe(token)
    accept = request.headers.get("accept-language", "")
    language = language_of(request.query_params.get("lang"), accept)
    if subject is None:
        if request.method == "POST":
            return Response(status_code=404, headers=_PRIVATE)
        html = form_page(language, "unsubscribe_invalid")
        return HTMLResponse(html, status_code=404, headers=page_headers())
    if request.method == "GET":  # a page with the button: scanners and previews spend nothing
        if request.query_params.get("done") == "1":
            html = form_page(language, "unsubscribe_done")
        else:
            hidden = [("lang", language), ("from", "page")]
            action = f"/u/{token}"
            html = form_page(
                language, "unsubscribe_ask", action=action, button="unsubscribe", fields=hidden
            )
        return HTMLResponse(html, headers=page_headers())
    # A mailbox provider sends `List-Unsubscribe=One-Click` (RFC 8058), the page its button's
    # fields; either way the signed link is the authority, so any body unsubscribes.
    body = await read_body(request, MAX_UNSUBSCRIBE_BODY, "the unsubscribe request")
    fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    from_page = fields.get("from") == "page"
    if from_page:
        _same_origin_only(request, page.public_origin)
    facts = replace(request_facts(request, page.network), origin=page.public_origin)
    await page.forms.unsubscribe(subject, facts, page="/u" if from_page else "/u/one-click")
    if from_page:
        done = f"/u/{token}?done=1&lang={language_of(fields.get('lang'), '')}"
        return RedirectResponse(done, status_code=303)
    return Response(status_code=200, headers=_PRIVATE)  # RFC 8058: no page, no cookie


def _same_origin_only(request: Request, own_origin: str) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin:
        raise Forbidden("this page's buttons work only from the page itself")
