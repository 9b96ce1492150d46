"""Failed admin tokens are rate-limited per client network: a token bucket, controlled clock."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from gateway.admin_auth import FailedAdminAttempts
from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import serving

ADMIN = "rate-limit-admin-token"
HASH = hashlib.sha256(ADMIN.encode()).hexdigest()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_of_failures_then_one_more_per_refill() -> None:
    clock = Clock()
    attempts = FailedAdminAttempts(burst=3, refill_seconds=10, clock=clock)
    for _ in range(3):
        assert await attempts.retry_after("a") == 0
        await attempts.failed("a")
    assert await attempts.retry_after("a") == 10
    assert await attempts.retry_after("b") == 0  # another client is not affected
    clock.now += 4
    assert await attempts.retry_after("a") == 6
    clock.now += 6
    assert await attempts.retry_after("a") == 0
    await attempts.failed("a")
    assert await attempts.retry_after("a") == 10
    clock.now += 1000  # refills up to the burst, no further
    for _ in range(3):
        await attempts.failed("a")
    assert await attempts.retry_after("a") == 10


async def test_memory_is_bounded_by_forgetting_the_least_recent_client() -> None:
    clock = Clock()
    attempts = FailedAdminAttempts(burst=1, refill_seconds=60, max_clients=2, clock=clock)
    for client in ("a", "b", "c"):
        await attempts.failed(client)
    assert await attempts.retry_after("a") == 0  # forgotten
    assert await attempts.retry_after("b") == 60
    assert await attempts.retry_after("c") == 60


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.7", None, "203.0.113.7/32"),
        ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),  # one IPv6 host has a whole /64
        ("10.0.0.1", "198.51.100.9", "198.51.100.9/32"),  # through a trusted proxy
        ("203.0.113.7", "198.51.100.9", "203.0.113.7/32"),  # anyone else's header is ignored
    ],
)
def test_the_client_is_its_network_seen_through_trusted_proxies_only(
    peer: str, forwarded: str | None, client: str
) -> None:
    attempts = FailedAdminAttempts([ipaddress.ip_network("10.0.0.0/8")])
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "headers": headers, "client": (peer, 1234)}
    assert attempts.client_of(Request(scope)) == client


@pytest.fixture
def app(make_settings: Callable[..., Settings]) -> Starlette:
    gateway = Gateway.build(make_settings(admin_token_hashes=(HASH,)))
    app = app_for(gateway)
    attempts = gateway.admin_attempts  # the API's and the login's
    attempts.burst, attempts.refill_seconds = 3, 60
    return app


async def test_the_api_answers_429_with_retry_after_and_then_refuses_even_the_right_token(
    app: Starlette,
) -> None:
    async with serving(app) as http:
        for _ in range(3):
            wrong = await http.post("/api/links", json={}, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
        limited = await http.post("/api/links", json={}, headers={"Authorization": "Bearer nope"})
        assert limited.status_code == 429
        assert limited.json()["error"] == "too_many_requests"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        right = await http.post("/api/links", json={}, headers={"Authorization": f"Bearer {ADMIN}"})
        assert right.status_code == 429  # a guesser must not learn which guess was right
        transport = httpx.ASGITransport(app=app, client=("198.51.100.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as other:
            answer = await other.post(
                "/api/links", json={}, headers={"Authorization": f"Bearer {ADMIN}"}
            )
            assert answer.status_code == 422  # past the auth: another client is not limited


async def test_a_missing_token_is_no_guess_and_costs_nothing(app: Starlette) -> None:
    async with serving(app) as http:
        for _ in range(10):
            assert (await http.post("/api/links", json={})).status_code == 401
        right = await http.post("/api/links", json={}, headers={"Authorization": f"Bearer {ADMIN}"})
        assert right.status_code == 422


async def test_an_over_long_token_is_a_wrong_guess(app: Starlette) -> None:
    async with serving(app) as http:
        for _ in range(3):
            answer = await http.post(
                "/api/links", json={}, headers={"Authorization": "Bearer " + "x" * 600}
            )
            assert answer.status_code == 401
        assert (
            await http.post("/api/links", json={}, headers={"Authorization": "Bearer x"})
        ).status_code == 429
