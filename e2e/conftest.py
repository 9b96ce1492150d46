"""The real parts, started once per session: Redis, a stand-in vendor, the site, the gateway.

    Chromium ──▶ www.site.test:S      (e2e.site: pages with blocked tags, strict CSP)
       │
       └──────▶ consent.site.test:G   (the real gateway: `serve --demo`, real uvicorn)
                   ├──▶ redis-server  (the real store)
                   └──▶ 127.0.0.1:V   (tests.vendors: every rule's upstream points here)

Chromium resolves `*.site.test` to 127.0.0.1, so the banner talks to its gateway cross-origin
but same-site, and the consent cookie lives on `Domain=site.test`, as in production. Every
test gets a fresh browser context (a new visitor) in one shared Chromium.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from e2e.browsing import CHROMIUM, CHROMIUM_ARGS, DESKTOP_CHROME, open_page
from e2e.gateway_server import REPO, GatewayProcess, running_gateway
from e2e.site import Site, running_site
from tests.isolation import own_state_folder, pytest_runtest_call  # noqa: F401 (fixture, hook)
from tests.servers import RedisServer, redis_server
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

# Screenshots for a person to look at after a run; ignored by git (e2e/artifacts/), so that a
# test run leaves the checkout clean.
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One event loop for the whole run, so that one Chromium serves every test."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if pytest_asyncio.is_async_test(item):
            item.add_marker(session_loop, append=False)


@pytest.fixture(scope="session")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def vendor_server() -> Iterator[StandInVendor]:
    with stand_in_vendor() as vendor:
        yield vendor


@pytest.fixture(scope="session")
def site_server(vendor_server: StandInVendor) -> Iterator[Site]:
    with running_site() as site:
        site.vendor = vendor_server.origin
        yield site


def _gateway_settings(
    tmp: pytest.TempPathFactory, redis: RedisServer, vendor: StandInVendor, site: Site
) -> dict[str, str]:
    rules = rules_pointing_at(REPO / "tag_rules", tmp.mktemp("rules"), vendor.origin)
    return {
        "store": redis.url,
        "rules": str(rules),
        "allow_insecure_upstreams": "true",
        "allowed_origins": site.www,
        "cookie_domain": "site.test",
        "policy_url": f"{site.www}/privacy",
    }


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    vendor_server: StandInVendor,
    site_server: Site,
) -> Iterator[GatewayProcess]:
    settings = _gateway_settings(tmp_path_factory, redis, vendor_server, site_server)
    with running_gateway(tmp_path_factory.mktemp("gateway"), settings) as process:
        site_server.gateway = process.origin
        yield process


@pytest.fixture(scope="session")
def gateway_revision_2(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    vendor_server: StandInVendor,
    site_server: Site,
    gateway: GatewayProcess,
) -> Iterator[GatewayProcess]:
    """A second gateway on the same Redis with the policy revision bumped, as after a deploy."""
    settings = _gateway_settings(tmp_path_factory, redis, vendor_server, site_server)
    settings["policy_revision"] = "2"
    with running_gateway(tmp_path_factory.mktemp("gateway2"), settings) as process:
        yield process


@pytest.fixture
def vendor(vendor_server: StandInVendor, gateway: GatewayProcess) -> StandInVendor:
    """The stand-in vendor with nothing received yet, and nothing still on its way to it.

    Earlier tests may leave hits in the gateway's forwarding queue: one more hit, sent now and
    waited for, comes out of the queue after them; then the slate is wiped.
    """
    marker = f"flush-{time.monotonic_ns()}"
    with httpx.Client(trust_env=False) as client:
        client.post(
            f"http://127.0.0.1:{gateway.port}/t/ga4?v=2&en={marker}",
            headers={"User-Agent": DESKTOP_CHROME},
        )
    deadline = time.monotonic() + 10
    while not any(("en", marker) in hit.query for hit in list(vendor_server.received)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway did not forward {marker}:\n{gateway.log()}")
        time.sleep(0.01)
    vendor_server.received.clear()
    return vendor_server


@pytest.fixture
def site(site_server: Site, gateway: GatewayProcess) -> Site:
    site_server.served.clear()
    return site_server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


Visit = Callable[..., Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="session")
async def visit(browser: Browser) -> AsyncIterator[Visit]:
    """`await visit(url, **context_options)`: a new visitor on `url`; closed after the test."""
    pages: list[Page] = []

    async def open_as_new_visitor(url: str, **options: Any) -> Page:
        page = await open_page(browser, url, **options)
        pages.append(page)
        return page

    yield open_as_new_visitor
    for page in pages:
        await page.context.close()
