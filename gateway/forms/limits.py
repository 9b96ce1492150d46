"""How many confirmation mails the gateway sends, per address per day and per client per hour.

Without limits a consent form would be a way to mail strangers. Each limit is a token bucket
kept in the store as one moment (GCRA, like the admin lockout): every instance counts the same
mails. A send moves the moment one refill later, at most one refill past a full bucket, and is
allowed while the moment stays within the bucket — one atomic store call per limit. A client
that keeps sending while refused stays refused (each refusal costs it one refill). While the
store is down nothing is sent (a confirmation mail is not worth an open relay).

The address is never a key: its subject (the keyed hash) is. The client is its network (an
IPv4 address, an IPv6 /64).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.store.shared import SharedState


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # "address" or "client": also the refusal's reason
    most: int  # sends per period
    period_seconds: float

    @property
    def refill_seconds(self) -> float:
        return self.period_seconds / self.most


class OptInLimits:
    def __init__(self, store: SharedState, per_address_per_day: int, per_client_per_hour: int):
        self.store = store
        self.address = Limit("address", per_address_per_day, 86400.0)
        self.client = Limit("client", per_client_per_hour, 3600.0)

    async def take(self, subject: str, client: str, now: float) -> tuple[str, int] | None:
        """Count one mail to `subject` asked by `client`; None if allowed, else the limit's
        name and the seconds until it allows one again."""
        for limit, who in ((self.client, client), (self.address, subject)):
            refused = await self._take(limit, who, now)
            if refused is not None:
                return limit.name, refused
        return None

    async def _take(self, limit: Limit, who: str, now: float) -> int | None:
        refill = limit.refill_seconds
        full_at = await self.store.push_mark(
            f"opt-in|{limit.name}|{who}", refill, now, (limit.most + 1) * refill
        )
        over = full_at - now - limit.most * refill
        # A refused send moved the moment too (to its cap): the next one is allowed once the
        # moment is a refill inside the bucket again.
        # (Redis keeps the moment as Lua prints it, to ~14 digits: allow for the rounding.)
        return None if over <= min(1.0, refill / 2) else max(1, math.ceil(over + refill))
