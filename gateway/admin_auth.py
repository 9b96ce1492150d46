"""The admin API's bearer token: `Authorization: Bearer <token>`, checked against SHA-256 hashes.

Only hashes are configured (`GATEWAY_ADMIN_TOKEN_HASHES`); the presented token's SHA-256 is
compared with *every* configured hash in constant time, so neither the comparison nor the
number of hashes tried tells anything about which one (if any) came close. No hash configured
means the admin API is closed to everyone.

    $ token=$(consent-gateway gen-secret)
    $ export GATEWAY_ADMIN_TOKEN_HASHES=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from starlette.requests import Request

from gateway.errors import Forbidden, Unauthorized

MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_is_valid(token: str, hashes: Sequence[str]) -> bool:
    presented = token_hash(token).encode()
    matched = False
    for configured in hashes:
        matched |= hmac.compare_digest(presented, configured.lower().encode())
    return matched


def require_admin(request: Request, hashes: Sequence[str]) -> None:
    """Return if the request carries a valid admin token; raise `Forbidden` (API closed) or
    `Unauthorized` otherwise."""
    if not hashes:
        raise Forbidden(
            "admin API closed: no admin token is configured (GATEWAY_ADMIN_TOKEN_HASHES)"
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("send the admin token as Authorization: Bearer <token>")
    if not token_is_valid(token, hashes):
        raise Unauthorized("the admin token is not valid")
