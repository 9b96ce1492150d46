"""The `cg_consent` cookie: a signed, timed, compact JSON payload.

Apps, which keep no cookie jar, carry the same token in a header instead
(`Authorization: Consent <token>`, see `presented_token`): same signature, expiry and revision
rules.

    >>> codec = ConsentCodec(keys=("k" * 32,), max_age_days=180)
    >>> token = codec.encode(Consent("a-random-consent-id", 1, frozenset({"analytics"}), 0))
    >>> codec.decode(token).granted
    frozenset({'analytics'})
    >>> tampered = ("A" if token[0] != "A" else "B") + token[1:]  # the signed part: any change
    >>> codec.decode(tampered) is None  # (the signature's last character has padding bits)
    True
    >>> codec.decode(token, now=time.time() + 181 * 86400) is None  # older than max_age
    True

The payload is `{"i": id, "r": revision, "g": [granted], "t": chosen_at, "p": gpc 0|1}`
plus `"v": [refused vendor ids]` only when some vendor inside a granted category was refused.
A token written before vendor choices existed has no `"v"` and reads as "no vendor refused";
one without refusals is byte-for-byte what the older code wrote, so older instances read it.

Whatever fails to verify (tampered, foreign salt, removed key, expired, malformed) decodes to
`None`: no consent, never an error.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from itsdangerous import BadData

from gateway.consent.model import Consent
from gateway.signing import SALT_CONSENT, make_serializer

COOKIE_NAME = "cg_consent"
AUTHORIZATION_SCHEME = "Consent"
_MAX_TOKEN_LENGTH = 1024
_MAX_PRESENTED = 4  # more `cg_consent` cookies than this in one request: no consent


def presented_token(authorization: str | None, cookie: str | None) -> str | None:
    """The consent token a request presents: `Authorization: Consent <token>` if it has one
    (an app), else the cookie (a browser). Another scheme (`Bearer …`) is not ours: the
    cookie counts.

    >>> presented_token("Consent eyJpIjo.abc", "from-a-cookie")
    'eyJpIjo.abc'
    >>> presented_token("Bearer xyz", "from-a-cookie")
    'from-a-cookie'
    """
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == AUTHORIZATION_SCHEME.lower():
            return token.strip() or None
    return cookie


class ConsentCodec:
    """Signs and verifies consent cookies; verification results are cached by token."""

    def __init__(self, keys: tuple[str, ...], max_age_days: int, cache_size: int = 16384) -> None:
        self._serializer = make_serializer(keys, SALT_CONSENT)
        # What `dumps` makes for every token, made once: the signer of the newest key.
        self._signer = self._serializer.make_signer(SALT_CONSENT)
        self.max_age = max_age_days * 86400
        # A hot path decodes the same cookie again and again: verify once, keep the result.
        self._verify = lru_cache(maxsize=cache_size)(self._verify_uncached)

    def encode(self, consent: Consent) -> str:
        payload: dict[str, object] = {
            "i": consent.consent_id,
            "r": consent.revision,
            "g": sorted(consent.granted),
            "t": consent.chosen_at,
            "p": int(consent.gpc),
        }
        if consent.refused_vendors:
            payload["v"] = sorted(consent.refused_vendors)
        # `dumps`, without making a signer per token: the same bytes.
        return self._signer.sign(self._serializer.dump_payload(payload)).decode()

    def decode(self, token: str | None, now: float | None = None) -> Consent | None:
        """The consent in `token`, or None if it is missing, invalid or older than max_age."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        verified = self._verify(token)
        if verified is None:
            return None
        consent, signed_at = verified
        if (time.time() if now is None else now) - signed_at > self.max_age:
            return None
        return consent

    def decode_presented(self, tokens: Sequence[str], now: float | None = None) -> Consent | None:
        """The one consent that the tokens a request presents speak for, or None.

        A browser may hold two `cg_consent` cookies (a host-only one and a domain one, after
        `GATEWAY_COOKIE_DOMAIN` changed): the valid ones count only if they share one consent
        id, and then the newest choice is theirs (the registry may still supersede it); two
        different choices of one second allow only what both allow. Two consent ids are
        ambiguous: no consent.
        """
        if len(tokens) == 1:
            return self.decode(tokens[0], now)
        if len(tokens) > _MAX_PRESENTED:
            return None
        found = [consent for token in tokens if (consent := self.decode(token, now)) is not None]
        if not found or len({consent.consent_id for consent in found}) > 1:
            return None
        newest = max(found, key=lambda consent: consent.chosen_at)
        for tie in found:
            if tie.chosen_at == newest.chosen_at and tie != newest:
                newest = replace(
                    newest,
                    revision=min(newest.revision, tie.revision),
                    granted=newest.granted & tie.granted,
                    gpc=newest.gpc or tie.gpc,
                    refused_vendors=newest.refused_vendors | tie.refused_vendors,
                )
        return newest

    def _verify_uncached(self, token: str) -> tuple[Consent, int] | None:
        try:
            payload, signed_at = self._serializer.loads(token, return_timestamp=True)
        except (BadData, ValueError, TypeError, UnicodeError):
            return None
        consent = _consent_from_payload(payload)
        return None if consent is None else (consent, int(signed_at.timestamp()))


def _consent_from_payload(payload: Any) -> Consent | None:
    """Reject any payload shape we did not write (a leaked key must not yield odd objects)."""
    if not isinstance(payload, dict):
        return None
    consent_id, revision = payload.get("i"), payload.get("r")
    granted, chosen_at, gpc = payload.get("g"), payload.get("t"), payload.get("p", 0)
    refused = payload.get("v", [])
    if not (isinstance(consent_id, str) and 16 <= len(consent_id) <= 64):
        return None
    if not (isinstance(revision, int) and isinstance(chosen_at, int) and gpc in (0, 1)):
        return None
    if not (isinstance(granted, list) and all(isinstance(g, str) for g in granted)):
        return None
    if not (isinstance(refused, list) and all(isinstance(v, str) for v in refused)):
        return None
    return Consent(
        consent_id, revision, frozenset(granted), chosen_at, bool(gpc), frozenset(refused)
    )
