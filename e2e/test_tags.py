"""What tags see: Google Consent Mode commands in the right order, and bots blocked at the gateway."""

from __future__ import annotations

from playwright.async_api import expect

from e2e.browsing import problems, send_hit, until
from e2e.conftest import Visit
from e2e.gateway_server import GatewayProcess
from e2e.site import Site
from e2e.vendor_hits import GA4, arrived
from tests.vendors import StandInVendor


async def test_consent_mode_default_before_any_tag_and_update_after_the_choice(
    visit: Visit, site: Site
) -> None:
    page = await visit(site.www + "/")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    first = await page.evaluate("window.dataLayerAtFirstScript")
    assert [command[:2] for command in first] == [["consent", "default"]]
    assert await page.evaluate("window.dataLayer.length") == 1  # no update without a choice
    await dialog.get_by_role("button", name="Customise").click()
    await page.get_by_role("checkbox", name="Analytics", exact=True).check()
    await dialog.get_by_role("button", name="Save choices").click()
    await until(page, "window.gtagRuns === 1")
    seen = await page.evaluate("window.gtagSeen")  # what the gtag stand-in read, in order
    assert [command[:2] for command in seen] == [
        ["consent", "default"],
        ["consent", "update"],
        ["config", "G-E2E"],
    ]
    default, update = seen[0][2], seen[1][2]
    assert default["analytics_storage"] == default["ad_storage"] == "denied"
    assert update["analytics_storage"] == "granted"
    assert update["ad_storage"] == "denied"
    await page.get_by_role("link", name="Privacy settings").click()
    await dialog.get_by_role("button", name="Accept all").click()
    await until(page, "window.gtagSeen.length === 4")
    later = (await page.evaluate("window.gtagSeen"))[3]
    assert later[:2] == ["consent", "update"]
    assert later[2]["ad_user_data"] == "granted"
    assert await page.evaluate("window.gtagRuns") == 1
    await page.reload()  # a returning visitor: the update is there before any tag runs
    await until(page, "window.gtagRuns === 1")
    first = await page.evaluate("window.dataLayerAtFirstScript")
    assert [command[1] for command in first] == ["default", "update"]
    assert first[1][2]["ad_storage"] == "granted"
    assert await problems(page) == []


async def test_a_headless_browser_counts_as_a_bot_and_reaches_no_vendor(
    visit: Visit, site: Site, vendor: StandInVendor, gateway: GatewayProcess
) -> None:
    bot = await visit(site.www + "/", user_agent=None)  # Chromium's own "HeadlessChrome"
    await bot.get_by_role("button", name="Accept all").click()
    await until(bot, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    hit = f"{gateway.origin}/t/ga4?v=2&tid=G-E2E&en=by_bot&cid=555.1"
    assert await send_hit(bot, hit) == "block; reason=bot"
    person = await visit(site.www + "/")
    await send_hit(person, f"{gateway.origin}/t/ga4?v=2&tid=G-E2E&en=by_person")
    final = await arrived(vendor, GA4, en="by_person")
    assert vendor.received == [final]  # not the bot's page view, plausible event or pixel
    assert await problems(bot) == []
