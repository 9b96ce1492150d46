"""State that every instance and worker must see alike, kept in the store (`Store.shared`).

    marks         a name → a moment, gone after it: admin lockouts (a token bucket kept as the
                  time it is full again, GCRA-style) and ended dashboard sessions
    changes       one counter bumped by every objection and erasure: instances poll it (a few
                  cheap reads a second) and re-read objections when it moves
    clicks        the recent clicks of each email message (a minute): burst and honeypot checks
                  see the clicks that reached any instance
    heartbeats    each instance's latest figures (queue, spool, store health), for `/readyz`
                  and the dashboard
    leases        a periodic job (the purge) taken by one of many instances per period

Every operation is one round trip; none is on a hot path (the pixel and click routes only
append to memory, and a background task moves clicks here in batches).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

CLICK_WINDOW_SECONDS = 60.0  # longer than any burst or honeypot window, and than settling


class Click(NamedTuple):
    """One click of one message (`message` is `campaign|subject|sent_at`)."""

    message: str
    subject: str
    at: float
    link: int


class ClickSpan(NamedTuple):
    """Which remembered clicks to read: those of any link from `since` to `until`, and those
    of the honeypot link (0) from `trap_since` to `trap_until` — a honeypot click discounts
    the clicks 10 s around it, any other only those within a second (a burst). Both included."""

    since: float
    until: float
    trap_since: float
    trap_until: float

    def holds(self, at: float, link: int) -> bool:
        if link == HONEYPOT_CLICK:
            return self.trap_since <= at <= self.trap_until
        return self.since <= at <= self.until


HONEYPOT_CLICK = 0  # the link number of the hidden honeypot link (`gateway.email.tokens`)
EVERY_CLICK = ClickSpan(-math.inf, math.inf, -math.inf, math.inf)


class SharedState(Protocol):
    async def mark(self, name: str, now: float) -> float | None:
        """The moment set for `name` if it is still after `now`, else None."""

    async def set_mark(self, name: str, until: float) -> None:
        """Set `name` to `until` (it is forgotten after that moment)."""

    async def push_mark(self, name: str, by: float, now: float, most: float) -> float:
        """Atomically move `name` to `max(mark, now) + by`, at most `now + most`; return it."""

    async def bump_changes(self) -> None:
        """Say that objections or erasures changed (every instance re-reads them)."""

    async def changes(self) -> int:
        """How many changes were announced so far (only its movement means anything)."""

    async def add_clicks(self, clicks: Sequence[Click], now: float) -> None:
        """Remember clicks for `CLICK_WINDOW_SECONDS` after `now`."""

    async def message_clicks(
        self, messages: Sequence[tuple[str, str]], span: ClickSpan = EVERY_CLICK
    ) -> dict[str, list[tuple[float, int]]]:
        """The remembered clicks (time, link) of each `(message, subject)`, by message: those
        in `span`."""

    async def put_heartbeat(self, instance: str, figures: str, now: float, ttl: float) -> None:
        """Publish an instance's figures (JSON) as of `now`; they count until `now + ttl`."""

    async def heartbeats(self, now: float) -> Mapping[str, str]:
        """Every live instance's latest figures (JSON), by instance name."""

    async def claim(self, name: str, seconds: float, now: float) -> bool:
        """Take the lease `name` for `seconds` if nobody holds it; True if taken. Lets one of
        many instances run a periodic job (the purge) per period."""
