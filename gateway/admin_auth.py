"""The admin API's bearer token: `Authorization: Bearer <token>`, checked against SHA-256 hashes.

Only hashes are configured (`GATEWAY_ADMIN_TOKEN_HASHES`); the presented token's SHA-256 is
compared with *every* configured hash in constant time, so neither the comparison nor the
number of hashes tried tells anything about which one (if any) came close. No hash configured
means the admin API is closed to everyone.

Wrong tokens are rate-limited per client network (`FailedAdminAttempts`, shared by the API and
the dashboard's login form): past a burst of failures, every attempt from that network is
refused with 429 and `Retry-After` — without checking the token, so a guesser learns nothing.
The count is kept in the store: wrong tokens sent to one instance count on all of them.

    $ token=$(consent-gateway gen-secret)
    $ export GATEWAY_ADMIN_TOKEN_HASHES=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request

from gateway.errors import Forbidden, StoreUnavailable, TooManyRequests, Unauthorized
from gateway.settings.values import Network
from gateway.store.shared import SharedState
from gateway.visitors.network import client_ip

MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_is_valid(token: str, hashes: Sequence[str]) -> bool:
    presented = token_hash(token).encode()
    matched = False
    for configured in hashes:
        matched |= hmac.compare_digest(presented, configured.lower().encode())
    return matched


class FailedAdminAttempts:
    """A token bucket of failed admin tokens per client network (an IPv4 address, an IPv6 /64),
    kept in the store so that every instance and worker counts the same failures.

    A client may fail `burst` times in a row, then once more every `refill_seconds`. Only
    failures cost: an admin who types the token right is never slowed down. The bucket is
    kept as one moment, when it is full again (GCRA): a failure moves it `refill_seconds`
    later (at most `burst` refills ahead), and a client may try while it is less than
    `burst - 1` refills ahead. Without a store, or while it is down, this process's memory
    counts (bounded by `max_clients`, the least recently failing client forgotten first).
    """

    def __init__(
        self,
        trusted_proxies: Sequence[Network] = (),
        *,
        store: SharedState | None = None,
        burst: int = 10,
        refill_seconds: float = 6.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trusted_proxies, self.store = trusted_proxies, store
        self.burst, self.refill_seconds = burst, refill_seconds
        self.max_clients, self.clock = max_clients, clock
        self._full_at: OrderedDict[str, float] = OrderedDict()  # this process's own count

    def client_of(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        address = client_ip(peer, request.headers.get("x-forwarded-for"), self.trusted_proxies)
        if address is None:
            return "unknown"
        prefix = 32 if address.version == 4 else 64
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))

    async def _shared_full_at(self, client: str, now: float) -> float:
        if self.store is None:
            return 0.0
        try:
            return await self.store.mark(f"admin-failures|{client}", now) or 0.0
        except StoreUnavailable:
            return 0.0

    async def retry_after(self, client: str) -> int:
        """0 if `client` may try now, else the whole seconds until it may."""
        now = self.clock()
        full_at = max(self._full_at.get(client, 0.0), await self._shared_full_at(client, now))
        wait = full_at - now - (self.burst - 1) * self.refill_seconds
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    async def failed(self, client: str) -> None:
        now = self.clock()
        most = self.burst * self.refill_seconds
        full_at = min(max(self._full_at.get(client, 0.0), now) + self.refill_seconds, now + most)
        if self.store is not None:
            with contextlib.suppress(StoreUnavailable):
                shared = await self.store.push_mark(
                    f"admin-failures|{client}", self.refill_seconds, now, most
                )
                full_at = max(full_at, shared)
        self._full_at[client] = full_at
        self._full_at.move_to_end(client)
        while len(self._full_at) > self.max_clients:
            self._full_at.popitem(last=False)

    async def check(self, client: str) -> None:
        """Raise `TooManyRequests` if `client` has used up its failures."""
        wait = await self.retry_after(client)
        if wait:
            raise TooManyRequests(
                f"too many wrong admin tokens from this address; try again in {wait} s",
                retry_after=wait,
            )


@dataclass(frozen=True, slots=True)
class AdminGuard:
    """The admin API's door: the configured token hashes and the limiter of wrong tokens
    (one `FailedAdminAttempts`, built by `Gateway.build`, shared with the dashboard's login)."""

    hashes: Sequence[str]
    attempts: FailedAdminAttempts

    async def require(self, request: Request) -> None:
        """Return if the request carries a valid admin token; raise `Forbidden` (API closed),
        `TooManyRequests` (too many wrong tokens from this client) or `Unauthorized` otherwise."""
        if not self.hashes:
            raise Forbidden(
                "admin API closed: no admin token is configured (GATEWAY_ADMIN_TOKEN_HASHES)"
            )
        attempts = self.attempts
        client = attempts.client_of(request)
        await attempts.check(client)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send the admin token as Authorization: Bearer <token>")
        if len(token) > MAX_TOKEN_LENGTH or not token_is_valid(token, self.hashes):
            await attempts.failed(client)  # a missing token is no guess; a wrong one is
            raise Unauthorized("the admin token is not valid")
