"""What the hot paths count — requests, their latency, pixel decisions — in plain dicts.

A request adds to a `Tally` without taking prometheus' lock (nor, with several workers,
writing its files); `gateway.metrics.Metrics.flush` moves the growth into the prometheus
objects at each scrape and heartbeat.
"""

from __future__ import annotations

from bisect import bisect_left

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RequestKey = tuple[str, str, int]  # route template, method, status


class Tally:
    """What the hot paths count, in plain dicts (cumulative since start).

    >>> tally = Tally()
    >>> tally.request("/t/{vendor}", "GET", 200, 0.0007)
    >>> tally.requests, tally.latency["/t/{vendor}"][0]
    ({('/t/{vendor}', 'GET', 200): 1}, 1.0)
    """

    def __init__(self) -> None:
        self.requests: dict[RequestKey, int] = {}
        # Per route: one count per bucket (+Inf last), then the sum of seconds.
        self.latency: dict[str, list[float]] = {}
        self.decisions: dict[tuple[str, str, str], int] = {}
        self.superseded: dict[str, int] = {}  # by how a stale token was read
        self.pii_redacted: dict[str, int] = {}  # values with an e-mail address, by vendor

    def redacted(self, vendor: str, values: int) -> None:
        if values:
            self.pii_redacted[vendor] = self.pii_redacted.get(vendor, 0) + values

    def superseded_token(self, how: str) -> None:
        self.superseded[how] = self.superseded.get(how, 0) + 1

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        cells = self.latency.get(route)
        if cells is None:
            cells = self.latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        cells[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        cells[-1] += seconds

    def decision(self, vendor: str, outcome: str, reason: str) -> None:
        key = (vendor, outcome, reason)
        self.decisions[key] = self.decisions.get(key, 0) + 1
