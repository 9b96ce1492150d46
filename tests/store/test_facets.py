"""Every backend is one object exposing the same facets: each facet implements its protocol
(`gateway.store.base`, `gateway.store.shared`, `gateway.delivery.queue.HitQueue`) with the
same operations and signatures, and every facet — the hit queue too — works through the
backend's one connection. The behaviour of each facet is held by the contract tests beside
this one (`test_contract`, `test_rights_contract`, `test_shared_contract`,
`tests/delivery/test_queue_contract`), which run over the same store URLs."""

from __future__ import annotations

import inspect

import pytest

from gateway.delivery.queue import HitQueue, QueueCap, QueuedHit, open_hit_queue
from gateway.errors import StoreUnavailable
from gateway.model.outbound_hits import OutboundHit
from gateway.store import Store
from gateway.store.base import Counts, EmailRecords, Receipts, Retention, Rights
from gateway.store.shared import SharedState

FACETS: dict[str, type] = {
    "receipts": Receipts,
    "counts": Counts,
    "email": EmailRecords,
    "rights": Rights,
    "retention": Retention,
    "shared": SharedState,
}


def operations(protocol: type) -> list[str]:
    return sorted(
        name
        for name, member in vars(protocol).items()
        if not name.startswith("_") and inspect.isfunction(member)
    )


def shape(function: object) -> list[tuple[str, object, object]]:
    """Parameter names, kinds and defaults (without `self`)."""
    parameters = list(inspect.signature(function).parameters.values())  # type: ignore[arg-type]
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    return [(p.name, p.kind, p.default) for p in parameters]


def kind(function: object) -> str:
    if inspect.isasyncgenfunction(function) or "AsyncIterator" in str(
        inspect.signature(function).return_annotation  # type: ignore[arg-type]
    ):
        return "async iterator"
    return "coroutine" if inspect.iscoroutinefunction(function) else "plain"


def assert_implements(facet: object, protocol: type) -> None:
    names = operations(protocol)
    assert names, protocol
    for name in names:
        implemented = getattr(facet, name, None)
        assert implemented is not None, f"{type(facet).__name__} lacks {name}"
        declared = getattr(protocol, name)
        assert shape(implemented) == shape(declared), f"{type(facet).__name__}.{name}"
        assert kind(implemented) == kind(declared), f"{type(facet).__name__}.{name}"


def connections_of(facet: object) -> list[object]:
    """What a facet holds that is a connection (its backend's, shared)."""
    return [
        value
        for value in vars(facet).values()
        if type(value).__name__ in ("SQLiteConnection", "RedisConnection")
    ]


async def test_every_facet_implements_its_protocol(store: Store) -> None:
    for attribute, protocol in FACETS.items():
        assert_implements(getattr(store, attribute), protocol)
    assert_implements(open_hit_queue(store, shards=2), HitQueue)


async def test_every_facet_and_the_queue_share_the_backends_one_connection(store: Store) -> None:
    facets = [getattr(store, attribute) for attribute in FACETS]
    facets.append(open_hit_queue(store))
    found = [connections_of(facet) for facet in facets]
    assert all(len(held) == 1 for held in found), found
    assert len({id(held[0]) for held in found}) == 1  # one and the same connection


async def test_closing_the_store_closes_its_queue_too(store: Store) -> None:
    """The queue has no lifecycle of its own: it works while its store is open."""
    queue = open_hit_queue(store)
    hit = OutboundHit("ga4", "GET", "https://v.example/c?n=1", (("User-Agent", "ua"),))
    assert await queue.append([QueuedHit(hit, "c1", 1000.0)], QueueCap(10)) == {}
    assert (await queue.depths(["ga4"]))["ga4"].depth == 1
    await store.receipts.latest_receipts(1)  # the store's facets on the same connection
    await store.close()
    with pytest.raises(StoreUnavailable):
        await queue.depths(["ga4"])
    await store.open()  # the fixture closes it again
    assert (await open_hit_queue(store).depths(["ga4"]))["ga4"].depth == 1
