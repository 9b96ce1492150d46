"""A decided hit: what the edge queues for a `forward` or `anonymous` decision.

The edge decides and keeps only what the decision allows (`gateway.tracking.hits.decided_hit`);
the delivery worker shapes it into its vendor's request right before sending
(`gateway.delivery.shaping.vendor_request`). It holds no more personal data than that request:

- `pairs`: the client's parameters the rule lets pass for this decision (allowlisted, no
  identifier on an anonymous ping, advertising ids only while marketing is signalled), with
  e-mail addresses redacted and, on an anonymous ping, URL queries stripped — the values the
  vendor will get. A value still percent-encoded as it arrived is an `Encoded`; any other (a
  JSON body's value, a redacted text) is plain;
- `consent_mode`: the Consent Mode parameters the decision allows (`gcs`, `gcd`), if any;
- `ip`: the sender's address as the vendor may see it — truncated on an anonymous ping, or
  when the rule truncates; empty when the rule sends none;
- `user_agent`: the visitor's agent (at most `MAX_AGENT` characters) on a consented hit;
  empty on an anonymous ping (the vendor gets the gateway's own).

    >>> hit = DecidedHit("ga4", (("en", Encoded("page_view")),), anonymous=True, ip="192.0.2.0")
    >>> hit.names
    ['en']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.model.encoded import Encoded  # noqa: F401 -- for the doctest

MAX_AGENT = 512  # characters of a User-Agent forwarded: a longer one is cut


@dataclass(frozen=True, slots=True)
class DecidedHit:
    """The decided raw hit of one forwarded event (see the module docstring)."""

    vendor: str
    pairs: tuple[tuple[str, Any], ...]
    anonymous: bool = False
    consent_mode: tuple[tuple[str, str], ...] = ()
    ip: str = ""
    user_agent: str = ""
    # How many values had an e-mail address replaced (counted at the edge, never queued).
    redacted: int = field(default=0, compare=False)

    @property
    def names(self) -> list[str]:
        """The names of its parameters (a dead letter keeps these, never the values)."""
        return [name for name, _ in (*self.pairs, *self.consent_mode)]
