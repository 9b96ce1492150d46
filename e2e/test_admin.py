"""The admin dashboard end to end: log in, make traffic, watch it move, export, erase.

    Chromium (admin) ──▶ consent.site.test:A /admin   (a gateway with an admin token, `--demo`)
    Chromium (visitors) ──▶ /demo on the same gateway: the banner, its tags and pixels
                               └──▶ redis-server (shared with the suite), stand-in vendor

Counters reach the store once a second, so the test reloads the dashboard until the numbers
it expects are there, against a deadline — never a fixed sleep. The store is shared with the
rest of the suite, so numbers are compared before and after, not with absolute values.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from e2e.browsing import DESKTOP, own_receipts, problems
from e2e.conftest import SCREENSHOTS, Visit, _gateway_settings
from e2e.gateway_server import GatewayProcess, running_gateway
from e2e.site import Site
from tests.servers import RedisServer
from tests.vendors import StandInVendor

ADMIN = "e2e-admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def admin_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    vendor_server: StandInVendor,
    site_server: Site,
) -> Iterator[GatewayProcess]:
    settings = _gateway_settings(tmp_path_factory, redis, vendor_server, site_server)
    settings["admin_token_hashes"] = hashlib.sha256(ADMIN.encode()).hexdigest()
    with running_gateway(tmp_path_factory.mktemp("admin-gateway"), settings) as process:
        yield process


async def number(page: Page, tile: str) -> int:
    text = await page.locator(f"#tile-{tile} .value").inner_text()
    return int(text.replace(",", ""))


async def reload_until(page: Page, tile: str, at_least: int, timeout: float = 10.0) -> int:
    """Reload the dashboard until tile `tile` shows `at_least`; its value."""
    deadline = time.monotonic() + timeout
    while (value := await number(page, tile)) < at_least:
        if time.monotonic() > deadline:
            raise AssertionError(f"tile {tile} stayed at {value}, expected {at_least}")
        await asyncio.sleep(0.2)
        await page.reload()
    return value


async def choose_on_demo(visit: Visit, gateway: GatewayProcess, button: str) -> str:
    """A new visitor on the demo page answers the banner; their subject id."""
    visitor = await visit(gateway.origin + "/demo", **DESKTOP)
    await visitor.get_by_role("dialog").get_by_role("button", name=button).click()
    await expect(visitor.locator("#consent-status")).to_have_text("Choice saved")
    await visitor.get_by_role("button", name="Send a test analytics hit").click()
    await expect(visitor.locator("#decision")).to_have_attribute("data-outcome", re.compile(r"\w+"))
    [receipt] = await own_receipts(visitor, gateway.origin)
    assert await problems(visitor) == []
    return str(receipt["subject_id"])


async def test_log_in_see_traffic_export_and_erase_a_subject(
    visit: Visit, admin_gateway: GatewayProcess, tmp_path: Path
) -> None:
    page = await visit(admin_gateway.origin + "/admin", **DESKTOP)
    await expect(page).to_have_url(admin_gateway.origin + "/admin/login")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Admin login")
    await page.get_by_label("Admin token").fill("not-the-token")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("That token is not an admin token.")
    await page.get_by_label("Admin token").fill(ADMIN)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(admin_gateway.origin + "/admin")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    choices, hits = await number(page, "choices"), await number(page, "hits")

    accepted = await choose_on_demo(visit, admin_gateway, "Accept all")
    rejected = await choose_on_demo(visit, admin_gateway, "Reject all")
    await page.reload()
    assert await reload_until(page, "choices", choices + 2) == choices + 2
    assert await reload_until(page, "hits", hits + 2) >= hits + 2  # + the demo's own page views
    chart = page.get_by_role("img", name="Consent choices per day")
    await expect(chart).to_be_visible()
    await expect(chart.locator("rect title").filter(has_text="Reject all")).not_to_have_count(0)
    await expect(page.get_by_role("img", name="Hit decisions per vendor")).to_be_visible()
    receipts = page.get_by_role("table", name="most recent receipts")
    await expect(receipts.get_by_role("button", name=accepted)).to_be_visible()
    await expect(receipts.get_by_role("row").nth(1)).to_contain_text(rejected)  # newest first
    await page.screenshot(path=SCREENSHOTS / "admin-dashboard.png", full_page=True)
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=SCREENSHOTS / "admin-dashboard-dark.png", full_page=True)
    await page.emulate_media(color_scheme="light")

    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="Download receipts CSV").click()
    saved = tmp_path / "receipts.csv"
    await (await csv_download.value).save_as(saved)
    with saved.open(newline="") as file:
        exported = {row["subject_id"]: row for row in csv.DictReader(file)}
    assert exported[accepted]["action"] == "accept_all"
    assert exported[rejected]["action"] == "reject_all"

    await page.get_by_role("searchbox", name="Subject").fill(accepted)
    await page.get_by_role("button", name="Look up").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Subject {accepted}")
    await expect(page.locator("#subject-status")).to_contain_text("1 receipt and the records")
    async with page.expect_download() as json_download:
        await page.get_by_role("button", name="Export JSON").click()
    document = json.loads(Path(await (await json_download.value).path()).read_text())
    assert document["subject_id"] == accepted
    assert [r["action"] for r in document["receipts"]] == ["accept_all"]

    await page.get_by_role("button", name="Erase…").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Erase this subject?")
    await page.get_by_role("button", name="Erase permanently").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Subject erased")
    await page.get_by_role("button", name="Look it up again").click()
    await expect(page.locator("#subject-status")).to_contain_text(
        "Nothing is held about this subject."
    )
    await page.get_by_role("link", name="← Dashboard").click()
    await expect(receipts.get_by_role("button", name=rejected)).to_be_visible()
    await expect(receipts.get_by_role("button", name=accepted)).to_have_count(0)
    wrong_token = (
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    )
    assert await problems(page) == [wrong_token]  # the one wrong login; no CSP violation

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url(admin_gateway.origin + "/admin/login")
    await page.goto(admin_gateway.origin + "/admin")
    await expect(page).to_have_url(admin_gateway.origin + "/admin/login")
