"""What the stand-in vendor received, waited for with a deadline (the forwarder is async)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from tests.vendors import Received, StandInVendor

GA4 = "/g/collect"
PLAUSIBLE = "/api/event"
META = "/tr"


def params(hit: Received) -> dict[str, Any]:
    """A hit's parameters: its query, plus its body when that is a JSON object."""
    values: dict[str, Any] = dict(hit.query)
    if hit.body.startswith(b"{"):
        values.update(json.loads(hit.body))
    return values


def sent(vendor: StandInVendor, path: str, **expected: str) -> list[Received]:
    """The hits to `path` so far whose parameters include every `expected` value."""
    return [
        hit
        for hit in list(vendor.received)
        if hit.path == path and all(params(hit).get(k) == v for k, v in expected.items())
    ]


async def arrived(
    vendor: StandInVendor, path: str, timeout: float = 10.0, **expected: str
) -> Received:
    """The first hit to `path` with `expected` parameters, once it has arrived."""
    deadline = time.monotonic() + timeout
    while not (found := sent(vendor, path, **expected)):
        if time.monotonic() > deadline:
            seen = [(h.path, params(h)) for h in vendor.received]
            raise AssertionError(f"no hit to {path} with {expected}; the vendor saw {seen}")
        await asyncio.sleep(0.02)
    return found[0]


def everything(vendor: StandInVendor, but: Callable[[Received], bool]) -> list[Received]:
    """Every hit the vendor received except those `but` picks out."""
    return [hit for hit in list(vendor.received) if not but(hit)]
