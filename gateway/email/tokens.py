"""Signed email tokens: click (`cg.click`), open (`cg.open`), preferences page (`cg.prefs`).

A payload is a positional JSON list, not an object: `["spring-26","Zb3…",2,"https://…",1767225600]`
spends no bytes on key names, which keeps a click URL for a 60-character target near 200
characters. The tokens are itsdangerous `URLSafeSerializer` tokens (HMAC-SHA256, a salt per
purpose, every key verifies, the newest signs) *without* itsdangerous' timestamp: the send time
is already in the signed payload, and a link in an email must keep working for as long as
someone keeps the email — there is nothing for a timestamp to expire. Long payloads are
zlib-compressed when that is shorter (the signature is checked before anything is
decompressed).

Whatever fails to verify or has a shape we never sign reads as `None`, never an error.

    >>> tokens = EmailTokens(("k" * 32,))
    >>> click = ClickToken("spring-26", "esp-42", 1, "https://example.com/", 1767225600)
    >>> tokens.read_click(tokens.sign_click(click)) == click
    True
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any, NamedTuple

from itsdangerous import BadData, URLSafeSerializer

from gateway.email.identity import CAMPAIGN
from gateway.inputs import is_subject
from gateway.signing import SALT_CLICK, SALT_OPEN, SALT_PREFS, make_serializer

MAX_TOKEN_LENGTH = 4096
SALT_PREFS_FORM = SALT_PREFS + ".form"  # the preferences page's CSRF token
HONEYPOT_LINK = 0


class ClickToken(NamedTuple):
    """A verified click token (a tuple: built at C speed on every `/c`)."""

    campaign: str
    subject: str
    link: int  # position of the link in the email, from 1; 0 is the hidden honeypot link
    target: str
    sent_at: int  # unix seconds

    @property
    def is_honeypot(self) -> bool:
        return self.link == HONEYPOT_LINK


class OpenToken(NamedTuple):
    """A verified open token; as a tuple it is also its message's key (campaign, subject,
    send time)."""

    campaign: str
    subject: str
    sent_at: int


class _PositionalJSON:
    @staticmethod
    def loads(payload: str | bytes) -> Any:
        return json.loads(payload)

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _untimed(keys: tuple[str, ...], salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        list(keys),
        salt=salt,
        serializer=_PositionalJSON,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


class _Reader:
    """Reads what `_untimed` signs, with each key derived once.

    itsdangerous derives the key and builds its signers again on every `loads`; on `/o` and
    `/c` that was ~40 µs of a request, most of its cost. This is the same check — the
    "django-concat" key derivation, HMAC-SHA256 of the payload text, newest key first,
    constant-time comparison — with the keys derived up front. Tokens signed by itsdangerous
    verify here (the tests sign with one and read with the other).

    One HMAC per key tried, compared as text (the expected signature is encoded, the sent one
    is never decoded), and the payload decoded straight from its base64 and JSON with the C
    codecs — no wrappers on the request path.
    """

    def __init__(self, keys: tuple[str, ...], salt: str) -> None:
        # An HMAC object per key with the key already absorbed: each check copies it, which
        # skips OpenSSL's per-call key setup (`hmac.digest` costs about half again as much).
        self._keys = [
            hmac.new(
                hashlib.sha256(salt.encode() + b"signer" + key.encode()).digest(),
                digestmod=hashlib.sha256,
            )
            for key in reversed(keys)
        ]

    def loads(self, token: str) -> Any:
        """The payload, or None for anything that does not verify or decode."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            value, dot, signature = token.encode("ascii").rpartition(b".")
            signature = signature.rstrip(b"=")  # padding, if a client added it
            if not dot or len(signature) != _SIGNATURE_LENGTH:
                return None
            for key in self._keys:
                if hmac.compare_digest(_signature_text(key, value), signature):
                    return _payload(value)
        except (ValueError, UnicodeError, zlib.error, RecursionError):
            return None
        return None


_SIGNATURE_LENGTH = 43  # a SHA-256 digest in unpadded URL-safe base64
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_JSON = json.JSONDecoder()


def _signature_text(key: hmac.HMAC, value: bytes) -> bytes:
    """The URL-safe base64 text (unpadded) of the signature of `value`."""
    mac = key.copy()
    mac.update(value)
    encoded = binascii.b2a_base64(mac.digest(), newline=False)
    return encoded[:_SIGNATURE_LENGTH].translate(_TO_URLSAFE)


def _unbase64(data: bytes) -> bytes:
    """URL-safe base64, padding optional; only its alphabet (a stray byte is an error, as in
    `base64.urlsafe_b64decode`'s validation of what it translates)."""
    return binascii.a2b_base64(
        data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4), strict_mode=True
    )


def _payload(value: bytes) -> Any:
    if value.startswith(b"."):  # itsdangerous' mark of a zlib-compressed payload
        inflated = zlib.decompressobj().decompress(_unbase64(value[1:]), MAX_TOKEN_LENGTH * 8)
        return _json(inflated)
    return _json(_unbase64(value))


def _json(data: bytes) -> Any:
    """One JSON document, UTF-8 (what `_PositionalJSON.dumps` writes), nothing around it."""
    text = data.decode("utf-8")
    payload, end = _JSON.raw_decode(text)
    if end != len(text) and text[end:].strip():
        raise ValueError("text after the JSON document")
    return payload


class EmailTokens:
    """Signs and reads the three email tokens (and the preferences page's form token)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._click = _untimed(keys, SALT_CLICK)
        self._open = _untimed(keys, SALT_OPEN)
        self._preferences = _untimed(keys, SALT_PREFS)
        self._click_reader = _Reader(keys, SALT_CLICK)
        self._open_reader = _Reader(keys, SALT_OPEN)
        self._preferences_reader = _Reader(keys, SALT_PREFS)
        self._form = make_serializer(keys, SALT_PREFS_FORM)

    def sign_click(self, click: ClickToken) -> str:
        payload = [click.campaign, click.subject, click.link, click.target, click.sent_at]
        return _text(self._click.dumps(payload))

    def sign_open(self, opened: OpenToken) -> str:
        return _text(self._open.dumps([opened.campaign, opened.subject, opened.sent_at]))

    def sign_preferences(self, subject: str) -> str:
        return _text(self._preferences.dumps([subject]))

    def read_click(self, token: str) -> ClickToken | None:
        payload = self._click_reader.loads(token)
        if not (isinstance(payload, list) and len(payload) == 5):
            return None
        campaign, subject, link, target, sent_at = payload
        if not (_is_message(campaign, subject, sent_at) and type(link) is int and link >= 0):
            return None
        return ClickToken(campaign, subject, link, target, sent_at) if _is_str(target) else None

    def read_open(self, token: str) -> OpenToken | None:
        payload = self._open_reader.loads(token)
        if not (isinstance(payload, list) and len(payload) == 3):
            return None
        campaign, subject, sent_at = payload
        return OpenToken(campaign, subject, sent_at) if _is_message(*payload) else None

    def read_preferences(self, token: str) -> str | None:
        payload = self._preferences_reader.loads(token)
        if isinstance(payload, list) and len(payload) == 1 and is_subject(payload[0]):
            return str(payload[0])
        return None

    def sign_form(self, subject: str) -> str:
        return _text(self._form.dumps([subject]))

    def form_is_valid(self, token: str, subject: str, max_age: int) -> bool:
        """A preferences form token for exactly this subject, signed within `max_age` seconds."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return False
        try:
            payload = self._form.loads(token, max_age=max_age)
        except (BadData, ValueError, TypeError, UnicodeError):
            return False
        return bool(payload == [subject])


def _text(token: str | bytes) -> str:
    return token if isinstance(token, str) else token.decode("ascii")


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_message(campaign: object, subject: object, sent_at: object) -> bool:
    return (
        isinstance(campaign, str)
        and CAMPAIGN.fullmatch(campaign) is not None
        and is_subject(subject)
        and type(sent_at) is int
        and sent_at >= 0
    )
