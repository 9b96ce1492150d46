"""Prometheus metrics: one registry per app, labels bounded (route templates, vendor ids).

Gauges that describe state (delivery queue, spool depth; `gateway.state_metrics`) are read
when scraped. Requests, their latency and pixel decisions — counted on every hot request — go
to a `Tally` (`gateway.request_tally`) of plain dicts and reach the prometheus objects only
when flushed (at each scrape, and every heartbeat with several workers): a request never takes
prometheus' lock nor, in multiprocess mode, writes its files.

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
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from gateway.request_tally import LATENCY_BUCKETS, Tally
from gateway.state_metrics import RuntimeState, SharedStateGauges, StateCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder the workers of `serve --workers N` count into, if this is one of them."""
    return os.environ.get(MULTIPROCESS_VARIABLE) or None


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self._shared: SharedStateGauges | None = None
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
        self.email_events_dropped = Counter(
            "cg_email_events_dropped",
            "Email opens and clicks not recorded: the events waiting to settle were at their"
            " limit (300,000 per process).",
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
        """Publish `state`'s figures: read at each scrape, or (with several workers) copied
        into the shared files by `sync_state`."""
        if self.multiprocess:
            self._shared = SharedStateGauges(state, self.registry)
        else:
            self.registry.register(StateCollector(state))

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
        if self._shared is not None:
            self._shared.copy()

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
