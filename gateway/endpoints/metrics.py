"""`/metrics` for Prometheus: to internal clients, or to a scraper holding a metrics token.

"Internal" is decided on the *effective* client address — the rightmost hop that is not a
trusted proxy (`GATEWAY_TRUSTED_PROXIES`) — so a public visitor behind the gateway's own load
balancer is not mistaken for the load balancer. A scraper elsewhere sends
`Authorization: Bearer <token>` whose SHA-256 is in `GATEWAY_METRICS_TOKEN_HASHES`, compared
in constant time with every configured hash; wrong tokens are rate-limited per client network
with the admin tokens' limiter.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin_auth import MAX_TOKEN_LENGTH, failed_admin_attempts, token_is_valid
from gateway.errors import Forbidden, Unauthorized
from gateway.metrics import CONTENT_TYPE
from gateway.model.addresses import IPAddress
from gateway.runtime import gateway_of
from gateway.visitors.network import client_ip


async def metrics(request: Request) -> Response:
    gateway = gateway_of(request)
    settings = gateway.settings
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and settings.admin.metrics_token_hashes:
        # Wrong tokens cost as wrong admin tokens do: past a burst, 429 without a check.
        attempts = failed_admin_attempts(request)
        client = attempts.client_of(request)
        await attempts.check(client)
        if len(token) > MAX_TOKEN_LENGTH or not token_is_valid(
            token, settings.admin.metrics_token_hashes
        ):
            await attempts.failed(client)
            raise Unauthorized("the metrics token is not valid")
    else:
        peer = request.client.host if request.client else None
        forwarded = request.headers.get("x-forwarded-for")
        if not is_internal(client_ip(peer, forwarded, settings.network.trusted_proxies)):
            raise Forbidden(
                "metrics are served to internal addresses, or with a metrics token"
                " (GATEWAY_METRICS_TOKEN_HASHES)"
            )
    return Response(
        gateway.metrics.render(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"}
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


routes = [Route("/metrics", metrics, methods=["GET"])]
