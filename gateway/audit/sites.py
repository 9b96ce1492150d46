"""Which hosts are one site: the registrable domain by the Public Suffix List.

The list comes with the `publicsuffixlist` package (in the `audit` extra) and is read offline.
Two hosts are one site when they share a registrable domain ("eTLD+1"): `www.shop.co.uk` and
`cdn.shop.co.uk` are; `alice.github.io` and `bob.github.io` are not (`github.io` is a public
suffix); an IP address or a single-label host is a site of its own.

>>> same_site("www.shop.co.uk", "cdn.shop.co.uk"), same_site("alice.github.io", "bob.github.io")
(True, False)
>>> site_of("leaky.site.test"), site_of("127.0.0.1"), site_of("localhost")
('site.test', '127.0.0.1', 'localhost')
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any


@cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList  # the list the package ships, no download

    return PublicSuffixList()


@cache
def site_of(host: str) -> str:
    """The registrable domain of `host`, or the host itself (an IP address, `localhost`)."""
    host = host.lower().rstrip(".").strip("[]")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    private = _suffix_list().privatesuffix(host)
    return str(private) if private else host


def same_site(host: str, other: str) -> bool:
    return site_of(host) == site_of(other)
