"""Prometheus metrics: one registry per app, labels bounded (route templates, vendor ids).

Gauges that describe state (forwarder queue, spool depth) are read when scraped, so the hot
paths only increment counters.

With `serve --workers N` every worker counts into files in `PROMETHEUS_MULTIPROC_DIR`
(prometheus-client's multiprocess mode; `serve` makes and empties the folder), and any worker
answering a scrape sums them all: a scrape counts every worker's requests. The state gauges are
then copied into those files by each worker every heartbeat (`sync_state`): the queue depths
add up across live workers, the spool (one file shared by the workers) is their maximum.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_FORWARDER_COUNTERS = (
    ("sent", "Hits the vendors accepted."),
    ("failed", "Hits the vendors refused or that could not be sent."),
    ("dropped", "Hits dropped because the forwarder queue was full."),
)


class RuntimeState(Protocol):
    """What the scrape-time collector reads (implemented by `gateway.runtime.Gateway`)."""

    def forwarder_counts(self) -> dict[str, int]: ...

    def spool_depth(self) -> int: ...


def multiprocess_dir() -> str | None:
    """The folder the workers of `serve --workers N` count into, if this is one of them."""
    return os.environ.get(MULTIPROCESS_VARIABLE) or None


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
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
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.decisions = Counter(
            "cg_pixel_decisions",
            "Hit decisions by vendor, outcome and reason.",
            ["vendor", "outcome", "reason"],
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
            "Receipts recorded, by action and where they went (stored or spooled).",
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
        self._queue = Gauge(
            "cg_forwarder_queue_depth",
            "Hits waiting to be forwarded.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._spool = Gauge(
            "cg_spool_depth",
            "Receipts waiting in the local spool.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._forwarded = {
            name: Counter(f"cg_forwarder_{name}", help_text, registry=self.registry)
            for name, help_text in _FORWARDER_COUNTERS
        }
        self._forwarded_seen = dict.fromkeys(self._forwarded, 0)

    def sync_state(self) -> None:
        """Copy this worker's state into the shared files (multiprocess mode; else a no-op)."""
        if not self.multiprocess:
            return
        counts = self.state.forwarder_counts()
        self._queue.set(counts["queued"])
        self._spool.set(self.state.spool_depth())
        for name, counter in self._forwarded.items():
            grown = counts[name] - self._forwarded_seen[name]
            if grown > 0:
                counter.inc(grown)
                self._forwarded_seen[name] = counts[name]

    def render(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        self.sync_state()
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)

    def close(self) -> None:
        """A worker that stops: its live gauges no longer count (its counters still do)."""
        if self.multiprocess:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class _StateCollector(Collector):
    def __init__(self, state: RuntimeState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        counts = self.state.forwarder_counts()
        yield GaugeMetricFamily(
            "cg_forwarder_queue_depth", "Hits waiting to be forwarded.", value=counts["queued"]
        )
        for name, help_text in _FORWARDER_COUNTERS:
            yield CounterMetricFamily(f"cg_forwarder_{name}", help_text, value=counts[name])
        yield GaugeMetricFamily(
            "cg_spool_depth", "Receipts waiting in the local spool.", value=self.state.spool_depth()
        )
