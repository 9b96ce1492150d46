"""The signed links of form consent: confirmation (`/f/`, salt `cg.form`) and one-click
unsubscribe (`/u/`, salt `cg.unsubscribe`).

A confirmation token carries no address: the pending id (once used, it is spent), the
recipient's subject (the keyed hash of the address), the purposes to grant, the form, the
language of the mail and when it was issued. It expires `CONFIRM_SECONDS` after issue, judged
by the gateway's clock (tests inject one). An unsubscribe token carries the subject only and
never expires: it sits in every newsletter someone keeps.

    >>> tokens = FormTokens(("k" * 32,))
    >>> pending = Confirmation("p1", "Zb3", ("newsletter",), "contact", "en", 1767225600)
    >>> tokens.read_confirmation(tokens.sign_confirmation(pending), now=1767225600 + 60) == pending
    True
    >>> tokens.read_confirmation(tokens.sign_confirmation(pending), now=1767225600 + 49 * 3600)
    >>> tokens.read_unsubscribe(tokens.sign_unsubscribe("Zb3"))
    'Zb3'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from gateway.inputs import is_subject

SALT_FORM = "cg.form"
SALT_UNSUBSCRIBE = "cg.unsubscribe"
CONFIRM_SECONDS = 48 * 3600
MAX_TOKEN_LENGTH = 2048
ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True, slots=True)
class Confirmation:
    pending_id: str
    subject: str
    purposes: tuple[str, ...]
    form_id: str
    language: str
    issued_at: int  # unix seconds

    @property
    def expires_at(self) -> int:
        return self.issued_at + CONFIRM_SECONDS


def _serializer(keys: tuple[str, ...], salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(list(keys), salt=salt, signer_kwargs={"digest_method": hashlib.sha256})


class FormTokens:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._confirm = _serializer(keys, SALT_FORM)
        self._unsubscribe = _serializer(keys, SALT_UNSUBSCRIBE)

    def sign_confirmation(self, pending: Confirmation) -> str:
        payload = [
            pending.pending_id,
            pending.subject,
            list(pending.purposes),
            pending.form_id,
            pending.language,
            pending.issued_at,
        ]
        return _text(self._confirm.dumps(payload))

    def read_confirmation(self, token: str, now: float) -> Confirmation | None:
        """The confirmation in `token`, or None if it does not verify or has expired."""
        payload = _loads(self._confirm, token)
        if not (isinstance(payload, list) and len(payload) == 6):
            return None
        pending_id, subject, purposes, form_id, language, issued_at = payload
        if not (
            is_subject(pending_id)
            and is_subject(subject)
            and isinstance(purposes, list)
            and all(isinstance(p, str) for p in purposes)
            and isinstance(form_id, str)
            and isinstance(language, str)
            and type(issued_at) is int
        ):
            return None
        confirmation = Confirmation(
            pending_id, subject, tuple(purposes), form_id, language, issued_at
        )
        return confirmation if issued_at <= now < confirmation.expires_at else None

    def is_expired(self, token: str) -> bool:
        """Whether `token` verifies but its time is up (for a kinder page than "not found")."""
        payload = _loads(self._confirm, token)
        return isinstance(payload, list) and len(payload) == 6

    def sign_unsubscribe(self, subject: str) -> str:
        return _text(self._unsubscribe.dumps([subject]))

    def unsubscribe_headers(self, public_url: str, subject: str) -> dict[str, str]:
        """The RFC 8058 headers a mailer puts on every newsletter to `subject`."""
        url = f"{public_url.rstrip('/')}/u/{self.sign_unsubscribe(subject)}"
        return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}

    def read_unsubscribe(self, token: str) -> str | None:
        payload = _loads(self._unsubscribe, token)
        if isinstance(payload, list) and len(payload) == 1 and is_subject(payload[0]):
            return str(payload[0])
        return None


def _loads(serializer: URLSafeSerializer, token: str) -> Any:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return serializer.loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None


def _text(token: str | bytes) -> str:
    return token if isinstance(token, str) else token.decode("ascii")
