"""The running gateway's parts: what they show of themselves."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from gateway.errors import StoreUnavailable
from gateway.runtime import Gateway
from gateway.settings import Settings
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
