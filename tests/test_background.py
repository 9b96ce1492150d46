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


async def test_stopping_ends_a_loop_whose_round_lost_the_cancellation() -> None:
    """A round that swallows its cancellation (a client library retrying a cancelled call)
    and returns: the loop sleeps on, and `stop` cancels again until it has ended."""
    in_round = asyncio.Event()
    swallowed: list[bool] = []

    async def work() -> None:
        in_round.set()
        if swallowed:
            await asyncio.sleep(10)
            return
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            swallowed.append(True)  # lost, once: the round returns as if nothing happened

    repeating = Repeating("test-loop", 0.01, work, run_first=True)
    repeating.start()
    await in_round.wait()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(8):  # (a timeout's own cancellation would end it too: slowly)
        await repeating.stop()
    assert swallowed  # the first cancellation was lost,
    assert loop.time() - started < 3  # and the loop ended at the next cancellation, not later
