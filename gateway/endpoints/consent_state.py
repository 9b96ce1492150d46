"""`GET /consent`: the caller's current consent, the policy revision and the categories — a
hot route (`HotRoute`, pure ASGI), asked on every page view by the banner.

The answer (its JSON and headers) is kept per consent (`ConsentState.answer`, an LRU of
`BODY_CACHE_SIZE` entries): its key is the verified consent, read from the cookie's value by the
codec (whose own cache is keyed by that value), never a raw Cookie header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import msgspec
from starlette.types import Scope

from gateway.bodies import answers
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.consent.supersede import withdrawn
from gateway.endpoints.answers import Answer, raw_headers
from gateway.endpoints.consent import consent_answer
from gateway.endpoints.hot import HotRoute
from gateway.objection_registry import ObjectionRegistry
from gateway.visitors.headers import presented_tokens

BODY_CACHE_SIZE = 4096  # consents; a body is a few hundred bytes
_PRIVATE_JSON = raw_headers(
    {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "Vary": "Cookie, Authorization",
    }
)


class ConsentState:
    """What `GET /consent` uses: the codec, the registry of latest choices, and the policy's
    revision and categories."""

    def __init__(
        self,
        codec: ConsentCodec,
        objections: ObjectionRegistry,
        policy_revision: int,
        categories: tuple[str, ...],
    ) -> None:
        self.codec = codec
        self.objections = objections
        self.policy_revision = policy_revision
        self.categories = categories
        # Per instance: a module-level cache would outlive the app and its settings.
        self.answer: Callable[[Consent | None], Answer] = lru_cache(maxsize=BODY_CACHE_SIZE)(
            self._answer
        )

    def route(self) -> HotRoute:
        # POST and DELETE are routes of their own (`gateway.endpoints.consent`).
        return HotRoute.at_once("/consent", self.read_consent, hands_on=True)

    def read_consent(self, scope: Scope, rest: str) -> Answer:
        return self.answer(self.current(presented_tokens(scope["headers"])))

    def current(self, tokens: tuple[str, ...]) -> Consent | None:
        """The consent in `tokens` if it is valid, of the current policy revision and not
        erased — as its id's latest stored choice says (an older token reads as that choice)."""
        consent = self.objections.standing(self.codec.decode_presented(tokens))
        if consent is not None and withdrawn(consent):
            return None  # withdrawn since this token was signed
        if consent is None or not consent.is_current(self.policy_revision):
            return None
        if self.objections.is_suppressed(consent.consent_id):
            return None
        return consent

    def state(self, consent: Consent | None) -> answers.ConsentState:
        """The answer of `GET /consent` for a caller whose current consent is `consent`."""
        return answers.ConsentState(
            consent=None if consent is None else consent_answer(consent, self.categories),
            revision=self.policy_revision,
            categories=list(self.categories),
        )

    def _answer(self, consent: Consent | None) -> Answer:
        body = msgspec.json.encode(self.state(consent))
        return 200, [*_PRIVATE_JSON, (b"content-length", str(len(body)).encode())], body
