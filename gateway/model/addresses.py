"""A client's IP address, and the only form of it the gateway keeps: truncated.

>>> import ipaddress
>>> truncate_ip(ipaddress.ip_address("203.0.113.77"))
'203.0.113.0'
>>> truncate_ip(ipaddress.ip_address("2001:db8:abcd:12::1"))
'2001:db8:abcd::'
>>> truncate_ip(ipaddress.ip_address("::ffff:198.51.100.9")), truncate_ip(None)
('198.51.100.0', '')
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=65536)
def truncate_ip(address: IPAddress | None) -> str:
    """IPv4 to its /24, IPv6 to its /48 (`203.0.113.77` → `203.0.113.0`); '' for unknown."""
    if address is None:
        return ""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
