"""An outbound hit: the one request the gateway sends a vendor for a hit it decided to forward.

The edge shapes it (`gateway.tracking.hits.outbound_hit`), the queue keeps it
(`gateway.delivery.queue.QueuedHit`), a sender sends it (`gateway.delivery.sender`).

    >>> hit = OutboundHit("ga4", "GET", "https://example.test/g/collect?v=2", (("a", "b"),))
    >>> hit.size  # URL, body and headers
    36
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class OutboundHit:
    """One request a delivery worker will send; everything in it was allowed by a rule."""

    vendor: str
    method: str
    url: str  # the rule's upstream, plus the query string for query-encoded hits
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    # How many values had an e-mail address replaced (counted at the edge, never queued).
    redacted: int = field(default=0, compare=False)

    @property
    def size(self) -> int:
        """What it takes in the queue, near enough: URL, body and headers."""
        return len(self.url) + len(self.body) + sum(len(n) + len(v) for n, v in self.headers)
