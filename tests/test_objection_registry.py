"""The objection registry: what `/t` and email tracking consult, in memory, kept in step with
the store by a refresh — on every backend, with a controlled clock."""

from __future__ import annotations

from collections.abc import Callable

from gateway.consent.model import Consent
from gateway.consent.objections import Objection
from gateway.consent.supersede import LatestChoice, withdrawn
from gateway.objection_registry import ObjectionRegistry
from gateway.settings import Settings
from gateway.store import Store, open_store
from tests.store.test_contract import receipt

DAY = 86400.0
EVERYTHING = frozenset({"preferences", "analytics", "marketing", "email_tracking"})


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def registry_for(
    store: Store, clock: Clock, on_change: tuple[Callable[[], None], ...] = ()
) -> ObjectionRegistry:
    return ObjectionRegistry(
        store,
        categories=EVERYTHING,
        refresh_seconds=5,
        tombstone_days=180,
        clock=clock,
        on_change=on_change,
    )


async def test_before_the_first_read_everyone_objects_to_everything(store: Store) -> None:
    registry = registry_for(store, Clock(1_800_000_000))
    assert registry.objected("anyone") == EVERYTHING
    await registry.refresh()
    assert registry.objected("anyone") == frozenset()


async def test_objections_made_elsewhere_arrive_with_the_next_refresh(store: Store) -> None:
    clock = Clock(1_800_000_000)
    registry = registry_for(store, clock)
    await store.rights.put_objection(Objection("visitor-1", ("marketing",), clock.now - 30 * DAY))
    await registry.refresh()
    assert registry.objected("visitor-1") == {"marketing"}
    # Another instance records one: unseen here until the next refresh, which reads only changes.
    clock.now += 5
    await store.rights.put_objection(Objection("esp-2", ("analytics", "marketing"), clock.now))
    assert registry.objected("esp-2") == frozenset()
    await registry.refresh()
    assert registry.objected("esp-2") == {"analytics", "marketing"}
    assert registry.objected("visitor-1") == {"marketing"}


async def test_changes_made_here_apply_at_once(store: Store) -> None:
    registry = registry_for(store, Clock(1_800_000_000))
    await registry.refresh()
    registry.note(Objection("visitor-1", ("analytics",), 1_800_000_000))
    assert registry.objected("visitor-1") == {"analytics"}
    registry.note_erased("visitor-1", 1_800_000_000)
    assert registry.objected("visitor-1") == EVERYTHING
    assert registry.is_suppressed("visitor-1")
    assert not registry.is_suppressed("visitor-2")


async def test_erased_subjects_object_to_everything_while_a_cookie_could_live(
    store: Store,
) -> None:
    clock = Clock(1_800_000_000)
    await store.rights.erase_subject("erased-long-ago", clock.now - 200 * DAY)
    await store.rights.erase_subject("erased-lately", clock.now - 10 * DAY)
    registry = registry_for(store, clock)
    await registry.refresh()
    # A cookie lives at most 180 days here: an id erased 200 days ago cannot come back.
    assert registry.objected("erased-long-ago") == frozenset()
    assert registry.objected("erased-lately") == EVERYTHING
    clock.now += 171 * DAY
    await registry.refresh()
    assert not registry.is_suppressed("erased-lately")  # dropped from memory once stale


async def test_an_unreachable_store_at_start_keeps_tracking_off(
    make_settings: Callable[..., Settings],
) -> None:
    down = open_store(make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.3))
    await down.open()
    registry = registry_for(down, Clock(1_800_000_000))
    await registry.start()  # does not raise: the refresh goes on in the background
    try:
        assert not registry.loaded
        assert registry.objected("anyone") == EVERYTHING
    finally:
        await registry.close()
        await down.close()


async def test_an_announced_change_is_read_at_the_next_watch_round(store: Store) -> None:
    clock = Clock(1_800_000_000)
    here, there = registry_for(store, clock), registry_for(store, clock)
    await here.watch()
    await there.watch()
    await store.rights.put_objection(Objection("visitor-9", ("analytics",), clock.now))
    await there.watch()  # nothing announced, the full re-read is not due: not seen yet
    assert here.objected("visitor-9") == frozenset()
    await there.announce()
    await here.watch()
    assert here.objected("visitor-9") == {"analytics"}
    # Without an announcement the full re-read still comes, `refresh_seconds` later.
    await store.rights.put_objection(Objection("visitor-10", ("marketing",), clock.now))
    await here.watch()
    assert here.objected("visitor-10") == frozenset()
    clock.now += 5
    await here.watch()
    assert here.objected("visitor-10") == {"marketing"}


async def test_an_announced_change_tells_the_listeners_so_caches_drop_what_they_hold(
    store: Store,
) -> None:
    clock = Clock(1_800_000_000)
    told: list[str] = []
    here = registry_for(store, clock, on_change=(lambda: told.append("changed"),))
    there = registry_for(store, clock)
    await here.watch()  # the first read is no change
    await here.watch()
    assert told == []
    await there.announce()  # e.g. a recipient withdrew through another instance
    await here.watch()
    assert told == ["changed"]


# -- the latest choice of a consent id that chose again (`gateway.consent.supersede`) ---------


def _token(granted: set[str], at: float) -> Consent:
    return Consent("visitor-choosing-again", 1, frozenset(granted), int(at))


async def test_a_choice_made_again_elsewhere_supersedes_older_tokens_after_a_refresh(
    store: Store,
) -> None:
    clock = Clock(1_800_000_000)
    registry = registry_for(store, clock)
    await registry.refresh()
    old = _token({"necessary", "analytics", "marketing"}, clock.now - 60)
    assert registry.standing(old) is old
    # Another instance records the narrower choice and notes it in the feed.
    narrower = receipt("visitor-choosing-again", clock.now - 10, granted=("analytics", "necessary"))
    await store.receipts.add_receipts([narrower])
    await store.rights.note_choice_change("visitor-choosing-again", narrower.created_at)
    assert registry.standing(old) is old  # not seen before the next refresh
    clock.now += 1
    await registry.refresh()
    now = registry.standing(old)
    assert now is not None
    assert now.granted == {"analytics", "necessary"}
    # A withdrawal after it: the old token is no consent at all, the withdrawal's own is too.
    withdrawal = receipt("visitor-choosing-again", clock.now, action="withdraw", granted=())
    await store.receipts.add_receipts([withdrawal])
    await store.rights.note_choice_change("visitor-choosing-again", withdrawal.created_at)
    clock.now += 1
    await registry.refresh()
    assert withdrawn(registry.standing(old))  # type: ignore[arg-type]
    # Erasure removes the id from the feed: a fresh registry knows nothing of it.
    await store.rights.erase_subject("visitor-choosing-again", clock.now)
    assert await store.rights.choice_changes_since(0) == []


async def test_the_feed_keeps_choices_only_as_long_as_tokens_live(store: Store) -> None:
    await store.rights.note_choice_change("visitor-old-choice-0001", 1_800_000_000 - 181 * DAY)
    await store.rights.note_choice_change("visitor-new-choice-0001", 1_800_000_000 - 1 * DAY)
    await store.retention.purge(1_800_000_000)
    assert await store.rights.choice_changes_since(0) == ["visitor-new-choice-0001"]


async def test_a_full_registry_forgets_the_oldest_and_then_grants_nothing_that_old(
    store: Store,
) -> None:
    registry = ObjectionRegistry(
        store,
        categories=EVERYTHING,
        refresh_seconds=5,
        tombstone_days=180,
        clock=Clock(1_800_000_000),
        max_latest_choices=10,
    )
    for n in range(11):  # one past the bound: the oldest tenth goes
        registry.note_choice(
            f"visitor-{n:04}-choosing", LatestChoice(1000 + n, 1, frozenset(), frozenset(), False)
        )
    unknown_old = Consent("visitor-never-chose-again", 1, frozenset({"analytics"}), 1001)
    unknown_new = Consent("visitor-never-chose-again", 1, frozenset({"analytics"}), 1002)
    assert withdrawn(registry.standing(unknown_old))  # type: ignore[arg-type]
    assert registry.standing(unknown_new) is unknown_new
    kept = Consent("visitor-0010-choosing", 1, frozenset({"analytics"}), 900)
    assert registry.standing(kept) == Consent("visitor-0010-choosing", 1, frozenset(), 1010)
