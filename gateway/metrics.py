"""Prometheus metrics: one registry per app, labels bounded (route templates, vendor ids).

Gauges that describe state (forwarder queue, spool depth) are read when scraped, so the hot
paths only increment counters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RuntimeState(Protocol):
    """What the scrape-time collector reads (implemented by `gateway.runtime.Gateway`)."""

    def forwarder_counts(self) -> dict[str, int]: ...

    def spool_depth(self) -> int: ...


class Metrics:
    def __init__(self) -> None:
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
        self.registry.register(_StateCollector(state))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, state: RuntimeState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        counts = self.state.forwarder_counts()
        yield GaugeMetricFamily(
            "cg_forwarder_queue_depth", "Hits waiting to be forwarded.", value=counts["queued"]
        )
        for name, help_text in (
            ("sent", "Hits the vendors accepted."),
            ("failed", "Hits the vendors refused or that could not be sent."),
            ("dropped", "Hits dropped because the forwarder queue was full."),
        ):
            yield CounterMetricFamily(f"cg_forwarder_{name}", help_text, value=counts[name])
        yield GaugeMetricFamily(
            "cg_spool_depth", "Receipts waiting in the local spool.", value=self.state.spool_depth()
        )
