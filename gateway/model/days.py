"""Day keys: the UTC day a moment falls on, as the store and the counters write it.

>>> day_of(1_795_000_000.0)
'2026-11-18'
>>> day_of(1_794_960_000.0), day_of(1_794_960_000.0 - 0.001)  # midnight UTC and just before
('2026-11-18', '2026-11-17')
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def day_of(timestamp: float) -> str:
    """The UTC day of a unix time, as YYYY-MM-DD."""
    return _day_name(int(timestamp // 86400))


@lru_cache(maxsize=64)
def _day_name(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86400, UTC).strftime("%Y-%m-%d")
