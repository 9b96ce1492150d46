"""What each vendor protocol allows a late hit: its event-time field and how old it may be.

Checked against the vendors' documentation (November 2026):

- Matomo HTTP Tracking API (`matomo.php`): `cdt` overrides the request time (UTC datetime or
  unix timestamp); a `cdt` older than 24 hours is accepted only with `token_auth`, which the
  gateway does not hold — so Matomo hits are sent with `cdt` and dead-lettered after 24 h.
- GA4 Measurement Protocol (`/mp/collect`, JSON): `timestamp_micros`, at most 72 hours back.
- GA4 gtag web protocol (`/g/collect`, what the shipped rule uses): no documented field for
  the event time; a late hit is dated on arrival. The general maximum age applies.
- Plausible Events API (`/api/event`): no timestamp field; dated on arrival.
- Meta pixel (`/tr`) and LinkedIn Insight: shipped as `redirect` rules, never queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from gateway.model.outbound_hits import OutboundHit

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Protocol:
    name: str
    max_age_seconds: float | None  # the protocol's own limit, if any

    def with_event_time(self, hit: OutboundHit, queued_at: float) -> OutboundHit:
        if self.name == "matomo":
            url = hit.url
            if "cdt=" in url:  # never from a browser (the rule drops it), but never twice
                base, _, query = url.partition("?")
                kept = "&".join(p for p in query.split("&") if p and not p.startswith("cdt="))
                url = f"{base}?{kept}" if kept else base
            url += f"{'&' if '?' in url else '?'}cdt={int(queued_at)}"
            return OutboundHit(hit.vendor, hit.method, url, hit.headers, hit.body)
        if self.name == "ga4_mp" and hit.body:
            try:
                document = json.loads(hit.body)
            except ValueError:
                return hit
            if isinstance(document, dict):
                document["timestamp_micros"] = int(queued_at * 1_000_000)
                return replace(hit, body=json.dumps(document, separators=(",", ":")).encode())
        return hit


_NONE = Protocol("plain", None)


def protocol_of(url: str) -> Protocol:
    """The protocol a hit's upstream speaks, recognised by its path.

    >>> protocol_of("https://m.example.com/matomo.php?idsite=1").name
    'matomo'
    >>> protocol_of("https://www.google-analytics.com/mp/collect?api_secret=x").max_age_seconds
    259200.0
    """
    path = urlsplit(url).path
    if path.endswith(("/matomo.php", "/piwik.php")):
        return Protocol("matomo", DAY)
    if path.endswith("/mp/collect"):
        return Protocol("ga4_mp", 3 * DAY)
    return _NONE
