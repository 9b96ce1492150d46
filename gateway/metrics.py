"""Prometheus metrics: one registry per app, labels bounded (route templates, vendor ids).

Gauges that describe state (forwarder queue, spool depth) are read when scraped. Requests,
their latency and pixel decisions — counted on every hot request — go to a `Tally` of plain
dicts and reach the prometheus objects only when flushed (at each scrape, and every heartbeat
with several workers): a request never takes prometheus' lock nor, in multiprocess mode,
writes its files.

With `serve --workers N` every worker counts into files in `PROMETHEUS_MULTIPROC_DIR`
(prometheus-client's multiprocess mode; `serve` makes and empties the folder), and any worker
answering a scrape sums them all: a scrape counts every worker's requests. The state figures
are then copied into those files by each worker every heartbeat and at each scrape
(`sync_state`): counters grow by what the worker added, the queue depth and its oldest hit
(both read from the store, the same for every worker) and the spool (one file shared by the
workers) are their maximum over live workers.
"""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_GAUGES = {
    "depth": ("cg_delivery_queue_depth", "Hits queued in the store, per vendor."),
    "oldest_age_seconds": (
        "cg_delivery_oldest_hit_age_seconds",
        "Age of the oldest queued hit, per vendor.",
    ),
    "bytes": ("cg_delivery_queue_bytes", "Bytes the queued hits take in the store, per vendor."),
    "cap": ("cg_delivery_queue_cap", "Hits a vendor's queue holds at most."),
    "cap_bytes": ("cg_delivery_queue_cap_bytes", "Bytes a vendor's queue holds at most."),
    "breaker_open": (
        "cg_delivery_breaker_open",
        "1 while this process's circuit breaker for the vendor is not closed (open or probing).",
    ),
}
# The store as read in the background (gateway/store_health.py): name → metric, help, how the
# workers of `serve --workers N` combine it (any worker that cannot reach it says it is down).
_STORE_GAUGES = {
    "up": ("cg_store_up", "1 if the store answered its last ping, 0 if not.", "livemin"),
    "used_bytes": ("cg_store_used_bytes", "Bytes the store uses (Redis: used_memory).", "livemax"),
    "limit_bytes": (
        "cg_store_limit_bytes",
        "The store's memory limit in bytes (Redis: maxmemory); 0 when it has none.",
        "livemax",
    ),
}


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


def multiprocess_dir() -> str | None:
    """The folder the workers of `serve --workers N` count into, if this is one of them."""
    return os.environ.get(MULTIPROCESS_VARIABLE) or None


class RuntimeState(Protocol):
    """What the scrape-time collector reads (implemented by `gateway.runtime.Gateway`)."""

    def appender_counts(self) -> dict[str, int]: ...

    def delivery_report(self) -> dict[str, dict[str, float]]: ...

    def spool_depth(self) -> int: ...

    def store_figures(self) -> dict[str, float]: ...


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        self.tally = Tally()
        self._flushed = Tally()  # what the prometheus objects already hold
        self.requests = Counter(
            "cg_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cg_http_request_duration_seconds",
            "Time to answer, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "cg_pixel_decisions",
            "Hit decisions by vendor, outcome and reason.",
            ["vendor", "outcome", "reason"],
            registry=self.registry,
        )
        self.superseded = Counter(
            "cg_consent_superseded",
            "Consent cookies or app tokens older than their id's latest stored choice, read as"
            " that choice, by how (later_choice, withdrawn, same_second, forgotten).",
            ["how"],
            registry=self.registry,
        )
        self.pii_redacted = Counter(
            "cg_pii_redacted",
            "Hit values whose e-mail addresses were replaced by [email] before leaving, by vendor.",
            ["vendor"],
            registry=self.registry,
        )
        self.rejected_hits = Counter(
            "cg_hits_rejected",
            "Hit bodies refused because the vendor's rule cannot read them, by vendor and reason.",
            ["vendor", "reason"],
            registry=self.registry,
        )
        self.receipts = Counter(
            "cg_receipts",
            "Receipts recorded, by action and where they went (stored or spooled; replayed:"
            " stored later from the spool).",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.email_verdicts = Counter(
            "cg_email_verdicts",
            "Email opens and clicks by kind and verdict.",
            ["kind", "verdict"],
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "cg_store_operation_duration_seconds",
            "Store round trips, by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.scripts = Counter(
            "cg_vendor_scripts",
            "First-party vendor scripts served, by vendor and outcome (cached, fetched, stale,"
            " failed, evicted).",
            ["vendor", "outcome"],
            registry=self.registry,
        )
        self.origin_refusals = Counter(
            "cg_origin_refusals",
            "Browser requests refused because their Origin is not in GATEWAY_ALLOWED_ORIGINS.",
            registry=self.registry,
        )
        self.store_errors = Counter(
            "cg_store_errors",
            "Store operations that failed, by operation.",
            ["operation"],
            registry=self.registry,
        )

    @contextmanager
    def store_call(self, operation: str) -> Iterator[None]:
        """Time one store round trip; count it as an error if it raises."""
        started = time.perf_counter()
        try:
            yield
        except Exception:
            self.store_errors.labels(operation).inc()
            raise
        finally:
            self.store_latency.labels(operation).observe(time.perf_counter() - started)

    def watch(self, state: RuntimeState) -> None:
        self.state = state
        if not self.multiprocess:
            self.registry.register(_StateCollector(state))
            return
        self._gauges = {
            name: Gauge(
                metric, help_text, ["vendor"], registry=self.registry, multiprocess_mode="livemax"
            )
            for name, (metric, help_text) in _GAUGES.items()
        }
        self._counters = {
            name: Counter(f"cg_delivery_{name}", help_text, ["vendor"], registry=self.registry)
            for name, help_text in _DELIVERY_COUNTERS.items()
        }
        self._counted: dict[tuple[str, str], float] = {}
        self._spool = Gauge(
            "cg_spool_depth",
            "Receipts waiting in the local spool.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._store_gauges = {
            name: Gauge(metric, help_text, registry=self.registry, multiprocess_mode=mode)  # type: ignore[arg-type]
            for name, (metric, help_text, mode) in _STORE_GAUGES.items()
        }

    def flush(self) -> None:
        """Add to the prometheus objects what the tally counted since the last flush."""
        tally, flushed = self.tally, self._flushed
        for key, count in tally.requests.items():
            if (grown := count - flushed.requests.get(key, 0)) > 0:
                route, method, status = key
                self.requests.labels(route, method, str(status)).inc(grown)
                flushed.requests[key] = count
        for vendor_key, count in tally.decisions.items():
            if (grown := count - flushed.decisions.get(vendor_key, 0)) > 0:
                self.decisions.labels(*vendor_key).inc(grown)
                flushed.decisions[vendor_key] = count
        for vendor, count in tally.pii_redacted.items():
            if (grown := count - flushed.pii_redacted.get(vendor, 0)) > 0:
                self.pii_redacted.labels(vendor).inc(grown)
                flushed.pii_redacted[vendor] = count
        for how, count in tally.superseded.items():
            if (grown := count - flushed.superseded.get(how, 0)) > 0:
                self.superseded.labels(how).inc(grown)
                flushed.superseded[how] = count
        for route, cells in tally.latency.items():
            done = flushed.latency.setdefault(route, [0.0] * len(cells))
            if cells == done:
                continue
            # prometheus-client (pinned) keeps one value per bucket and the sum, as observe()
            # fills them: add each one's growth.
            child = self.latency.labels(route)
            for index, (seen, before) in enumerate(zip(cells[:-1], done[:-1], strict=True)):
                if seen > before:
                    child._buckets[index].inc(seen - before)
            child._sum.inc(cells[-1] - done[-1])
            flushed.latency[route] = list(cells)

    def sync_state(self) -> None:
        """Copy this worker's state into the shared files (multiprocess mode; else a no-op)."""
        if not self.multiprocess:
            return
        self.flush()
        for vendor, figures in self.state.delivery_report().items():
            for name, gauge in self._gauges.items():
                gauge.labels(vendor).set(figures[name])
            for name, counter in self._counters.items():
                grown = figures[name] - self._counted.get((vendor, name), 0.0)
                if grown > 0:
                    counter.labels(vendor).inc(grown)
                    self._counted[(vendor, name)] = figures[name]
        self._spool.set(self.state.spool_depth())
        for name, value in self.state.store_figures().items():
            self._store_gauges[name].set(value)

    def render(self) -> bytes:
        if not self.multiprocess:
            self.flush()
            return generate_latest(self.registry)
        self.sync_state()
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)

    def close(self) -> None:
        """A worker that stops: its live gauges no longer count (its counters still do)."""
        if self.multiprocess:
            self.flush()
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class _StateCollector(Collector):
    def __init__(self, state: RuntimeState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        report = self.state.delivery_report()
        gauges = {
            name: GaugeMetricFamily(metric, help_text, labels=["vendor"])
            for name, (metric, help_text) in _GAUGES.items()
        }
        counters = {
            name: CounterMetricFamily(f"cg_delivery_{name}", help_text, labels=["vendor"])
            for name, help_text in _DELIVERY_COUNTERS.items()
        }
        for vendor, figures in report.items():
            for name, gauge in gauges.items():
                gauge.add_metric([vendor], figures[name])
            for name, counter in counters.items():
                counter.add_metric([vendor], figures[name])
        yield from gauges.values()
        yield from counters.values()
        yield GaugeMetricFamily(
            "cg_spool_depth", "Receipts waiting in the local spool.", value=self.state.spool_depth()
        )
        for name, value in self.state.store_figures().items():
            metric, help_text, _ = _STORE_GAUGES[name]
            yield GaugeMetricFamily(metric, help_text, value=value)


_DELIVERY_COUNTERS = {
    "queued": "Hits this process appended to the delivery queue.",
    "overflowed": "Hits refused because the vendor's queue was at its cap (newest dropped).",
    "dropped": "Hits lost in memory: the store was down and the edge buffer full, or at exit.",
    "yielded": "Anonymous pings refused: over their share of the queue, kept for consented hits.",
    "over_share": "Hits refused: their client network held its most of the vendor's queue.",
    "delivered": "Hits the vendor accepted (2xx/3xx).",
    "retried": "Delivery attempts after the first (connect errors, 429, 5xx).",
    "uncertain": "Hits written whose answer was lost: not resent, the vendor may have them.",
    "dead_lettered": "Hits moved to the dead-letter list (too old, or unreadable).",
    "rejected": "Hits the vendor refused for good (4xx other than 429).",
    "withheld": "Hits not sent: the subject was erased, objected or withdrew after queueing.",
}
