"""The client's IP address: taken through configured proxies only.

It is kept only truncated (`gateway.model.addresses.truncate_ip`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from gateway.model.addresses import IPAddress
from gateway.settings.values import Network


@lru_cache(maxsize=4096)  # a site's visitors send from a working set of addresses
def parse_ip(text: str | None) -> IPAddress | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_ip(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]
) -> IPAddress | None:
    """The rightmost address in `peer` + `X-Forwarded-For` that is not a trusted proxy.

    With no trusted proxies the header is ignored: anyone can write it.
    """
    address = parse_ip(peer)
    if address is None or not trusted or not _is_trusted(address, trusted):
        return address
    for hop in reversed((forwarded_for or "").split(",")):
        hop_address = parse_ip(hop)
        if hop_address is None:
            return address  # a malformed hop: stop at the last proxy we trust
        address = hop_address
        if not _is_trusted(address, trusted):
            return address
    return address


def _is_trusted(address: IPAddress, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)
