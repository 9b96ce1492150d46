"""Background loops outlive bad rounds: a bug or a store outage never stops them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.background import Repeating
from gateway.errors import StoreUnavailable


async def test_a_failing_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("a bug in one round")
        if len(rounds) == 2:
            raise StoreUnavailable("down for a moment")

    repeating = Repeating("test-loop", 0.01, work, run_first=True)
    repeating.start()
    async with asyncio.timeout(5):
        while len(rounds) < 4:
            await asyncio.sleep(0.01)
    await repeating.stop()
    stopped_at = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == stopped_at  # stop() really stops it
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "test-loop: a round failed"
    ]  # the outage is no error


async def test_the_first_round_waits_one_interval_unless_asked_to_run_first() -> None:
    rounds: list[str] = []

    async def work() -> None:
        rounds.append("ran")

    waiting = Repeating("waits", 60, work)
    waiting.start()
    await asyncio.sleep(0.05)
    await waiting.stop()
    assert rounds == []
