"""Delivery decisions that need no I/O: what an answer means, how long to wait, when to stop.

>>> classify(200), classify(404), classify(429), classify(503)
('delivered', 'rejected', 'retry', 'retry')
>>> retry_after_seconds("120", now=0.0), retry_after_seconds("soon", now=0.0)
(120.0, None)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

Verdict = Literal["delivered", "rejected", "retry"]

BASE_DELAY = 0.5
MAX_DELAY = 60.0


def classify(status: int) -> Verdict:
    """2xx/3xx: the vendor has it (redirects are never followed); 429 and 5xx: try again
    later; any other 4xx: the vendor refuses this hit and will refuse it again."""
    if status == 429 or status >= 500:
        return "retry"
    if status >= 400:
        return "rejected"
    return "delivered"


def backoff_seconds(
    attempt: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with equal jitter: attempt 1 waits 0.25–0.5 s, doubling up to a
    minute; a vendor's `Retry-After` is a floor (capped at ten minutes).

    >>> backoff_seconds(1, rand=lambda: 1.0), backoff_seconds(3, rand=lambda: 0.0)
    (0.5, 1.0)
    >>> backoff_seconds(1, retry_after=30.0, rand=lambda: 0.0)
    30.0
    """
    ceiling = min(MAX_DELAY, BASE_DELAY * 2.0 ** (attempt - 1))
    delay = ceiling / 2 + rand() * ceiling / 2
    return max(delay, min(retry_after, 600.0)) if retry_after is not None else delay


def retry_after_seconds(value: str, now: float) -> float | None:
    """`Retry-After` as seconds from `now`: delta-seconds or an HTTP date; None if unreadable."""
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


@dataclass
class CircuitBreaker:
    """Per vendor: after `threshold` failures in a row, stop sending for a cool-down (doubling
    up to `max_cooldown`), then let one probe through; a success closes it again.

    >>> now = [0.0]; breaker = CircuitBreaker(threshold=2, clock=lambda: now[0])
    >>> breaker.record_failure(); breaker.allows()
    True
    >>> breaker.record_failure(); breaker.allows(), breaker.state
    (False, 'open')
    >>> now[0] = 1.0; breaker.allows(), breaker.allows()   # one probe only
    (True, False)
    >>> breaker.record_success(); breaker.state
    'closed'
    """

    threshold: int = 5
    base_cooldown: float = 1.0
    max_cooldown: float = 30.0
    clock: Callable[[], float] = field(default=lambda: 0.0)
    failures: int = 0
    opened_at: float | None = None
    cooldown: float = 0.0
    probing: bool = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() >= self.opened_at + self.cooldown else "open"

    def allows(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self.probing:
            self.probing = True
            return True
        return False

    def wait_seconds(self) -> float:
        """How long until the breaker may let a probe through (0 if it does now)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.cooldown - self.clock())

    def record_success(self) -> None:
        self.failures, self.opened_at, self.cooldown, self.probing = 0, None, 0.0, False

    def record_failure(self) -> None:
        self.failures += 1
        if self.probing or (self.opened_at is None and self.failures >= self.threshold):
            reopened = self.opened_at is not None
            self.cooldown = (
                min(self.max_cooldown, self.cooldown * 2) if reopened else self.base_cooldown
            )
            self.opened_at = self.clock()
            self.probing = False
