"""What the dashboard is given: the store's status, counts and receipts — never the store, so
the admin site reaches no rights, email records or shared state through what it reads."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pytest

from gateway.admin.dashboard import DashboardSources
from gateway.errors import StoreUnavailable
from gateway.runtime import Gateway
from gateway.settings import Settings


def test_the_dashboard_holds_the_stores_status_counts_and_receipts_not_the_store(
    make_settings: Callable[..., Settings],
) -> None:
    gateway = Gateway.build(make_settings())
    sources = gateway.dashboard
    assert sources.counts is gateway.store.counts
    assert sources.receipts is gateway.store.receipts
    assert sources.store_status.name == gateway.store.name == "sqlite"
    held = [getattr(sources, field.name) for field in dataclasses.fields(sources)]
    assert not any(value is gateway.store for value in held)
    for facet in ("rights", "email", "shared", "retention", "receipts", "counts"):
        assert not hasattr(sources.store_status, facet), facet


async def test_the_status_pings_and_measures_the_store_it_was_made_of(
    make_settings: Callable[..., Settings],
) -> None:
    gateway = Gateway.build(make_settings())
    status = gateway.dashboard.store_status
    await gateway.store.open()
    try:
        await status.ping()
        usage = await status.usage()
        assert usage["used_bytes"] > 0
        assert usage["limit_bytes"] == 0  # SQLite sets none
    finally:
        await gateway.store.close()
    with pytest.raises(StoreUnavailable):  # the store it reads is that one: closed now
        await status.ping()


def test_each_source_is_declared_as_what_the_dashboard_reads_of_it() -> None:
    """The figures, heartbeat, recorder and archive mover hold the store or its shared state;
    declared as protocols of what is read, they give typed code no way on (mypy refuses
    `sources.heartbeat.store`)."""
    declared = " ".join(str(annotation) for annotation in DashboardSources.__annotations__.values())
    for holder in (
        "Store",
        "SharedState",
        "ProcessFigures",
        "EventCounter",
        "EmailRecorder",
        "InstanceHeartbeat",
        "ArchiveMover",
    ):
        assert re.search(rf"\b{holder}\b", declared) is None, holder
