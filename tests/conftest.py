"""Fixtures shared by every test: real Redis servers, settings, stores and running apps."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette

from gateway.app import app_for, create_app
from gateway.runtime import Gateway
from gateway.settings import Settings, from_keys
from gateway.store import Store, open_store
from tests.isolation import own_state_folder, pytest_runtest_call  # noqa: F401 (fixture, hook)
from tests.servers import RedisServer, redis_cluster, redis_server
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor, vendors_in

REPO = Path(__file__).resolve().parents[1]
SECRET = "test-secret-key-0123456789abcdefghijklmnop"
SITE = "https://www.example.com"


@pytest.fixture(scope="session")
def redis_single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as nodes:
        yield nodes


def _flush(ports: list[int]) -> None:
    for port in ports:
        client = redis.Redis(port=port)
        client.flushall()
        client.close()


@pytest.fixture(params=["sqlite", "redis", "cluster"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend in turn, empty: the same tests run against all three."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite3"
    return empty_redis_url(request, cluster=request.param == "cluster")


def empty_redis_url(request: pytest.FixtureRequest, *, cluster: bool) -> str:
    """The suite's Redis (or Redis Cluster), flushed: a test's store starts empty."""
    if not cluster:
        server: RedisServer = request.getfixturevalue("redis_single")
        _flush([server.port])
        return server.url
    nodes: list[RedisServer] = request.getfixturevalue("redis_cluster_nodes")
    _flush([node.port for node in nodes])
    return f"redis+cluster://127.0.0.1:{nodes[0].port}"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "secret_keys": (SECRET,),
            "store": f"sqlite:///{tmp_path}/gateway.sqlite3",
            "rules": REPO / "tag_rules",
            "data_dir": tmp_path / "var",
            "allowed_origins": (SITE,),
            "policy_url": f"{SITE}/privacy",
            "spool_replay_seconds": 0.1,
        }
        values.update(overrides)
        values.setdefault("vendors", vendors_in(Path(values["rules"])))  # every rule there
        return from_keys(**values)

    return build


@pytest.fixture
async def store(store_url: str, make_settings: Callable[..., Settings]) -> AsyncIterator[Store]:
    backend = open_store(make_settings(store=store_url))
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@contextlib.asynccontextmanager
async def serving(
    app: Starlette, client_ip: str = "203.0.113.77"
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for `app`, with its lifespan (store, writer) running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def first_read(gateway: Gateway, seconds: float = 15.0) -> None:
    """Until the gateway has read objections and choices from the store once, it fails closed
    (every subject objects): tests that count forwarded hits wait for that first read."""
    registry = gateway.objections
    deadline = asyncio.get_running_loop().time() + seconds
    while not registry.loaded and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert registry.loaded


@pytest.fixture
async def client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings())) as http:
        yield http


# A stand-in vendor and a gateway whose rules point at it: the tracking and app suites' parts.


@pytest.fixture
def vendor() -> Iterator[StandInVendor]:
    with stand_in_vendor() as server:
        yield server


@pytest.fixture
def gateway(vendor: StandInVendor, make_settings, tmp_path: Path) -> Gateway:
    """The gateway `http` serves (the same one within a test), for tests to look inside."""
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    return Gateway.build(
        make_settings(
            rules=rules,
            allow_insecure_upstreams=True,
            opt_out_regions=("US",),
            geo_header="CF-IPCountry",
        )
    )


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app_for(gateway), client_ip="198.51.100.77") as client:
        yield client
