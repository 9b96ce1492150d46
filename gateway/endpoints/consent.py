"""`/consent`: read, record and withdraw a visitor's choice; `/consent/receipts`: their proof.

`DELETE /consent?erase=1` withdraws *and* erases: everything held under the consent id in the
caller's own signed cookie goes (receipts included), leaving only the tombstone.

Apps keep no cookies: a choice whose body names its `app` gets the signed token in the JSON
answer (`token`) instead of a cookie, and every route here and `/t` read it back from
`Authorization: Consent <token>` — same signature, expiry and revision rules as the cookie.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope

from gateway.banner.config import ShownTexts
from gateway.bodies import answers
from gateway.bodies.choices import Choice as ChoiceBody
from gateway.consent.choice import parse_choice
from gateway.consent.cookie import COOKIE_NAME, ConsentCodec
from gateway.consent.model import NECESSARY, Consent, new_consent_id
from gateway.consent.supersede import takes_away
from gateway.endpoints.answers import Answer, raw_headers
from gateway.endpoints.bodies import decode_json, receive_json, struct_response
from gateway.endpoints.facts import request_facts, scope_facts
from gateway.endpoints.hot import HotRoute
from gateway.errors import Unprocessable
from gateway.objection_registry import ObjectionRegistry
from gateway.receipts.build import new_receipt
from gateway.receipts.ledger import ReceiptLedger
from gateway.receipts.shown import TextsShown
from gateway.rights import SubjectRights
from gateway.rules.model import Rule
from gateway.rules.selection import refusable_vendors
from gateway.settings import ConsentSection, NetworkSection
from gateway.store.base import Receipts
from gateway.visitors.headers import geo_header_name, presented_tokens, read_decision_headers

REFUSED_COOKIES_CACHE_SIZE = 256
_PRIVATE = {"Cache-Control": "no-store", "Vary": "Cookie, Authorization"}
_PRIVATE_JSON = raw_headers({**_PRIVATE, "Content-Type": "application/json"})
_IN_PLACE = "value"  # where the token goes in the cookie made once (`_cookie_around_token`)


def consent_answer(consent: Consent, categories: tuple[str, ...]) -> answers.Consent:
    """`consent` as every answer shows it (`gateway.bodies.answers.Consent`)."""
    return answers.Consent(
        id=consent.consent_id,
        revision=consent.revision,
        granted=sorted(consent.granted),
        denied=sorted(set(categories) - consent.granted),
        chosen_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(consent.chosen_at)),
        gpc=consent.gpc,
        refused_vendors=sorted(consent.refused_vendors),
    )


class ConsentChoices:
    """What recording, withdrawing and reading back one's own choices use, and nothing else:
    the consent policy and network sections, the rules (vendors and their cookies), the codec,
    the registry of latest choices, the receipt ledger and log (one's own), erasure, the texts
    shown, and whether the cookie is `Secure` (a site on https)."""

    def __init__(
        self,
        policy: ConsentSection,
        network: NetworkSection,
        rules: Mapping[str, Rule],
        codec: ConsentCodec,
        objections: ObjectionRegistry,
        receipts: ReceiptLedger,
        receipt_log: Receipts,
        rights: SubjectRights,
        shown_texts: ShownTexts,
        clock: Callable[[], float],
        *,
        cookie_secure: bool,
    ) -> None:
        self.policy, self.network, self.rules, self.codec = policy, network, rules, codec
        self.objections, self.receipts, self.receipt_log = objections, receipts, receipt_log
        self.rights, self.shown_texts, self.clock = rights, shown_texts, clock
        self.cookie_secure, self.vendors = cookie_secure, refusable_vendors(rules)
        # Per choice (categories × refused known vendors), not per person: a few hundred at most.
        self._cookies_refused = lru_cache(maxsize=REFUSED_COOKIES_CACHE_SIZE)(
            self._cookies_refused_by
        )
        self.cookie_head, self.cookie_tail = _cookie_around_token(policy, cookie_secure)

    def route(self) -> HotRoute:
        """`POST /consent`, a hot route (pure ASGI): what a banner's every choice goes through.
        `GET /consent` is another (`gateway.endpoints.consent_state`)."""
        return HotRoute("/consent", self.record, methods=("POST",), hands_on=True)

    def routes(self) -> list[Route]:
        return [
            Route("/consent", self.withdraw, methods=["DELETE"]),
            Route("/consent/receipts", self.own_receipts, methods=["GET"]),
        ]

    async def record(self, scope: Scope, receive: Receive, rest: str) -> Answer:
        policy = self.policy
        sent = decode_json(await receive_json(scope, receive), ChoiceBody)
        read = read_decision_headers(scope["headers"], geo_header_name(self.network.geo_header))
        facts = scope_facts(scope, self.network, read)
        choice = parse_choice(sent, policy.categories, gpc=facts.gpc, vendors=self.vendors)
        # A returning visitor keeps their id (even across a revision bump) so their receipts join up.
        previous = self.codec.decode_presented(read.consent_tokens)
        if previous is not None and self.objections.is_suppressed(previous.consent_id):
            previous = None  # an erased id stays erased: a new choice starts a new subject
        now = self.clock()  # one reading: the token's `t` is its receipt's second
        consent = Consent(
            consent_id=previous.consent_id if previous else new_consent_id(),
            revision=policy.revision,
            granted=frozenset(choice.granted),
            chosen_at=int(now),
            gpc=facts.gpc,
            refused_vendors=frozenset(choice.refused_vendors),
        )
        if choice.app is not None:  # the app's counterpart of the page: bundle id and screen
            facts = replace(facts, origin=choice.app.collection_point)
        # An app showed its own screen, not the banner: nothing the gateway showed is proven.
        shown = (
            self.shown_texts(choice.language)
            if choice.app is None
            else TextsShown(choice.language or "", "")
        )
        receipt = new_receipt(
            _policy_in(policy, shown.language),
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
        await self.receipts.record(receipt)
        if previous is not None and takes_away(previous, consent, policy.revision):
            # Older tokens of this id now read as this choice (a wider one needs no such care: an
            # older, narrower token then says less than the person allows, never more).
            await self.objections.choice_changed(consent.consent_id, receipt)
        token = self.codec.encode(consent)
        recorded = answers.ChoiceRecorded(
            consent=consent_answer(consent, policy.categories),
            receipt_id=receipt.receipt_id,
            gpc_applied=choice.gpc_applied,
            delete_cookies=self.refused_vendor_cookies(consent),
        )
        if choice.app is not None:
            expires_in = policy.consent_days * 86400
            in_app = msgspec.structs.replace(recorded, token=token, expires_in=expires_in)
            body = msgspec.json.encode(in_app)
            return 200, [*_PRIVATE_JSON, (b"content-length", b"%d" % len(body))], body
        body = msgspec.json.encode(recorded)
        cookie = self.cookie_head + token.encode() + self.cookie_tail
        length = (b"content-length", b"%d" % len(body))
        return 200, [*_PRIVATE_JSON, length, (b"set-cookie", cookie)], body

    async def withdraw(self, request: Request) -> Response:
        """Withdraw (a receipt records it); with `?erase=1`, withdraw and erase everything held
        under the cookie's consent id instead (no receipt: only the tombstone stays)."""
        policy = self.policy
        erase = _erase_flag(request.query_params.get("erase"))
        previous = self.codec.decode_presented(presented_tokens(request.scope["headers"]))
        if previous is not None and self.objections.is_suppressed(previous.consent_id):
            previous = None  # already erased: nothing more is recorded under that id
        receipt_id = None
        erased: answers.ErasedCounts | None = None
        if previous is not None and erase:
            counts = await self.rights.erase(previous.consent_id)
            erased = msgspec.convert(counts, answers.ErasedCounts)
        elif previous is not None:
            shown = self.shown_texts(_withdrawal_language(request))
            receipt = new_receipt(
                _policy_in(policy, shown.language),
                request_facts(request, self.network),
                subject_id=previous.consent_id,
                subject_kind="visitor",
                action="withdraw",
                # Strictly necessary technologies stay on: withdrawn is everything else.
                granted=(NECESSARY,),
                denied=tuple(c for c in policy.categories if c != NECESSARY),
                shown=shown,
                now=self.clock(),
            )
            await self.receipts.record(receipt)
            if previous.is_current(policy.revision):  # an older one grants nothing anyway
                await self.objections.choice_changed(previous.consent_id, receipt)
            receipt_id = receipt.receipt_id
        withdrawal = answers.Withdrawal(
            withdrawn=True,
            receipt_id=receipt_id,
            delete_cookies=self.vendor_cookies(),
            # null: there was no (valid) cookie, so nothing to erase
            erased=erased if erase else msgspec.UNSET,
        )
        response = struct_response(withdrawal, headers=_PRIVATE)
        response.delete_cookie(
            COOKIE_NAME,
            path="/",
            domain=policy.cookie_domain,
            secure=self.cookie_secure,
            samesite="lax",
        )
        return response

    async def own_receipts(self, request: Request) -> Response:
        """Self-service access: the receipts of the consent id in the caller's own token."""
        consent = self.codec.decode_presented(presented_tokens(request.scope["headers"]))
        receipts = (
            [] if consent is None else await self.receipt_log.subject_receipts(consent.consent_id)
        )
        own = answers.OwnReceipts(
            subject_id=consent.consent_id if consent else None,
            receipts=[
                receipt.to_dict() | {"created_at": receipt.created_iso()} for receipt in receipts
            ],
        )
        return struct_response(own, headers=_PRIVATE)

    def refused_vendor_cookies(self, consent: Consent) -> list[str]:
        """The cookies of every vendor `consent` does not allow, for the banner to delete."""
        return list(self._cookies_refused(consent.granted, consent.refused_vendors))

    def _cookies_refused_by(
        self, granted: frozenset[str], refused_vendors: frozenset[str]
    ) -> tuple[str, ...]:
        chose = Consent("", 0, granted, 0, refused_vendors=refused_vendors)
        names = {
            name
            for rule in self.rules.values()
            if not chose.allows_vendor(rule.id, rule.category)
            for name in rule.cookies.patterns
        }
        return tuple(sorted(names))

    def vendor_cookies(self) -> list[str]:
        """Every cookie a vendor rule names, for the banner to delete on withdrawal."""
        return sorted({name for rule in self.rules.values() for name in rule.cookies.patterns})


def _cookie_around_token(policy: ConsentSection, secure: bool) -> tuple[bytes, bytes]:
    """The consent cookie's `Set-Cookie` value before and after the token, as Starlette's
    `set_cookie` writes it (made once: a choice adds only its token, which needs no quoting)."""
    response = Response()
    response.set_cookie(
        COOKIE_NAME,
        _IN_PLACE,
        max_age=policy.consent_days * 86400,
        path="/",
        domain=policy.cookie_domain,
        secure=secure,
        httponly=False,  # the banner reads the payload; the server always verifies it
        samesite="lax",
    )
    head, found, tail = response.raw_headers[-1][1].partition(_IN_PLACE.encode())
    assert found, "the cookie's value is written as it is"
    return head, tail


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


@lru_cache(maxsize=64)  # a policy per language shown; an app may name any language
def _policy_in(consent: ConsentSection, language: str) -> ConsentSection:
    """The policy a receipt cites: the privacy policy in the language the person was shown."""
    return replace(consent, url=consent.url_for(language))
