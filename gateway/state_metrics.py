"""The state figures of `/metrics`: read from the running gateway when scraped, not counted.

The delivery queue per vendor (depth, oldest hit, bytes, caps, breaker) and its counters, the
receipt spool and the store's health. One process: `StateCollector` reads them at each scrape.
With `serve --workers N`: `SharedStateGauges` copies them into prometheus-client's multiprocess
files every heartbeat and at each scrape (counters grow by what this worker added; gauges keep
their maximum over live workers, `up` its minimum).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

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


class RuntimeState(Protocol):
    """What the scrape-time collector reads (implemented by `gateway.runtime.Gateway`)."""

    def delivery_report(self) -> dict[str, dict[str, float]]: ...

    def spool_depth(self) -> int: ...

    def store_figures(self) -> dict[str, float]: ...


class StateCollector(Collector):
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


class SharedStateGauges:
    """The state figures in prometheus-client's multiprocess files, copied by each worker."""

    def __init__(self, state: RuntimeState, registry: CollectorRegistry) -> None:
        self.state = state
        self._gauges = {
            name: Gauge(
                metric, help_text, ["vendor"], registry=registry, multiprocess_mode="livemax"
            )
            for name, (metric, help_text) in _GAUGES.items()
        }
        self._counters = {
            name: Counter(f"cg_delivery_{name}", help_text, ["vendor"], registry=registry)
            for name, help_text in _DELIVERY_COUNTERS.items()
        }
        self._counted: dict[tuple[str, str], float] = {}
        self._spool = Gauge(
            "cg_spool_depth",
            "Receipts waiting in the local spool.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self._store_gauges = {
            name: Gauge(metric, help_text, registry=registry, multiprocess_mode=mode)  # type: ignore[arg-type]
            for name, (metric, help_text, mode) in _STORE_GAUGES.items()
        }

    def copy(self) -> None:
        """Set the gauges to this worker's figures; grow the counters by what it added."""
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
