"""The running gateway's parts: what they show of themselves."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.errors import StoreUnavailable
from gateway.model.email_events import RecipientConsent
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.clocks import FixedClock
from tests.conftest import SECRET


def test_no_signing_key_in_the_gateways_repr(make_settings: Callable[..., Settings]) -> None:
    """A repr ends up in logs and tracebacks: the keys must never be in it."""
    gateway = Gateway.build(make_settings())
    assert gateway.keys == (SECRET,)
    shown = repr(gateway)
    assert "Gateway(" in shown
    assert SECRET not in shown
    assert re.search(r"\bkeys=", shown) is None


async def test_a_start_that_fails_half_way_closes_what_it_had_opened(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway.build(make_settings())

    async def refuse() -> None:
        raise RuntimeError("the objection registry cannot start")

    # Everything before the registry has started by then: store, writer, queue, workers...
    monkeypatch.setattr(gateway.objections, "start", refuse)
    before = asyncio.all_tasks()
    with pytest.raises(RuntimeError, match="objection registry"):
        async with gateway.running():
            pytest.fail("the gateway ran without its objection registry")
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before  # no writer, forwarder, worker or counter left running
    with pytest.raises(StoreUnavailable, match="is closed"):  # the store was closed
        await gateway.store.ping()


async def test_a_gateway_that_ran_leaves_nothing_running(
    make_settings: Callable[..., Settings],
) -> None:
    gateway = Gateway.build(make_settings())
    before = asyncio.all_tasks()
    async with gateway.running():
        assert len(asyncio.all_tasks()) > len(before)
        await gateway.store.ping()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before


async def test_a_change_announced_elsewhere_empties_the_email_consents_cache_here(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The objection registry is built with the email consents' cache: an objection recorded
    on one instance makes every other look its recipients up afresh, not after the cache time
    (the clock stands still here: the cache would never expire on its own)."""
    clock = FixedClock(time.time())
    here = Gateway.build(make_settings(data_dir=tmp_path / "here"), clock)
    there = Gateway.build(make_settings(data_dir=tmp_path / "there"), clock)
    async with here.running(), there.running():
        granted = RecipientConsent("esp-1", "granted", clock.now, "receipt-1")
        await here.store.email.put_recipient_consent(granted)
        assert await here.email.consents.state_of("esp-1") == granted  # read once: now cached
        # Withdrawn behind this instance's back, nothing announced: the cache still answers.
        withdrawn = RecipientConsent("esp-1", "withdrawn", clock.now, "receipt-2")
        await there.store.email.put_recipient_consent(withdrawn)
        await here.objections.watch()
        assert await here.email.consents.state_of("esp-1") == granted
        await there.rights.object_to("visitor-objecting-1", ["analytics"])
        deadline = asyncio.get_running_loop().time() + 5.0
        while await here.email.consents.state_of("esp-1") == granted:
            assert asyncio.get_running_loop().time() < deadline, "the cache was never emptied"
            await asyncio.sleep(0.05)
        assert await here.email.consents.state_of("esp-1") == withdrawn
