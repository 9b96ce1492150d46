"""`/metrics` for Prometheus: to internal clients, or to a scraper holding a metrics token.

"Internal" is decided on the *effective* client address — the rightmost hop that is not a
trusted proxy (`GATEWAY_TRUSTED_PROXIES`) — so a public visitor behind the gateway's own load
balancer is not mistaken for the load balancer. A scraper elsewhere sends
`Authorization: Bearer <token>` whose SHA-256 is in `GATEWAY_METRICS_TOKEN_HASHES`, compared
in constant time with every configured hash; wrong tokens are rate-limited per client network
with the admin tokens' limiter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin_auth import MAX_TOKEN_LENGTH, FailedAdminAttempts, token_is_valid
from gateway.errors import Forbidden, Unauthorized
from gateway.metrics import CONTENT_TYPE, Metrics
from gateway.model.addresses import IPAddress
from gateway.settings.values import Network
from gateway.visitors.network import client_ip


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    """What `/metrics` uses, and nothing else: the metrics, the scrapers' token hashes, the
    limiter of wrong tokens (the admin tokens' one) and the trusted proxies."""

    metrics: Metrics
    token_hashes: Sequence[str]
    attempts: FailedAdminAttempts
    trusted_proxies: Sequence[Network]

    def routes(self) -> list[Route]:
        return [Route("/metrics", self.scrape, methods=["GET"])]

    async def scrape(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and self.token_hashes:
            # Wrong tokens cost as wrong admin tokens do: past a burst, 429 without a check.
            attempts = self.attempts
            client = attempts.client_of(request)
            await attempts.check(client)
            if len(token) > MAX_TOKEN_LENGTH or not token_is_valid(token, self.token_hashes):
                await attempts.failed(client)
                raise Unauthorized("the metrics token is not valid")
        else:
            peer = request.client.host if request.client else None
            forwarded = request.headers.get("x-forwarded-for")
            if not is_internal(client_ip(peer, forwarded, self.trusted_proxies)):
                raise Forbidden(
                    "metrics are served to internal addresses, or with a metrics token"
                    " (GATEWAY_METRICS_TOKEN_HASHES)"
                )
        return Response(
            self.metrics.render(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"}
        )


def is_internal(address: IPAddress | None) -> bool:
    """A loopback, private or otherwise non-public address (an IPv4-mapped one as its IPv4).

    >>> from ipaddress import ip_address
    >>> is_internal(ip_address("10.1.2.3")), is_internal(ip_address("::ffff:8.8.8.8"))
    (True, False)
    """
    if address is None:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global
