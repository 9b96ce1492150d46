"""A parameter value as it arrived: still percent-encoded.

The edge reads it (`gateway.tracking.hits`), the queue keeps it (`gateway.model.decided_hits`)
and the delivery worker sends it on as it came (`gateway.delivery.shaping`).
"""

from __future__ import annotations


class Encoded(str):
    """A value still percent-encoded, as it arrived in a query string or form body.

    Forwarding it as it came avoids decoding and re-encoding every parameter of every hit.
    """

    __slots__ = ()
