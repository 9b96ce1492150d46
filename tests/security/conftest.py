"""An admin-enabled gateway in process, for hostile-input tests; logs captured per test."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import serving

ADMIN = "security-admin-token-for-tests"
ADMIN_HASH = hashlib.sha256(ADMIN.encode()).hexdigest()
AUTH = {"Authorization": f"Bearer {ADMIN}"}
ORIGIN = "http://gateway.test"  # the in-process client's base URL is the gateway's public URL


@pytest.fixture
def gateway(make_settings: Callable[..., Settings]) -> Gateway:
    return Gateway.build(make_settings(admin_token_hashes=(ADMIN_HASH,), public_url=ORIGIN))


@pytest.fixture
def app(gateway: Gateway) -> Starlette:
    return app_for(gateway)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client
