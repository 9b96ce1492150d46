"""A visitor's choices end to end: what runs in the page, what reaches the vendor, what is kept.

To prove that *nothing* reached the vendor without a fixed sleep, a test sends one last hit the
rules let through anonymously (GA4 without consent) and waits until the vendor has it: the
forwarder had every earlier hit by then, so anything else the vendor holds was sent earlier.
"""

from __future__ import annotations

import time

import httpx
from playwright.async_api import Page, expect

from e2e.browsing import (
    DESKTOP_CHROME,
    own_receipts,
    problems,
    requested,
    runs,
    send_hit,
    site_cookies,
    until,
)
from e2e.conftest import SCREENSHOTS, Visit
from e2e.gateway_server import SECRET, GatewayProcess
from e2e.site import Site
from e2e.vendor_hits import GA4, META, PLAUSIBLE, arrived, params, sent
from gateway.consent.cookie import COOKIE_NAME, ConsentCodec
from gateway.consent.model import Consent
from tests.vendors import Received, StandInVendor

ALL = ["analytics", "marketing", "necessary", "preferences"]


async def last_hit(page: Page, gateway: GatewayProcess, vendor: StandInVendor) -> Received:
    """Send an identifying GA4 hit from the page and wait for what the vendor gets of it."""
    marker = f"last-{time.monotonic_ns()}"
    await send_hit(page, f"{gateway.origin}/t/ga4?v=2&tid=G-E2E&en={marker}&cid=555.1")
    return await arrived(vendor, GA4, en=marker)


async def test_reject_runs_nothing_and_no_hit_reaches_a_vendor(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Reject all").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert (await page.evaluate("consentGateway.get().granted")) == ["necessary"]
    meta = f"{gateway.origin}/t/meta_pixel?id=42&ev=Lead"
    assert (await send_hit(page, meta)).startswith("block;")
    final = await last_hit(page, gateway, vendor)
    assert vendor.received == [final]  # the page's own tags sent nothing at all
    assert "cid" not in params(final)
    assert params(final)["gcs"] == "G100"
    await page.reload()  # the choice is remembered
    await expect(page.get_by_role("button", name="Privacy settings")).to_be_visible()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await page.screenshot(path=SCREENSHOTS / "floating-button.png")
    assert await runs(page) == {"a": None, "m": None, "g": None}
    assert await page.evaluate("document.querySelector('img').getAttribute('src')") is None
    assert len(requested(page, "/t/")) == 2  # only the two hits sent by hand
    assert not site.served
    assert await problems(page) == []


async def test_accept_all_runs_each_tag_once_and_forwards_hits(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    await page.evaluate(  # a tag added later, as a single-page app would
        """() => { const s = document.createElement("script"); s.type = "text/plain";
        s.dataset.consent = "analytics"; s.src = "/tags/late.js"; document.body.append(s); }"""
    )
    await until(page, "window.lateRuns === 1")
    ga4 = params(await arrived(vendor, GA4, en="page_view"))
    assert ga4["cid"] == "555.1"
    assert ga4["tid"] == "G-E2E"
    assert ga4["dl"] == site.www + "/"
    assert ga4["gcs"] == "G111"  # consent mode from the real consent: everything granted
    assert ga4["_uip"] == "127.0.0.0"  # the visitor's IP, truncated to /24
    plausible = await arrived(vendor, PLAUSIBLE, n="pageview", u=site.www + "/")
    assert plausible.headers["x-forwarded-for"] == "127.0.0.0"
    meta = await arrived(vendor, META, ev="PageView")  # the browser followed the redirect
    assert params(meta)["fbp"] == "fb.1.1.1"  # identifiers pass with marketing consent
    await last_hit(page, gateway, vendor)
    assert len(sent(vendor, GA4, en="page_view")) == len(sent(vendor, PLAUSIBLE)) == 1
    assert len(sent(vendor, META)) == 1
    assert sent(vendor, GA4, en="page_view")[0].headers["user-agent"] == DESKTOP_CHROME
    assert await runs(page) == {"a": 1, "m": 1, "g": 1}
    assert site.served == {
        "gtag.js": 1, "analytics.js": 1, "marketing.js": 1, "frame": 1, "late.js": 1
    }  # fmt: skip
    assert (await page.evaluate("window.__changes"))[-1]["granted"] == ALL
    await page.reload()
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert await problems(page) == []


async def test_customise_one_category_and_reload_keeps_it(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Customise").click()
    await page.get_by_role("checkbox", name="Marketing", exact=True).check()
    await page.get_by_role("button", name="Save choices").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await until(page, "window.marketingRuns === 1")
    await arrived(vendor, META, ev="PageView")
    final = await last_hit(page, gateway, vendor)
    assert "cid" not in params(final)
    assert params(final)["gcs"] == "G100"
    assert sent(vendor, GA4, en="page_view") == []
    assert sent(vendor, PLAUSIBLE) == []
    assert (await runs(page))["a"] is None
    await page.reload()
    await until(page, "window.marketingRuns === 1")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert (await runs(page))["a"] is None
    stored = await page.evaluate(
        "(url) => fetch(url, {credentials: 'include'}).then((r) => r.json())",
        f"{gateway.origin}/consent",
    )
    assert stored["consent"]["granted"] == ["marketing", "necessary"]
    await page.get_by_role("link", name="Privacy settings").click()
    await expect(page.get_by_role("checkbox", name="Marketing", exact=True)).to_be_checked()
    await expect(page.get_by_role("checkbox", name="Analytics", exact=True)).not_to_be_checked()
    assert await problems(page) == []


async def test_withdraw_deletes_vendor_cookies_and_stops_identifying_hits(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    assert "cid" in params(await last_hit(page, gateway, vendor))
    await page.evaluate("document.cookie = 'keep=1; Path=/'")
    assert set(await site_cookies(page)) == {COOKIE_NAME, "_ga", "_ga_E2E", "_fbp", "keep"}
    await page.get_by_role("link", name="Privacy settings").click()
    await page.evaluate("window.beforeWithdrawal = true")
    # The page reloads (on by default), so that the tags which already ran stop running.
    async with page.expect_navigation():
        await page.get_by_role("button", name="Withdraw consent").click()
    assert await page.evaluate("window.beforeWithdrawal") is None
    await expect(page.get_by_role("dialog", name="Your privacy choices")).to_be_visible()
    assert set(await site_cookies(page)) == {"keep"}
    assert await page.evaluate("consentGateway.get()") is None
    assert await runs(page) == {"a": None, "m": None, "g": None}
    first = await page.evaluate("window.dataLayer.map((c) => Array.from(c))")
    assert [c[:2] for c in first] == [["consent", "default"]]
    assert first[0][2]["analytics_storage"] == "denied"
    after = params(await last_hit(page, gateway, vendor))
    assert "cid" not in after
    assert after["gcs"] == "G100"
    meta = f"{gateway.origin}/t/meta_pixel?id=42&ev=Lead&fbp=fb.1.1.1"
    assert (await send_hit(page, meta)).startswith("block;")
    assert await problems(page) == []


async def test_revision_bump_asks_again(
    visit: Visit, site: Site, gateway: GatewayProcess, gateway_revision_2: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1")
    consent_id = await page.evaluate("consentGateway.get().id")
    await page.goto(f"{site.www}/?gw={gateway_revision_2.port}")  # the same site, new policy
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name("Your privacy choices")
    assert await page.evaluate("consentGateway.get()") is None
    assert await runs(page) == {"a": None, "m": None, "g": None}
    await dialog.get_by_role("button", name="Reject all").click()
    await expect(dialog).to_be_hidden()
    receipts = await own_receipts(page, gateway_revision_2.origin)  # one Redis, both gateways
    assert [(r["action"], r["policy_revision"]) for r in receipts] == [
        ("accept_all", 1),
        ("reject_all", 2),
    ]
    assert {r["subject_id"] for r in receipts} == {consent_id}  # the same visitor
    assert await problems(page) == []


async def test_gpc_denies_marketing_and_says_so(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/", gpc=True)
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Global Privacy Control")
    await dialog.get_by_role("button", name="Customise").click()
    await expect(page.get_by_role("checkbox", name="Marketing", exact=True)).to_be_disabled()
    await dialog.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1")
    state = await page.evaluate("consentGateway.get()")
    assert state["granted"] == ["analytics", "necessary", "preferences"]
    assert state["gpc"]
    ga4 = params(await arrived(vendor, GA4, en="page_view"))
    assert ga4["cid"] == "555.1"
    assert ga4["gcs"] == "G101"
    assert (await send_hit(page, f"{gateway.origin}/t/meta_pixel?id=42")).startswith("block;")
    await last_hit(page, gateway, vendor)
    assert sent(vendor, META) == []
    assert (await runs(page))["m"] is None
    [receipt] = await own_receipts(page, gateway.origin)
    assert receipt["gpc"] is True
    assert "marketing" in receipt["denied"]
    assert await problems(page) == []


async def test_receipts_in_the_store_match_the_choices(
    visit: Visit, site: Site, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/")
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Reject all").click()
    await page.get_by_role("link", name="Privacy settings").click()
    await page.get_by_role("checkbox", name="Analytics", exact=True).check()
    await dialog.get_by_role("button", name="Save choices").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("link", name="Privacy settings").click()
    await dialog.get_by_role("button", name="Accept all").click()
    await expect(dialog).to_be_hidden()
    consent_id = await page.evaluate("consentGateway.get().id")
    receipts = await own_receipts(page, gateway.origin)
    assert [(r["action"], r["granted"], r["denied"]) for r in receipts] == [
        ("reject_all", ["necessary"], ["analytics", "marketing", "preferences"]),
        ("custom", ["analytics", "necessary"], ["marketing", "preferences"]),
        ("accept_all", ALL, []),
    ]
    for receipt in receipts:
        assert receipt["subject_id"] == consent_id
        assert receipt["subject_kind"] == "visitor"
        assert receipt["policy_revision"] == 1
        assert receipt["policy_url"] == site.www + "/privacy"
        assert receipt["collection_point"] == site.www + "/"
        assert (receipt["language"], receipt["ip"]) == ("en", "127.0.0.0")
        assert (receipt["browser"], receipt["os"], receipt["device"]) == (
            "Chrome", "Linux", "desktop"
        )  # fmt: skip
        assert len(receipt["texts_hash"]) == 64
        assert receipt["gpc"] is False
    async with page.expect_navigation():  # a withdrawal reloads the page
        await page.evaluate("() => { consentGateway.withdraw(); }")
    assert COOKIE_NAME not in await site_cookies(page)
    # The visitor's cookie is gone, but the proof is not: ask with one signed for their id.
    token = ConsentCodec((SECRET,), 180).encode(Consent(consent_id, 1, frozenset(), 0))
    async with httpx.AsyncClient(trust_env=False, cookies={COOKIE_NAME: token}) as client:
        response = await client.get(f"http://127.0.0.1:{gateway.port}/consent/receipts")
    kept = response.json()["receipts"]
    assert [r["action"] for r in kept] == ["reject_all", "custom", "accept_all", "withdraw"]
    assert kept[-1]["granted"] == ["necessary"]  # strictly necessary is never "denied"
    assert kept[-1]["denied"] == ["analytics", "marketing", "preferences"]
    assert await problems(page) == []
