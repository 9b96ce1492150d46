"""The shared-state part of the store contract (`gateway.store.shared`): every backend keeps
marks, the change counter, message clicks and heartbeats the same way."""

from __future__ import annotations

import json
import time

import pytest

from gateway.store import Store
from gateway.store.shared import CLICK_WINDOW_SECONDS, Click, ClickSpan


@pytest.fixture
def now() -> float:
    """A moment a day ahead of the real clock, read when the test runs: Redis expires marks
    on its own clock, so they are kept well ahead of it, however long the run."""
    return float(int(time.time())) + 86400


async def test_a_mark_holds_its_moment_until_it_passes(store: Store, now: float) -> None:
    assert await store.shared.mark("session-ended|a", now) is None
    await store.shared.set_mark("session-ended|a", now + 60)
    assert await store.shared.mark("session-ended|a", now) == now + 60
    assert await store.shared.mark("session-ended|a", now + 61) is None
    assert await store.shared.mark("session-ended|b", now) is None


async def test_pushing_a_mark_moves_it_from_now_or_from_where_it_was_and_at_most_so_far(
    store: Store, now: float
) -> None:
    assert await store.shared.push_mark("bucket", 10, now, 30) == now + 10
    assert await store.shared.push_mark("bucket", 10, now, 30) == now + 20
    assert await store.shared.push_mark("bucket", 10, now, 30) == now + 30
    assert await store.shared.push_mark("bucket", 10, now, 30) == now + 30  # at most `most` ahead
    assert (
        await store.shared.push_mark("bucket", 10, now + 100, 30) == now + 110
    )  # from now, once past


async def test_the_change_counter_moves_with_every_bump(store: Store, now: float) -> None:
    first = await store.shared.changes()
    await store.shared.bump_changes()
    await store.shared.bump_changes()
    assert await store.shared.changes() == first + 2


async def test_clicks_are_kept_per_message_for_a_minute(store: Store, now: float) -> None:
    clicks = [
        Click("spring|esp-1|100", "esp-1", now, 1),
        Click("spring|esp-1|100", "esp-1", now + 0.2, 2),
        Click("spring|esp-2|100", "esp-2", now, 3),
    ]
    await store.shared.add_clicks(clicks, now)
    found = await store.shared.message_clicks([("spring|esp-1|100", "esp-1"), ("other|x|1", "x")])
    assert sorted(found["spring|esp-1|100"]) == [(now, 1), (now + 0.2, 2)]
    assert found.get("other|x|1", []) == []
    later = now + CLICK_WINDOW_SECONDS + 1
    await store.shared.add_clicks([Click("spring|esp-1|100", "esp-1", later, 3)], later)
    found = await store.shared.message_clicks([("spring|esp-1|100", "esp-1")])
    assert found["spring|esp-1|100"] == [(later, 3)]  # the old ones aged out


async def test_heartbeats_list_live_instances_only(store: Store, now: float) -> None:
    await store.shared.put_heartbeat("a:1", json.dumps({"queued": 1}), now, 10)
    await store.shared.put_heartbeat("b:2", json.dumps({"queued": 2}), now + 5, 10)
    assert set(await store.shared.heartbeats(now + 6)) == {"a:1", "b:2"}
    live = await store.shared.heartbeats(now + 12)
    assert list(live) == ["b:2"]
    assert json.loads(live["b:2"]) == {"queued": 2}
    await store.shared.put_heartbeat("b:2", json.dumps({"queued": 3}), now + 20, 10)
    assert json.loads((await store.shared.heartbeats(now + 21))["b:2"]) == {"queued": 3}


async def test_usage_grows_with_what_is_stored(store: Store, now: float) -> None:
    before = await store.usage()
    assert before["used_bytes"] > 0
    assert before["limit_bytes"] >= 0
    await store.shared.add_clicks(
        [Click(f"m|s{n}|1", f"s{n}", now, n % 3) for n in range(3000)], now
    )
    assert (await store.usage())["used_bytes"] > before["used_bytes"]


async def test_an_erased_subjects_clicks_are_not_kept(store: Store, now: float) -> None:
    await store.rights.erase_subject("esp-gone", now)
    await store.shared.add_clicks(
        [Click("c|esp-gone|1", "esp-gone", now, 1), Click("c|esp-here|1", "esp-here", now, 1)], now
    )
    found = await store.shared.message_clicks(
        [("c|esp-gone|1", "esp-gone"), ("c|esp-here|1", "esp-here")]
    )
    assert found.get("c|esp-gone|1", []) == []
    assert found["c|esp-here|1"] == [(now, 1)]


async def test_a_batch_keeps_every_click_of_every_message_however_many(
    store: Store, now: float
) -> None:
    """A scanner clicking one message thousands of times in a batch, beside others: every click
    is kept, each message in its own set (on a Cluster, messages in many slots)."""
    many = [Click("scan|esp-scan|1", "esp-scan", now + n / 1000, n % 7) for n in range(1234)]
    few = [Click(f"c|esp-{n}|1", f"esp-{n}", now + n / 10, n % 4) for n in range(40)]
    await store.shared.add_clicks(many + few, now)
    names = [("scan|esp-scan|1", "esp-scan"), *((f"c|esp-{n}|1", f"esp-{n}") for n in range(40))]
    found = await store.shared.message_clicks(names)
    assert sorted(found["scan|esp-scan|1"]) == sorted((c.at, c.link) for c in many)
    for click in few:
        assert found[click.message] == [(click.at, click.link)]


async def test_clicks_are_read_within_a_span_the_honeypots_within_a_wider_one(
    store: Store, now: float
) -> None:
    clicks = [
        Click("r|esp-1|1", "esp-1", now + offset, link)
        for offset, link in ((0, 1), (0.5, 0), (5, 2), (10, 3), (15, 4), (16, 0), (30, 0))
    ]
    await store.shared.add_clicks(clicks, now)
    span = ClickSpan(now + 5, now + 10, now, now + 16)
    found = await store.shared.message_clicks([("r|esp-1|1", "esp-1")], span)
    assert sorted(found["r|esp-1|1"]) == [
        (now + 0.5, 0),
        (now + 5, 2),
        (now + 10, 3),
        (now + 16, 0),
    ]
    span = ClickSpan(now + 10.5, now + 14.5, now + 10.5, now + 14.5)
    found = await store.shared.message_clicks([("r|esp-1|1", "esp-1")], span)
    assert found.get("r|esp-1|1", []) == []
    everything = await store.shared.message_clicks([("r|esp-1|1", "esp-1")])
    assert sorted(everything["r|esp-1|1"]) == sorted((c.at, c.link) for c in clicks)
