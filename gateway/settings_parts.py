"""Parts of the settings, each handed only to what needs it (`Settings.policy`, `.email`,
`.network`): a part holds no secret, and a component built from one cannot reach the rest.

    >>> from gateway.settings import Settings
    >>> Settings(policy_revision=3).policy.revision
    3
    >>> Settings(email_min_click_seconds=4).email.min_click_seconds
    4
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """What a receipt cites and what may be chosen or objected to."""

    revision: int
    url: str
    categories: tuple[str, ...]
    email_category: str
    consent_days: int


@dataclass(frozen=True, slots=True)
class EmailPart:
    """Email links, opens and clicks, and recipients' consent."""

    category: str
    public_url: str
    target_hosts: tuple[str, ...]
    aggregates: bool  # count opens and clicks per campaign without consent (anonymous)
    consent_cache_seconds: float
    min_click_seconds: float


@dataclass(frozen=True, slots=True)
class NetworkPart:
    """What the gateway may read from a request's network facts."""

    trusted_proxies: tuple[Network, ...]
    geo_header: str | None
    opt_out_regions: tuple[str, ...]
