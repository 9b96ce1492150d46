"""Yandex Metrica, Webvisor, VK Ads and VK retargeting, run from their documented snippets (issue 27).

As in `e2e/test_real_clients.py`: each page is a snippet of `tag_rules/README.md`, opened by a
new visitor once without a choice and once after "accept all"; the stand-in vendor says what
arrived. No registry carries Yandex's tag.js, so the Webvisor test serves a stand-in for it at
its real address (a Playwright route on mc.yandex.ru) and records what it sends there.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from playwright.async_api import Page, Request, Route, expect

from e2e.browsing import until
from e2e.conftest import Visit
from e2e.gateway_server import GatewayProcess
from e2e.site import Site
from e2e.test_real_clients import open_client
from e2e.test_real_clients import page_url as page_url_of
from e2e.vendor_hits import params, sent
from tests.vendors import StandInVendor

WATCH = "/watch/12345678"
YANDEX = "https://mc.yandex.ru/"
# What the stand-in for tag.js does with the `ym` queue the official loader fills: a page view
# to /watch/{counter} and, with `webvisor: true`, the recording to /webvisor/{counter}.
TAG_JS = """
(() => {
  for (const [counter, method, options] of window.ym.a) {
    if (method !== "init") continue;
    const watch = new URLSearchParams({"page-url": location.href, "browser-info": "pv:1:u:17329:"});
    fetch(`https://mc.yandex.ru/watch/${counter}?${watch}`, {method: "POST", mode: "no-cors"});
    if (options && options.webvisor)
      fetch(`https://mc.yandex.ru/webvisor/${counter}?wv-type=0`,
            {method: "POST", mode: "no-cors", body: "wv-data"});
  }
  window.ymReplayed = true;
})();
"""


@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_yandex_metrica_page_view_and_goal(
    visit: Visit, site: Site, gateway: GatewayProcess, vendor: StandInVendor, consent: bool
) -> None:
    page = await open_client(visit, site, gateway, "yandex-metrica", consent=consent)
    goal = lambda request: "goal" in unquote(request.url)  # noqa: E731
    async with page.expect_event("requestfinished", goal):  # answered, redirect followed
        await page.evaluate("ymGoal('ORDER')")
    if not consent:
        await until(page, "document.readyState === 'complete'")  # the page view's image too
        assert sent(vendor, WATCH) == []
        return
    # Consented: the full URL, but for the e-mail address in it (gateway.tracking.redaction).
    page_url = page_url_of(site, "yandex-metrica", anonymous=False)
    view = await watched(vendor, "pv:1:")
    assert unquote(view["page-url"]) == page_url
    assert view["charset"] == "utf-8"
    order = await watched(vendor, "ar:1:")
    assert order["page-url"] == f"goal://{urlsplit(site.www).hostname}/ORDER"
    assert unquote(order["page-ref"]) == page_url


async def watched(vendor: StandInVendor, browser_info: str) -> dict[str, Any]:
    """The parameters of the first /watch hit with this `browser-info`, once it has arrived."""
    deadline = time.monotonic() + 10
    while not (found := sent(vendor, WATCH, **{"browser-info": browser_info})):
        assert time.monotonic() < deadline, [params(hit) for hit in vendor.received]
        await asyncio.sleep(0.02)
    return params(found[0])


@pytest.mark.parametrize("consent", [False, True], ids=["no_choice", "accept_all"])
async def test_vk_pixels(
    visit: Visit, site: Site, gateway: GatewayProcess, vendor: StandInVendor, consent: bool
) -> None:
    await open_client(visit, site, gateway, "vk-ads", consent=consent)
    await open_client(visit, site, gateway, "vk-retargeting", consent=consent)
    # Both pages have loaded, images included: a redirect has been followed by now.
    counter, retargeting = sent(vendor, "/counter"), sent(vendor, "/rtrg")
    if not consent:
        assert counter == retargeting == []
        return
    # The counter's own `;` syntax reaches Top@Mail.ru as the snippet wrote it.
    assert [hit.query for hit in counter] == [[("id", "PIXEL_ID;js=na")]]
    assert [params(hit) for hit in retargeting] == [{"p": "VK-RTRG-XXXXXX-XXXXX"}]


async def open_with_yandex(
    visit: Visit, site: Site, gateway: GatewayProcess, *, granted: list[str] | None
) -> tuple[Page, list[tuple[str, str]]]:
    """The Webvisor snippet's page; `granted` is chosen first (None: no choice). Returns the
    page and every request that reached Yandex's host, as (method, path)."""
    page = await visit(f"{site.www}/privacy")
    yandex: list[tuple[str, str]] = []

    async def answer(route: Route, request: Request) -> None:
        yandex.append((request.method, urlsplit(request.url).path))
        body = TAG_JS if request.url.endswith("/metrika/tag.js") else ""
        await route.fulfill(status=200, body=body, content_type="text/javascript")

    await page.route(f"{YANDEX}**", answer)
    if granted is not None:
        status = await page.evaluate(
            """([url, body]) => fetch(url, {method: "POST", credentials: "include",
                 headers: {"Content-Type": "application/json"}, body}).then((r) => r.status)""",
            [f"{gateway.origin}/consent", json.dumps({"granted": granted})],
        )
        assert status == 200
    await page.goto(f"{site.www}/clients/yandex-webvisor")
    return page, yandex


async def test_webvisor_records_only_once_both_metrica_and_webvisor_are_allowed(
    visit: Visit, site: Site, gateway: GatewayProcess
) -> None:
    recorder = 'script[data-vendor="yandex_webvisor"]'
    page, yandex = await open_with_yandex(visit, site, gateway, granted=None)
    await expect(page.get_by_role("dialog")).to_be_visible()  # the banner ran: no choice yet
    assert await page.locator(recorder).get_attribute("type") == "text/plain"
    analytics_only, yandex_too = await open_with_yandex(visit, site, gateway, granted=["analytics"])
    await until(analytics_only, "!!window.consentGateway && consentGateway.allowed('analytics')")
    assert await analytics_only.locator(recorder).get_attribute("type") == "text/plain"
    # Marketing without analytics: Webvisor's script runs, sees Metrica refused, loads nothing.
    marketing_only, yandex_marketing = await open_with_yandex(
        visit, site, gateway, granted=["marketing"]
    )
    await until(marketing_only, "!!window.consentGateway && consentGateway.allowed('marketing')")
    await expect(marketing_only.locator(recorder)).to_have_attribute("type", "text/javascript")
    everything, recorded = await open_with_yandex(
        visit, site, gateway, granted=["analytics", "marketing"]
    )
    await until(everything, "window.ymReplayed === true")
    await reaches(recorded, ("POST", "/webvisor/12345678"))
    assert ("GET", "/metrika/tag.js") in recorded
    assert yandex == yandex_too == yandex_marketing == []  # never a byte to Yandex before


async def reaches(recorded: list[tuple[str, str]], request: tuple[str, str]) -> None:
    deadline = time.monotonic() + 5
    while request not in recorded:
        assert time.monotonic() < deadline, f"{request} never reached Yandex: {recorded}"
        await asyncio.sleep(0.02)
