"""Who an email is for, without ever holding their address: subjects and campaigns.

A subject is either an id from the email service provider (`esp-1234`) or a keyed hash of the
address (`recipient_id`). Neither may contain `@`, so an address can never slip in as an id.

    >>> key = recipient_key(("k" * 32,))
    >>> recipient_id(" Ada@Example.com ", key) == recipient_id("ada@example.com", key)
    True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata

from gateway.errors import Unprocessable
from gateway.inputs import is_subject

CAMPAIGN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_KEY_LABEL = b"cg.recipient"


def recipient_key(keys: tuple[str, ...]) -> bytes:
    """The key for `recipient_id`, derived from the *oldest* secret key.

    The oldest key, because a subject must stay the same while keys rotate: adding a new key
    changes nothing; dropping the oldest one changes every hashed subject (ESP ids are unaffected).
    """
    return hmac.new(keys[0].encode(), _KEY_LABEL, hashlib.sha256).digest()


def normalise_address(address: str) -> str:
    return unicodedata.normalize("NFC", address).strip().lower()


def recipient_id(address: str, key: bytes) -> str:
    """The subject for an email address: HMAC-SHA256 of the normalised address under `key`,
    cut to 128 bits (22 URL-safe characters) — compact in links, never reversible without the key.
    """
    digest = hmac.new(key, normalise_address(address).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def subject_for(recipient: object, key: bytes) -> str:
    """The subject for `recipient`: an address is hashed, an ESP id is checked and kept."""
    if not isinstance(recipient, str):
        raise Unprocessable('"recipient" must be an ESP id or an email address')
    if "@" in recipient:
        address = normalise_address(recipient)
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c.isspace() for c in address):
            raise Unprocessable('"recipient" is neither an ESP id nor a valid email address')
        return recipient_id(address, key)
    if not is_subject(recipient):
        raise Unprocessable(
            '"recipient": an ESP id has 1 to 64 letters, digits or "._:-" (or pass the email'
            " address: it is hashed)"
        )
    return recipient


def checked_campaign(campaign: object) -> str:
    if not isinstance(campaign, str) or CAMPAIGN.fullmatch(campaign) is None:
        raise Unprocessable('"campaign" must be 1 to 64 letters, digits or "._:-"')
    return campaign
