"""Clocks for tests: time is controlled, not waited for, and a test never crosses midnight.

The stores keep events and counters by the real clock (retention), so a test's clock starts at
the real now — or a little earlier when that is close to midnight UTC — and then runs at real
speed: every day a test computes from it is the day its records were written under.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

MARGIN = 1800.0  # no test runs for half an hour


class SteadyClock:
    """Real-speed time that stays within one UTC day for the next `MARGIN` seconds."""

    def __init__(self) -> None:
        now = time.time()
        midnight = (now // 86400 + 1) * 86400
        self._start = min(now, midnight - MARGIN)
        self._started = time.monotonic()

    def __call__(self) -> float:
        return self._start + (time.monotonic() - self._started)

    def today(self) -> date:
        return datetime.fromtimestamp(self(), UTC).date()

    def day(self) -> str:
        """Today as the counters name it (YYYY-MM-DD, UTC)."""
        return self.today().isoformat()


class FixedClock:
    """Time that moves only when a test moves it (`clock.now += 30`)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
