"""`/consent`: read, record and withdraw a visitor's choice; `/consent/receipts`: their proof.

`DELETE /consent?erase=1` withdraws *and* erases: everything held under the consent id in the
caller's own signed cookie goes (receipts included), leaving only the tombstone.

Apps keep no cookies: a choice whose body names its `app` gets the signed token in the JSON
answer (`token`) instead of a cookie, and every route here and `/t` read it back from
`Authorization: Consent <token>` — same signature, expiry and revision rules as the cookie.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.consent.choice import parse_choice
from gateway.consent.cookie import COOKIE_NAME
from gateway.consent.model import NECESSARY, Consent, new_consent_id
from gateway.consent.supersede import takes_away, withdrawn
from gateway.endpoints.bodies import read_json
from gateway.endpoints.facts import request_facts
from gateway.errors import Unprocessable
from gateway.receipts.build import new_receipt
from gateway.receipts.shown import TextsShown
from gateway.runtime import Gateway, gateway_of
from gateway.settings import ConsentSection
from gateway.visitors.headers import read_decision_headers

_PRIVATE = {"Cache-Control": "no-store", "Vary": "Cookie, Authorization"}


def consent_json(consent: Consent | None, categories: tuple[str, ...]) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {
        "id": consent.consent_id,
        "revision": consent.revision,
        "granted": sorted(consent.granted),
        "denied": sorted(set(categories) - consent.granted),
        "chosen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(consent.chosen_at)),
        "gpc": consent.gpc,
        "refused_vendors": sorted(consent.refused_vendors),
    }


def presented_tokens(request: Request) -> tuple[str, ...]:
    """The tokens the caller presents: `Authorization: Consent …` (apps) or the cookie (read
    as every route reads them: `gateway.visitors.headers`)."""
    return read_decision_headers(request.scope["headers"], None).consent_tokens


def current_consent(gateway: Gateway, tokens: tuple[str, ...]) -> Consent | None:
    """The consent in `token` if it is valid, of the current policy revision and not erased —
    as its id's latest stored choice says (an older token reads as that choice)."""
    consent = gateway.objections.standing(gateway.codec.decode_presented(tokens))
    if consent is not None and withdrawn(consent):
        return None  # withdrawn since this token was signed
    if consent is None or not consent.is_current(gateway.settings.consent.revision):
        return None
    if gateway.objections.is_suppressed(consent.consent_id):
        return None
    return consent


async def read_consent(request: Request) -> Response:
    gateway = gateway_of(request)
    body = consent_state(gateway, current_consent(gateway, presented_tokens(request)))
    return JSONResponse(body, headers=_PRIVATE)


def consent_state(gateway: Gateway, consent: Consent | None) -> dict[str, Any]:
    """The answer of `GET /consent` for a caller whose current consent is `consent`."""
    settings = gateway.settings
    return {
        "consent": consent_json(consent, settings.consent.categories),
        "revision": settings.consent.revision,
        "categories": list(settings.consent.categories),
    }


async def record_consent(request: Request) -> Response:
    gateway = gateway_of(request)
    settings = gateway.settings
    facts = request_facts(request, settings.network)
    choice = parse_choice(
        await read_json(request),
        settings.consent.categories,
        gpc=facts.gpc,
        vendors=gateway.refusable_vendors(),
    )
    # A returning visitor keeps their id (even across a revision bump) so their receipts join up.
    previous = gateway.codec.decode_presented(presented_tokens(request))
    if previous is not None and gateway.objections.is_suppressed(previous.consent_id):
        previous = None  # an erased id stays erased: a new choice starts a new subject
    now = gateway.clock()  # one reading: the token's `t` is its receipt's second
    consent = Consent(
        consent_id=previous.consent_id if previous else new_consent_id(),
        revision=settings.consent.revision,
        granted=frozenset(choice.granted),
        chosen_at=int(now),
        gpc=facts.gpc,
        refused_vendors=frozenset(choice.refused_vendors),
    )
    if choice.app is not None:  # the app's counterpart of the page: bundle id and screen
        facts = replace(facts, origin=choice.app.collection_point)
    # An app showed its own screen, not the banner: nothing the gateway showed is proven.
    shown = (
        gateway.shown_texts(choice.language)
        if choice.app is None
        else TextsShown(choice.language or "", "")
    )
    receipt = new_receipt(
        _policy_in(settings.consent, shown.language),
        facts,
        subject_id=consent.consent_id,
        subject_kind="visitor",
        action=choice.action,
        granted=choice.granted,
        denied=choice.denied,
        shown=shown,
        page=choice.page,
        now=now,
        refused_vendors=choice.refused_vendors,
    )
    await gateway.receipts.record(receipt)
    if previous is not None and takes_away(previous, consent, settings.consent.revision):
        # Older tokens of this id now read as this choice (a wider one needs no such care: an
        # older, narrower token then says less than the person allows, never more).
        await gateway.objections.choice_changed(consent.consent_id, receipt)
    token = gateway.codec.encode(consent)
    body: dict[str, Any] = {
        "consent": consent_json(consent, settings.consent.categories),
        "receipt_id": receipt.receipt_id,
        "gpc_applied": choice.gpc_applied,
        "delete_cookies": gateway.refused_vendor_cookies(consent),
    }
    if choice.app is not None:
        body |= {"token": token, "expires_in": settings.consent.consent_days * 86400}
        return JSONResponse(body, headers=_PRIVATE)
    response = JSONResponse(body, headers=_PRIVATE)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.consent.consent_days * 86400,
        path="/",
        domain=settings.consent.cookie_domain,
        secure=settings.site.cookie_secure,
        httponly=False,  # the banner reads the payload; the server always verifies it
        samesite="lax",
    )
    return response


async def withdraw_consent(request: Request) -> Response:
    """Withdraw (a receipt records it); with `?erase=1`, withdraw and erase everything held
    under the cookie's consent id instead (no receipt: only the tombstone stays)."""
    gateway = gateway_of(request)
    settings = gateway.settings
    erase = _erase_flag(request.query_params.get("erase"))
    previous = gateway.codec.decode_presented(presented_tokens(request))
    if previous is not None and gateway.objections.is_suppressed(previous.consent_id):
        previous = None  # already erased: nothing more is recorded under that id
    receipt_id = None
    erased: dict[str, int] | None = None
    if previous is not None and erase:
        erased = await gateway.rights.erase(previous.consent_id)
    elif previous is not None:
        shown = gateway.shown_texts(_withdrawal_language(request))
        receipt = new_receipt(
            _policy_in(settings.consent, shown.language),
            request_facts(request, settings.network),
            subject_id=previous.consent_id,
            subject_kind="visitor",
            action="withdraw",
            # Strictly necessary technologies stay on: withdrawn is everything else.
            granted=(NECESSARY,),
            denied=tuple(c for c in settings.consent.categories if c != NECESSARY),
            shown=shown,
            now=gateway.clock(),
        )
        await gateway.receipts.record(receipt)
        if previous.is_current(settings.consent.revision):  # an older one grants nothing anyway
            await gateway.objections.choice_changed(previous.consent_id, receipt)
        receipt_id = receipt.receipt_id
    body: dict[str, Any] = {
        "withdrawn": True,
        "receipt_id": receipt_id,
        "delete_cookies": gateway.vendor_cookies(),
    }
    if erase:
        body["erased"] = erased  # null: there was no (valid) cookie, so nothing to erase
    response = JSONResponse(body, headers=_PRIVATE)
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        domain=settings.consent.cookie_domain,
        secure=settings.site.cookie_secure,
        samesite="lax",
    )
    return response


def _withdrawal_language(request: Request) -> str | None:
    """The banner's language when it withdrew: `?language=`, else the browser's first choice
    (the banner picks the page's language, then the browser's)."""
    asked = request.query_params.get("language")
    if asked:
        return asked[:35]
    first = request.headers.get("accept-language", "").split(",", 1)[0]
    return first.split(";", 1)[0].strip()[:35] or None


def _erase_flag(value: str | None) -> bool:
    if value is None or value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise Unprocessable('"erase" must be 1 (withdraw and erase) or 0')


async def own_receipts(request: Request) -> Response:
    """Self-service access: the receipts of the consent id in the caller's own token."""
    gateway = gateway_of(request)
    consent = gateway.codec.decode_presented(presented_tokens(request))
    receipts = (
        [] if consent is None else await gateway.store.receipts.subject_receipts(consent.consent_id)
    )
    body = {
        "subject_id": consent.consent_id if consent else None,
        "receipts": [
            receipt.to_dict() | {"created_at": receipt.created_iso()} for receipt in receipts
        ],
    }
    return JSONResponse(body, headers=_PRIVATE)


routes = [
    Route("/consent", read_consent, methods=["GET"]),
    Route("/consent", record_consent, methods=["POST"]),
    Route("/consent", withdraw_consent, methods=["DELETE"]),
    Route("/consent/receipts", own_receipts, methods=["GET"]),
]


def _policy_in(consent: ConsentSection, language: str) -> ConsentSection:
    """The policy a receipt cites: the privacy policy in the language the person was shown."""
    return replace(consent, url=consent.url_for(language))
