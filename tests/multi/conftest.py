"""Two gateway processes on one store, for each backend: SQLite (one database file), Redis,
Redis Cluster and Redis Sentinel — started once per module, reusing the suite's Redis servers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.multi.deploy import Gateway, serving
from tests.servers import RedisServer, SentinelGroup, redis_sentinel_group
from tests.vendors import rules_pointing_at, stand_in_vendor

# The full re-read of objections is the safety net; here it is out of the way, so that only
# the change announcement can bring an objection to the other instance in time.
SLOW_FULL_REREAD = "300"


@pytest.fixture(scope="session")
def sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelGroup]:
    with redis_sentinel_group(tmp_path_factory.mktemp("sentinel")) as group:
        yield group


def store_for(request: pytest.FixtureRequest, backend: str, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory}/shared.sqlite3"
    if backend == "redis":
        server: RedisServer = request.getfixturevalue("redis_single")
        return server.url
    if backend == "cluster":
        nodes: list[RedisServer] = request.getfixturevalue("redis_cluster_nodes")
        return f"redis+cluster://127.0.0.1:{nodes[0].port}"
    group: SentinelGroup = request.getfixturevalue("sentinel_group")
    return group.url


@pytest.fixture(scope="module", params=["sqlite", "redis", "cluster", "sentinel"])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, Gateway]]:
    """Instances A and B of one gateway on one store (`request.param` names the backend)."""
    directory = tmp_path_factory.mktemp(f"pair-{request.param}")
    store = store_for(request, request.param, directory)
    with contextlib.ExitStack() as stack:
        vendor = stack.enter_context(stand_in_vendor())
        rules = rules_pointing_at(REPO / "tag_rules", directory / "rules", vendor.origin)
        settings: dict[str, str] = {
            "rules": str(rules),
            "allow_insecure_upstreams": "true",
            "objection_refresh_seconds": SLOW_FULL_REREAD,
        }
        a = stack.enter_context(serving(directory / "a", store, settings=settings))
        b = stack.enter_context(serving(directory / "b", store, settings=settings))
        yield a, b
