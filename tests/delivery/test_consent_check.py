"""What decides, at delivery, that a queued hit may no longer be sent: a pure table, and the
standings cache in front of a real (SQLite) store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from gateway.consent.objections import Objection
from gateway.delivery.consent_check import DeliveryConsent, Standing, withheld_reason
from gateway.delivery.queue import QueuedHit
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import HitRule, Rule
from gateway.store import Store, open_store
from gateway.store.base import SubjectStanding
from tests.store.test_contract import T0, receipt

GA4 = Rule("ga4", "GA4", "analytics", "https://p.example/", HitRule(mode="forward"))
BOTH = frozenset({"analytics", "marketing"})


def hit(signalled: frozenset[str] = BOTH, *, token_time: float | None = None) -> QueuedHit:
    """Queued at 100; decided with a token chosen at `token_time` (None: an older release's
    entry, which only knows when it was queued)."""
    outbound = OutboundHit("ga4", "GET", "https://v.example/c", ())
    return QueuedHit(outbound, "c1", 100.0, signalled, token_time)


def standing(granted=BOTH, *, at=150.0, refused=(), objected=(), erased=False) -> Standing:
    return Standing(erased, frozenset(objected), at, frozenset(granted), frozenset(refused))


@pytest.mark.parametrize(
    ("later", "queued", "reason"),
    [
        (standing(), hit(), None),
        (standing(erased=True), hit(), "erased"),
        (standing(objected=["analytics"]), hit(), "objected"),
        (standing(objected=["marketing"]), hit(), "objected"),  # it signalled marketing
        (standing(objected=["marketing"]), hit(frozenset({"analytics"})), None),
        (standing({"analytics"}), hit(), "withdrawn"),  # narrower: no more ad_storage
        (standing({"analytics"}), hit(frozenset({"analytics"})), None),
        (standing({"marketing"}), hit(frozenset()), None),  # an anonymous ping identifies nobody
        (standing(refused=["ga4"]), hit(), "vendor_refused"),
        (standing(refused=["meta_pixel"]), hit(), None),
        (standing(frozenset(), at=50.0), hit(), None),  # the edge decided with this choice
        (standing(refused=["ga4"], at=50.0), hit(), None),
        # An old token replayed after a narrower choice or a withdrawal, queued after it: the
        # token's own time counts, not the queue's.
        (standing({"analytics"}, at=50.0), hit(token_time=40.0), "withdrawn"),
        (standing(frozenset(), at=50.0), hit(token_time=40.0), "withdrawn"),
        (standing(refused=["ga4"], at=50.0), hit(token_time=40.0), "vendor_refused"),
        (standing({"analytics"}, at=50.0), hit(token_time=60.0), None),  # the token is newer
        (standing({"analytics"}, at=50.0), hit(token_time=51.0), None),  # the token is newer
        # The token's own second: its own choice (the hit fits it), or one made just after.
        (standing(at=50.7), hit(token_time=50.0), None),
        (standing({"analytics"}, at=50.7), hit(frozenset({"analytics"}), token_time=50.0), None),
        (standing({"analytics"}, at=50.7), hit(token_time=50.0), "withdrawn"),
        (standing(frozenset(), at=50.7), hit(token_time=50.0), "withdrawn"),
        (standing(frozenset(), at=50.7), hit(frozenset(), token_time=50.0), None),  # anonymous
    ],
)
def test_withheld_reason(later: Standing, queued: QueuedHit, reason: str | None) -> None:
    assert withheld_reason(later, queued, GA4) == reason


def test_a_queued_hit_keeps_its_token_time_and_an_older_entry_reads_without_one() -> None:
    queued = hit(token_time=1_700_000_000.0)
    assert QueuedHit.from_json(queued.to_json()) == queued
    older = hit()  # as an entry written before tokens' times were queued
    assert '"ct"' not in older.to_json()
    assert QueuedHit.from_json(older.to_json()).chosen_at is None


@pytest.mark.parametrize(
    ("later", "queued", "reason"),
    [
        (standing(frozenset(), at=100.0), hit(), None),  # the same instant: the edge saw it
        (standing(frozenset(), at=100.001), hit(), "withdrawn"),  # any later: checked
        (standing(frozenset(), at=None), hit(), None),  # no choice stored: the edge decided
        (standing(refused=["ga4"], at=None), hit(), None),
        (standing(erased=True, at=None), hit(), "erased"),  # erasure and objections need none
        (standing(objected=["analytics"], at=None), hit(), "objected"),
        (standing(erased=True, objected=["analytics"]), hit(), "erased"),
        (standing(objected=["analytics"], refused=["ga4"]), hit(), "objected"),
        (standing(frozenset(), refused=["ga4"]), hit(), "vendor_refused"),
        (standing({"marketing"}), hit(), "withdrawn"),  # its own category taken away
        (standing({"analytics", "marketing", "preferences"}), hit(), None),  # broader: fine
        (standing(objected=["preferences"]), hit(), None),
    ],
)
def test_withheld_reason_boundaries(later: Standing, queued: QueuedHit, reason: str | None) -> None:
    assert withheld_reason(later, queued, GA4) == reason


def test_a_standing_is_read_from_the_latest_choice_and_the_objection() -> None:
    choice = receipt("c1-aaaaaaaaaaaaaaaa", at=T0, refused_vendors=("ga4",))
    objection = Objection("c1-aaaaaaaaaaaaaaaa", ("marketing", "preferences"), T0 + 1, "r1")
    assert Standing.of(SubjectStanding(False, objection, choice)) == Standing(
        erased=False,
        objected=frozenset({"marketing", "preferences"}),
        chosen_at=T0,
        granted=frozenset({"analytics", "necessary"}),
        refused_vendors=frozenset({"ga4"}),
    )
    assert Standing.of(SubjectStanding(True, None, None)) == Standing(
        True, frozenset(), None, frozenset(), frozenset()
    )


SUBJECT = "subject-aaaaaaaaaaaaaaaa"


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sqlite_store(make_settings) -> AsyncIterator[Store]:
    store = open_store(make_settings())
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def queued(consent_id: str | None, at: float = T0) -> QueuedHit:
    return QueuedHit(OutboundHit("ga4", "GET", "https://v.example/c", ()), consent_id, at, BOTH)


async def test_standings_are_cached_for_cache_seconds_then_read_again(sqlite_store: Store) -> None:
    """The cache's hit path: a change younger than `cache_seconds` is not seen yet."""
    clock = Clock()
    check = DeliveryConsent(sqlite_store.rights, cache_seconds=1.0, clock=clock)
    await sqlite_store.receipts.add_receipts(
        [receipt(SUBJECT, at=T0, granted=("analytics", "marketing"))]
    )
    assert await check.withheld([queued(SUBJECT)], GA4) == [None]
    await sqlite_store.rights.erase_subject(SUBJECT, T0 + 5)
    clock.now += 0.999
    assert await check.withheld([queued(SUBJECT)], GA4) == [None]  # cached: no store read
    clock.now = 51.0
    assert await check.withheld([queued(SUBJECT)], GA4) == ["erased"]


async def test_the_cache_keeps_the_time_of_its_read(sqlite_store: Store) -> None:
    clock = Clock()
    check = DeliveryConsent(sqlite_store.rights, cache_seconds=1.0, clock=clock)
    await check.standings({SUBJECT})
    clock.now = 50.5
    await check.standings({SUBJECT})  # a hit: the entry keeps its first time
    await sqlite_store.rights.erase_subject(SUBJECT, T0)
    clock.now = 51.0
    assert (await check.standings({SUBJECT}))[SUBJECT].erased


async def test_a_batch_mixes_cached_and_new_subjects(sqlite_store: Store) -> None:
    clock = Clock()
    check = DeliveryConsent(sqlite_store.rights, cache_seconds=10.0, clock=clock)
    other = "subject-bbbbbbbbbbbbbbbb"
    await check.standings({SUBJECT})
    await sqlite_store.rights.erase_subject(SUBJECT, T0)
    await sqlite_store.rights.erase_subject(other, T0)
    found = await check.standings({SUBJECT, other})
    assert (found[SUBJECT].erased, found[other].erased) == (False, True)
    assert await check.withheld([queued(None), queued(other), queued(SUBJECT)], GA4) == [
        None,  # no cookie: nothing to re-check
        "erased",
        None,
    ]


async def test_the_cache_is_bounded(sqlite_store: Store) -> None:
    """Past `cache_limit` subjects the cache starts again empty, and is read afresh."""
    clock = Clock()
    check = DeliveryConsent(sqlite_store.rights, cache_seconds=60.0, clock=clock, cache_limit=2)
    assert DeliveryConsent(sqlite_store.rights).cache_limit == 100_000
    subjects = [f"subject-{n}-aaaaaaaaaaaaaaaa" for n in range(3)]
    await check.standings({subjects[0]})
    await check.standings({subjects[1]})  # 1 + 1: exactly the limit, both kept
    await sqlite_store.rights.erase_subject(subjects[0], T0)
    assert not (await check.standings({subjects[0]}))[subjects[0]].erased  # 2 kept: cached
    await check.standings({subjects[2]})  # a third: over the limit, the cache is emptied first
    assert (await check.standings({subjects[0]}))[subjects[0]].erased


async def test_the_default_cache_is_one_second_on_the_monotonic_clock(sqlite_store: Store) -> None:
    check = DeliveryConsent(sqlite_store.rights)
    assert (check.cache_seconds, check.clock) == (1.0, time.monotonic)
