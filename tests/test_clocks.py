"""The test clocks themselves."""

from __future__ import annotations

import time

from tests.clocks import MARGIN, FixedClock, SteadyClock


def test_a_steady_clock_runs_at_real_speed_and_stays_in_its_day() -> None:
    clock = SteadyClock()
    first = clock()
    assert first <= time.time()
    assert clock() >= first
    assert int((first + MARGIN - 1) // 86400) == int(first // 86400)
    assert clock.day() == clock.today().isoformat()


def test_a_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(100.0)
    assert clock() == clock() == 100.0
    clock.now += 5
    assert clock() == 105.0
