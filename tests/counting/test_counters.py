"""The in-memory counter: typed keys, the day from its clock, bounded memory."""

from __future__ import annotations

import time

from gateway.counting.counters import EventCounter
from gateway.model.counts import CountKey, PixelCount
from gateway.model.days import day_of
from gateway.store.base import Store
from tests.clocks import FixedClock


async def test_counts_go_to_the_clocks_day_and_memory_is_bounded(store: Store) -> None:
    # Yesterday noon (UTC), from the real clock: the stores keep counts by their retention.
    noon = (time.time() // 86400 - 1) * 86400 + 43200
    before, day, after = (day_of(noon + shift * 86400) for shift in (-1, 0, 1))
    clock = FixedClock(noon)
    counter = EventCounter(store.counts, max_keys=2, clock=clock)
    counter.add(PixelCount("ga4", "forward"))
    counter.add(PixelCount("ga4", "forward"), 2)
    counter.add(PixelCount("ga4", "block"))
    counter.add(PixelCount("meta_pixel", "block"), 5)  # a third key: over the bound, lost
    counter.add(PixelCount("ga4", "block"))  # a key already held still counts
    clock.now += 86400  # the next day: a new key, and the bound is still full
    counter.add(PixelCount("ga4", "forward"))
    assert counter.lost == 6
    counter.add(PixelCount("ga4", "forward"), day=before)  # a replayed receipt's day
    assert counter.lost == 7
    await counter.flush()
    assert await store.counts.counts("pixel", before, after) == {
        CountKey(day, "pixel", "ga4:forward"): 3,
        CountKey(day, "pixel", "ga4:block"): 2,
    }
