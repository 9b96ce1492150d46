"""Client IP through trusted proxies only (uvicorn test_proxy_headers style), and truncation."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.model.addresses import truncate_ip
from gateway.visitors.network import client_ip, parse_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        ("203.0.113.9", None, PROXIES, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # nobody trusted: header ignored
        ("203.0.113.9", "198.51.100.1", PROXIES, "203.0.113.9"),  # peer is not a proxy: ignored
        ("10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", PROXIES, "198.51.100.1"),  # spoofed left hop ignored
        ("10.0.0.2", "198.51.100.1, 10.0.0.7", PROXIES, "198.51.100.1"),  # chain of proxies
        ("10.0.0.2", "10.0.0.9, 10.0.0.7", PROXIES, "10.0.0.9"),  # all proxies: leftmost
        ("10.0.0.2", "garbage, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, garbage", PROXIES, "10.0.0.2"),  # malformed: stop at proxy
        ("::1", "2001:db8::5", PROXIES, "2001:db8::5"),
        ("10.0.0.2", "[2001:db8::5]", PROXIES, "2001:db8::5"),
        (None, "198.51.100.1", PROXIES, None),
        ("not-an-ip", None, PROXIES, None),
    ],
)
def test_client_ip(peer, forwarded_for, trusted, expected) -> None:
    result = client_ip(peer, forwarded_for, trusted)
    assert (str(result) if result else None) == expected


@pytest.mark.parametrize(
    ("address", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:1234:5678::1", "2001:db8:abcd::"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        (None, ""),
    ],
)
def test_truncate_ip(address, truncated) -> None:
    assert truncate_ip(parse_ip(address)) == truncated
