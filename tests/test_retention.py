"""Retention in the running gateway: the periodic purge, its lease, and its setting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from gateway.app import app_for
from gateway.errors import ConfigError
from gateway.retention import PeriodicPurge
from gateway.runtime import Gateway
from gateway.settings import Settings, load_settings
from gateway.store import Store, open_store
from tests.conftest import serving
from tests.store.test_contract import receipt

DAY = 86400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_one_run_per_period_however_many_instances(store: Store) -> None:
    now = time.time()
    old = receipt("subject-old-aaaaaaaaaa", at=round(now - 1824 * DAY, 3))
    await store.receipts.add_receipts([old])
    clock = Clock(now)
    first, second = PeriodicPurge(store, 3600, clock), PeriodicPurge(store, 3600, clock)
    assert await first.run_once() == {"receipts": 0, "email_events": 0, "counts": 0}
    assert await second.run_once() is None  # the other instance holds this period's lease
    clock.now += 2 * DAY  # the receipt is now older than its retention
    assert await second.run_once() == {"receipts": 1, "email_events": 0, "counts": 0}
    assert await first.run_once() is None
    assert await store.receipts.subject_receipts(old.subject_id) == []


async def test_the_gateway_purges_in_the_background_from_start(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(purge_interval_seconds=60)
    expired = receipt("subject-expired-aaaaaa", at=round(time.time() - 1900 * DAY, 3))
    kept = receipt("subject-kept-aaaaaaaaa", at=round(time.time() - DAY, 3))
    seed = open_store(settings)
    await seed.open()
    await seed.receipts.add_receipts([expired, kept])
    await seed.close()

    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with serving(app):
        deadline = time.monotonic() + 10
        while gateway.retention.last_run is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert gateway.retention.last_run == {"receipts": 1, "email_events": 0, "counts": 0}
        assert [r async for r in gateway.store.receipts.iter_receipts()] == [kept]


async def test_no_in_process_purge_when_the_interval_is_zero(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(purge_interval_seconds=0)
    expired = receipt("subject-expired-aaaaaa", at=round(time.time() - 1900 * DAY, 3))
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    async with serving(app):
        await gateway.store.receipts.add_receipts([expired])
        await asyncio.sleep(0)  # any started task would have had its turn
        assert gateway.retention.last_run is None
        assert [r async for r in gateway.store.receipts.iter_receipts()] == [expired]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GATEWAY_PURGE_INTERVAL_SECONDS", "5"), ("GATEWAY_OBJECTION_REFRESH_SECONDS", "0")],
)
def test_intervals_are_checked(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable.removeprefix("GATEWAY_").lower()):
        load_settings(environ={variable: value})
