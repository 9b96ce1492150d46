"""What an edge's hit appender counts per vendor: hits queued, and hits refused and why.

The appender (`gateway.tracking.appender.HitAppender`) keeps them; the delivery monitor reports them
beside the queue's depth and the worker's counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EdgeCounts:
    queued: int = 0  # appended to the store
    overflowed: int = 0  # refused: the vendor's queue was at its cap (entries or bytes)
    dropped: int = 0  # refused: the buffer was full while the store was down
    yielded: int = 0  # refused: an anonymous ping over its share, kept for consented hits
    over_share: int = 0  # refused: its client held its most of the vendor's queue
