"""Fixtures of the archive suite: one real PostgreSQL per session (tests/pg_server.py), a
fresh database per test, and Redis + archive stores built as the gateway builds them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import psycopg
import pytest

from gateway.model.email_events import EmailEvent
from gateway.model.receipts import Receipt
from gateway.settings import Settings
from gateway.store import open_store
from gateway.store.archive.mover import ArchiveMover
from gateway.store.archive.store import ArchivedRedisStore
from gateway.store.store_settings import StoreSettings
from tests.conftest import empty_redis_url
from tests.pg_server import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def archive_url(postgres: PostgresServer) -> Iterator[str]:
    """An empty database of its own for each test."""
    name = f"cg_{secrets.token_hex(6)}"
    with psycopg.connect(postgres.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")  # a name of hex digits only
    yield postgres.url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(postgres.url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["redis", "cluster"])
def hot_url(request: pytest.FixtureRequest) -> str:
    """Redis, then Redis Cluster, empty: the archive goes beside either."""
    return empty_redis_url(request, cluster=request.param == "cluster")


@pytest.fixture
def archived_settings(
    make_settings: Callable[..., Settings], hot_url: str, archive_url: str
) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        return make_settings(**{"store": hot_url, "archive": archive_url, **overrides})

    return build


@pytest.fixture
async def archived(archived_settings: Callable[..., Settings]) -> AsyncIterator[ArchivedRedisStore]:
    backend = open_store(archived_settings())
    assert isinstance(backend, ArchivedRedisStore)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


class MovingStore(ArchivedRedisStore):
    """The archived store, moving after every write: the contract's records (dated in 2025,
    older than the hot window) are then read back from PostgreSQL."""

    def __init__(self, url: str, settings: StoreSettings) -> None:
        super().__init__(url, settings)
        add_receipts, add_email_events = self.receipts.add_receipts, self.email.add_email_events

        async def moving_receipts(receipts: Sequence[Receipt]) -> list[Receipt]:
            stored = await add_receipts(receipts)
            await ArchiveMover(self).run_once(lease=False)
            return stored

        async def moving_events(events: Sequence[EmailEvent]) -> None:
            await add_email_events(events)
            await ArchiveMover(self).run_once(lease=False)

        self.receipts.add_receipts = moving_receipts  # type: ignore[method-assign]
        self.email.add_email_events = moving_events  # type: ignore[method-assign]
