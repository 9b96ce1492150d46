"""Everything `/admin` shows, read from a running gateway in one go.

The counters come from the store (one query per metric for the whole window); the state of
the delivery queue and the spool from this process, and every live process's from its
heartbeat. An unreachable store still gives a dashboard: the operations panel says so and the
charts are empty, rather than the page failing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from gateway.admin import figures
from gateway.admin.form_figures import form_figures
from gateway.admin.panels import Counts, Panel, Tile, Window
from gateway.errors import StoreUnavailable
from gateway.model.counts import (
    ConsentAction,
    ConsentCategory,
    ConsentGpc,
    EmailClick,
    EmailOpen,
    FormEvent,
    FormRefusal,
    InvalidEmailLink,
    PixelCount,
)
from gateway.model.receipts import Receipt
from gateway.store.base import Counts as StoredCounts
from gateway.store.base import Receipts
from gateway.store_health import StoreStatus

PERIODS = (7, 14, 30)
DEFAULT_PERIOD = 14
LATEST_RECEIPTS = 20
_METRICS = tuple(
    kind.metric
    for kind in (
        ConsentAction,
        ConsentCategory,
        ConsentGpc,
        PixelCount,
        EmailOpen,
        EmailClick,
        InvalidEmailLink,
        FormEvent,
        FormRefusal,
    )
)


@dataclass(frozen=True, slots=True)
class Health:
    store: str
    store_latency_ms: float | None  # None: the store did not answer
    delivery_totals: dict[str, int]  # over vendors: queue depth, edge and delivery counts
    delivery: dict[str, dict[str, float]]
    spool_depth: int
    counts_lost: int
    email_events_dropped: int
    invalid_email_links: int
    this_instance: str = ""
    store_usage: dict[str, int] = field(default_factory=dict)  # used_bytes, limit_bytes
    instances: list[dict[str, Any]] = field(default_factory=list)  # every live process
    archive: dict[str, object] = field(default_factory=dict)  # status, lag_seconds (if any)


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: int
    first_day: str
    last_day: str
    tiles: list[Tile]
    consent: list[Panel]
    tracking: list[Panel]
    email: list[Panel]
    health: Health
    latest: list[Receipt]


def period_of(text: str | None) -> int:
    """The period asked for in `?days=`, or the default for anything else."""
    return int(text) if text in {str(p) for p in PERIODS} else DEFAULT_PERIOD


# What the dashboard reads of the parts that also hold the store or its shared state, and
# nothing more: through these, the admin site reaches no receipt writer, right or lockout.


class ProcessReadings(Protocol):
    """The delivery queue's and the spool's state in this process (`ProcessFigures`)."""

    def delivery_totals(self) -> dict[str, int]: ...

    def delivery_report(self) -> dict[str, dict[str, float]]: ...

    def spool_depth(self) -> int: ...


class LostCounts(Protocol):
    """The counts this process could not write (`EventCounter`)."""

    @property
    def lost(self) -> int: ...


class DroppedEmailEvents(Protocol):
    """The email events dropped at their bound in memory (`EmailRecorder`)."""

    @property
    def dropped(self) -> int: ...


class LiveInstances(Protocol):
    """This process's name and every live process's heartbeat (`InstanceHeartbeat`)."""

    @property
    def name(self) -> str: ...

    async def read(self) -> list[dict[str, Any]]: ...


class ArchiveHealth(Protocol):
    """Whether the archive answers, and its lag (`ArchiveMover`)."""

    async def health(self, within: float) -> dict[str, object]: ...


@dataclass(frozen=True, slots=True)
class DashboardSources:
    """What the dashboard reads, and nothing else (built once by `Gateway.build`): the store's
    status (name, ping, usage), its counts and receipts — not the store —, this process's
    figures, lost counts and dropped email events, the instances' heartbeats, the archive's
    health, the vendors and categories to chart, and the clock. Each is declared as what is
    read of it, so none gives the admin site a way to rights, email records or shared state."""

    store_status: StoreStatus
    counts: StoredCounts
    receipts: Receipts
    figures: ProcessReadings
    counter: LostCounts
    email_events: DroppedEmailEvents
    heartbeat: LiveInstances
    archive_mover: ArchiveHealth | None
    vendors: tuple[str, ...]
    categories: tuple[str, ...]
    clock: Callable[[], float]


async def _ping(sources: DashboardSources) -> float | None:
    started = time.perf_counter()
    try:
        await sources.store_status.ping()
    except StoreUnavailable:
        return None
    return (time.perf_counter() - started) * 1000


async def _read(
    sources: DashboardSources, window: Window
) -> tuple[dict[str, Counts], list[Receipt]]:
    first, last = window.days[0], window.days[-1]
    try:
        answers = await asyncio.gather(
            *(sources.counts.counts(metric, first, last) for metric in _METRICS)
        )
        latest = await sources.receipts.latest_receipts(LATEST_RECEIPTS)
    except StoreUnavailable:
        return {metric: {} for metric in _METRICS}, []
    return dict(zip(_METRICS, answers, strict=True)), latest


async def _instances(sources: DashboardSources) -> list[dict[str, Any]]:
    try:
        return await sources.heartbeat.read()
    except StoreUnavailable:
        return []


async def _usage(sources: DashboardSources) -> dict[str, int]:
    try:
        return await sources.store_status.usage()
    except StoreUnavailable:
        return {}


async def build_dashboard(
    sources: DashboardSources, period: int, today: date | None = None
) -> Dashboard:
    today = today or datetime.fromtimestamp(sources.clock(), UTC).date()
    window = Window.ending(today, period)
    latency = await _ping(sources)
    counts, latest = (
        await _read(sources, window) if latency is not None else ({m: {} for m in _METRICS}, [])
    )
    actions, gpc = counts[ConsentAction.metric], counts[ConsentGpc.metric]
    pixels, opens, clicks = (
        counts[PixelCount.metric],
        counts[EmailOpen.metric],
        counts[EmailClick.metric],
    )
    return Dashboard(
        period=period,
        first_day=window.days[0],
        last_day=window.days[-1],
        tiles=figures.overview(actions, gpc, pixels, opens),
        consent=[
            figures.consent_actions(actions, window),
            figures.opt_in_rates(counts[ConsentCategory.metric], window, sources.categories),
            figures.refusal_and_acceptance(actions),
            figures.gpc_share(gpc),
        ],
        tracking=[figures.pixel_decisions(pixels, sources.vendors)],
        email=[
            figures.email_by_campaign(opens, "opens"),
            figures.email_by_campaign(clicks, "clicks"),
            form_figures(counts[FormEvent.metric], counts[FormRefusal.metric]),
        ],
        health=Health(
            store=sources.store_status.name,
            store_latency_ms=latency,
            delivery_totals=sources.figures.delivery_totals(),
            delivery=sources.figures.delivery_report(),
            spool_depth=sources.figures.spool_depth(),
            counts_lost=sources.counter.lost,
            email_events_dropped=sources.email_events.dropped,
            invalid_email_links=sum(counts[InvalidEmailLink.metric].values()),
            this_instance=sources.heartbeat.name,
            instances=await _instances(sources) if latency is not None else [],
            store_usage=await _usage(sources) if latency is not None else {},
            archive=(
                await sources.archive_mover.health(1.0) if sources.archive_mover is not None else {}
            ),
        ),
        latest=latest,
    )
