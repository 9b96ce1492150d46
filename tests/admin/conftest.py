"""An admin-enabled gateway, in process, and a client logged in to its dashboard."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.admin.html_reading import log_in
from tests.clocks import SteadyClock
from tests.conftest import serving

ADMIN = "dashboard-admin-token-for-tests"
ADMIN_HASH = hashlib.sha256(ADMIN.encode()).hexdigest()
ORIGIN = "http://gateway.test"  # the in-process client's base URL is the gateway's public URL


@pytest.fixture
def clock() -> SteadyClock:
    return SteadyClock()


@pytest.fixture
def gateway(make_settings: Callable[..., Settings], clock: SteadyClock) -> Gateway:
    settings = make_settings(admin_token_hashes=(ADMIN_HASH,), public_url=ORIGIN)
    return Gateway.build(settings, clock)


@pytest.fixture
def app(gateway: Gateway) -> Starlette:
    return app_for(gateway)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


@pytest.fixture
async def admin(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """`http`, logged in."""
    await log_in(http, ADMIN)
    return http
