"""Issue 30's walk-through: a fresh site wired only with the snippets and the config of
`docs/getting-started.md` — banner, gtag.js through the gateway, the gated Meta Pixel — in real
Chromium: nothing reaches a vendor's host before consent, the cookieless GA4 ping does, the
choice is recorded, Meta's page view is sent on the page where the visitor accepts, the
Russian page links the Russian policy, and `consent-gateway audit` passes in every state."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, expect

from e2e.browsing import CHROMIUM, DESKTOP_CHROME, open_page, own_receipts
from e2e.first_hour_site import (
    DOCUMENTED_GATEWAY,
    DOCUMENTED_SITE,
    FBEVENTS_JS,
    GTAG_JS,
    MEASUREMENT_ID,
    PIXEL_ID,
    FirstHourSite,
    documented_config,
    running_first_hour_site,
)
from e2e.gateway_server import GatewayProcess, running_gateway
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

REPO = Path(__file__).resolve().parents[1]
RESOLVE = "--browser-arg=--host-resolver-rules=MAP *.test 127.0.0.1"


@pytest.fixture(scope="module")
def first_hour(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FirstHourSite, GatewayProcess, StandInVendor, Path]]:
    directory = tmp_path_factory.mktemp("first-hour")
    with stand_in_vendor() as google, running_first_hour_site() as site:
        google.scripts["/gtag/js"] = (
            GTAG_JS, {"Content-Type": "application/javascript", "Cache-Control": "max-age=900"}
        )  # fmt: skip
        config = directory / "gateway.toml"
        config.write_text(
            documented_config()
            .replace(DOCUMENTED_SITE, site.origin)
            .replace('cookie_domain = "example.com"', 'cookie_domain = "site.test"')
        )
        settings = {
            "config": str(config),
            # Test-only: the rules' upstreams are the stand-in's, on plain http.
            "rules": str(rules_pointing_at(REPO / "tag_rules", directory / "rules", google.origin)),
            "allow_insecure_upstreams": "true",
            "store": f"sqlite:///{directory}/gateway.sqlite3",
        }
        with running_gateway(directory / "gateway", settings) as gateway:
            site.gateway = gateway.origin
            yield site, gateway, google, config


def _ga4_hits(google: StandInVendor) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit("?" + "&".join(f"{k}={v}" for k, v in hit.query)).query)
            for hit in list(google.received) if hit.path == "/g/collect"]  # fmt: skip


async def _arrived(check: Any, what: str, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"never arrived: {what}")


def _foreign(requests: list[str]) -> list[str]:
    return [url for url in requests if not (urlsplit(url).hostname or "").endswith("site.test")]


async def test_the_documented_site_sends_nothing_to_vendors_before_consent(
    first_hour: tuple[FirstHourSite, GatewayProcess, StandInVendor, Path], browser: Browser
) -> None:
    site, gateway, google, _ = first_hour
    meta_hits: list[str] = []

    async def fbevents(route: Route) -> None:
        await route.fulfill(body=FBEVENTS_JS, content_type="application/javascript")

    async def pixel(route: Route) -> None:
        meta_hits.append(route.request.url)
        await route.fulfill(status=204)

    google.received.clear()
    context = await browser.new_context(user_agent=DESKTOP_CHROME)
    await context.route("https://connect.facebook.net/**", fbevents)
    await context.route("https://www.facebook.com/**", pixel)
    page: Page = await context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto(site.origin + "/")
    await expect(page.get_by_role("button", name="Accept all")).to_be_visible()
    assert await page.evaluate("window.gtagStandIn") is True  # gtag.js came from the gateway

    # Before consent: the cookieless page_view ping reaches Google through the gateway only.
    def anonymous_page_view() -> list[dict[str, list[str]]]:
        return [h for h in _ga4_hits(google) if h.get("en") == ["page_view"]]

    [ping] = await _arrived(anonymous_page_view, "the anonymous GA4 ping")
    assert ping["tid"] == [MEASUREMENT_ID]
    assert ping["gcs"] == ["G100"]  # consent mode: denied
    assert "cid" not in ping
    assert _foreign(requests) == []
    assert meta_hits == []
    assert "_ga" not in {c["name"] for c in await page.context.cookies()}

    # The visitor accepts: the choice is recorded, Meta's page view is sent on this very page.
    await page.get_by_role("button", name="Accept all").click()
    await _arrived(lambda: meta_hits, "Meta's PageView after consent")
    await asyncio.sleep(0.5)  # once, not twice
    assert len(meta_hits) == 1
    assert parse_qs(urlsplit(meta_hits[0]).query) == {"id": [PIXEL_ID], "ev": ["PageView"]}

    def identified() -> list[dict[str, list[str]]]:
        return [h for h in _ga4_hits(google) if "cid" in h]

    [engaged] = await _arrived(identified, "the GA4 hit with consent")
    assert engaged["en"] == ["user_engagement"]
    assert engaged["gcs"] == ["G111"]
    receipts = await own_receipts(page, gateway.origin)
    assert [(r["action"], r["policy_url"]) for r in receipts] == [
        ("accept_all", f"{site.origin}/privacy")
    ]
    assert {urlsplit(u).hostname for u in _foreign(requests)} == {
        "connect.facebook.net", "www.facebook.com"
    }  # fmt: skip
    await page.context.close()


async def test_the_russian_page_links_the_russian_policy(
    first_hour: tuple[FirstHourSite, GatewayProcess, StandInVendor, Path], browser: Browser
) -> None:
    site, _, _, _ = first_hour
    page = await open_page(browser, site.origin + "/ru/", locale="ru-RU")
    link = page.get_by_role("link", name="Политика конфиденциальности")
    await expect(link).to_have_attribute("href", f"{site.origin}/ru/privacy")
    await page.context.close()
    english = await open_page(browser, site.origin + "/")
    await expect(english.get_by_role("link", name="Privacy policy")).to_have_attribute(
        "href", f"{site.origin}/privacy"
    )
    await english.context.close()


def test_the_audit_of_the_documented_site_passes_in_every_state(
    first_hour: tuple[FirstHourSite, GatewayProcess, StandInVendor, Path], tmp_path: Path
) -> None:
    site, _, _, config = first_hour
    out = tmp_path / "audit"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--config", str(config), "audit", site.origin + "/",
         "--out", str(out), "--pages=1", "--browser", CHROMIUM, RESOLVE],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    print(done.stderr)  # the audit summary, for the record
    assert done.returncode == 0, done.stderr
    assert (report["summary"]["violation"], report["summary"]["finding"]) == (0, 0)
    assert [s["name"] for s in report["states"]] == [
        "none", "reject", "preferences", "analytics", "marketing", "accept", "accept-gpc"
    ]  # fmt: skip
    assert sorted(report["banner_vendors"]) == ["ga4", "meta_pixel"]
    # Before a choice the browser asks only the site and the gateway.
    for state in report["states"][:2]:
        hosts = {urlsplit(r["url"]).hostname for r in state["pages"][0]["requests"]}
        assert hosts <= {"shop.site.test", "consent.site.test"}, hosts
    assert DOCUMENTED_GATEWAY not in (out / "report.json").read_text()
