"""Everything `/admin` shows, read from a running gateway in one go.

The counters come from the store (one query per metric for the whole window); the state of
the delivery queue and the spool from this process, and every live process's from its
heartbeat. An unreachable store still gives a dashboard: the operations panel says so and the
charts are empty, rather than the page failing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

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
from gateway.runtime import Gateway

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


async def _ping(gateway: Gateway) -> float | None:
    started = time.perf_counter()
    try:
        await gateway.store.ping()
    except StoreUnavailable:
        return None
    return (time.perf_counter() - started) * 1000


async def _read(gateway: Gateway, window: Window) -> tuple[dict[str, Counts], list[Receipt]]:
    first, last = window.days[0], window.days[-1]
    try:
        answers = await asyncio.gather(
            *(gateway.store.counts.counts(metric, first, last) for metric in _METRICS)
        )
        latest = await gateway.store.receipts.latest_receipts(LATEST_RECEIPTS)
    except StoreUnavailable:
        return {metric: {} for metric in _METRICS}, []
    return dict(zip(_METRICS, answers, strict=True)), latest


async def _instances(gateway: Gateway) -> list[dict[str, Any]]:
    try:
        return await gateway.heartbeat.read()
    except StoreUnavailable:
        return []


async def _usage(gateway: Gateway) -> dict[str, int]:
    try:
        return await gateway.store.usage()
    except StoreUnavailable:
        return {}


async def build_dashboard(gateway: Gateway, period: int, today: date | None = None) -> Dashboard:
    today = today or datetime.fromtimestamp(gateway.clock(), UTC).date()
    window = Window.ending(today, period)
    latency = await _ping(gateway)
    counts, latest = (
        await _read(gateway, window) if latency is not None else ({m: {} for m in _METRICS}, [])
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
            figures.opt_in_rates(
                counts[ConsentCategory.metric], window, gateway.settings.consent.categories
            ),
            figures.refusal_and_acceptance(actions),
            figures.gpc_share(gpc),
        ],
        tracking=[figures.pixel_decisions(pixels, sorted(gateway.rules))],
        email=[
            figures.email_by_campaign(opens, "opens"),
            figures.email_by_campaign(clicks, "clicks"),
            form_figures(counts[FormEvent.metric], counts[FormRefusal.metric]),
        ],
        health=Health(
            store=gateway.store.name,
            store_latency_ms=latency,
            delivery_totals=gateway.figures.delivery_totals(),
            delivery=gateway.figures.delivery_report(),
            spool_depth=gateway.figures.spool_depth(),
            counts_lost=gateway.counter.lost,
            email_events_dropped=gateway.email.recorder.dropped,
            invalid_email_links=sum(counts[InvalidEmailLink.metric].values()),
            this_instance=gateway.heartbeat.name,
            instances=await _instances(gateway) if latency is not None else [],
            store_usage=await _usage(gateway) if latency is not None else {},
            archive=(
                await gateway.archive_mover.health(1.0) if gateway.archive_mover is not None else {}
            ),
        ),
        latest=latest,
    )
