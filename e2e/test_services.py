"""Banner v2 in Chromium: per-service choices end to end, embeds behind placeholders, the
disclosed reCAPTCHA with its notice, and the reload that makes a withdrawal take effect.

Pages keep the strict CSP of `e2e.site` (no inline code, styles or scripts only from the site and
the gateway); every test ends by asserting no CSP violation, page error or console error.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from e2e.browsing import MOBILE, STILL, own_receipts, problems, runs, send_hit, until
from e2e.conftest import SCREENSHOTS, Visit, _gateway_settings
from e2e.gateway_server import GatewayProcess, running_gateway
from e2e.site import Site
from gateway.consent.cookie import COOKIE_NAME
from tests.servers import RedisServer
from tests.vendors import StandInVendor

NOTICE_EN = (
    "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply."
)

# The shipped marketing vendors these visitors refuse (all but YouTube), as the banner sorts them.
OTHER_MARKETING = [
    "linkedin_insight", "meta_pixel", "vimeo", "vk_ads", "vk_retargeting", "yandex_webvisor",
]  # fmt: skip


async def cookie_payload(page: Page) -> dict[str, Any]:
    """The consent cookie's payload, as the banner reads it (unverified)."""
    [token] = [c["value"] for c in await page.context.cookies() if c["name"] == COOKIE_NAME]
    part = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


async def test_per_service_choice_from_banner_to_cookie_decision_and_receipt(
    visit: Visit, site: Site, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/", **STILL)
    dialog = page.get_by_role("dialog")
    await dialog.get_by_role("button", name="Customise").click()
    analytics = dialog.get_by_role("checkbox", name="Analytics", exact=True)
    ga4 = dialog.get_by_role("checkbox", name="Google Analytics 4")
    matomo = dialog.get_by_role("checkbox", name="Matomo")
    await analytics.check()  # the category switch sets all its vendors
    await dialog.get_by_text("Providers (4)").click()  # GA4, Matomo, Plausible, Metrica
    await expect(ga4).to_be_checked()
    await expect(matomo).to_be_checked()
    await ga4.uncheck()  # one vendor off: the category is mixed, and says so
    await expect(analytics).to_be_checked(indeterminate=True)
    assert 'checkbox "Analytics" [checked=mixed]' in await dialog.aria_snapshot()
    # reCAPTCHA: disclosed under strictly necessary, with its cookie and links, no switch.
    await dialog.get_by_text("Providers (1)").first.click()
    necessary = dialog.locator(".cg-r").first
    await expect(necessary).to_contain_text("Google reCAPTCHA")
    await expect(necessary).to_contain_text("Cookies: _GRECAPTCHA")
    terms = necessary.get_by_role("link", name="Terms")
    await expect(terms).to_have_attribute("href", "https://policies.google.com/terms")
    await expect(necessary.get_by_role("checkbox")).to_have_count(1)  # the category's only
    await page.screenshot(path=SCREENSHOTS / "preferences-services.png")
    await dialog.get_by_role("button", name="Save choices").click()
    await expect(dialog).to_be_hidden()

    # The cookie carries the refusal; the JS API, Consent Mode and /t all honour it.
    payload = await cookie_payload(page)
    assert payload["g"] == ["analytics", "necessary"]
    assert payload["v"] == ["ga4"]
    assert await page.evaluate("consentGateway.allowed('ga4')") is False
    assert await page.evaluate("consentGateway.allowed('matomo')") is True
    # A tag that names only its category could be GA4's: it waits (fails closed).
    assert await page.evaluate("consentGateway.allowed('analytics')") is False
    assert await runs(page) == {"a": None, "m": None, "g": None}
    update = await page.evaluate("Array.from(window.dataLayer.at(-1))")
    assert update[:2] == ["consent", "update"]
    assert update[2]["analytics_storage"] == "denied"
    ga4_hit = f"{gateway.origin}/t/ga4?v=2&tid=G-E2E&en=services&cid=555.1"
    assert await send_hit(page, ga4_hit) == "anonymous; reason=vendor_refused"
    plausible = f"{gateway.origin}/t/plausible?n=pageview&u={site.www}/&d=www.site.test"
    assert await send_hit(page, plausible) == "forward; reason=consented"
    [receipt] = await own_receipts(page, gateway.origin)
    assert receipt["action"] == "custom"
    assert receipt["granted"] == ["analytics", "necessary"]
    assert receipt["refused_vendors"] == ["ga4"]

    # Back in the preferences: the state is shown as saved; the category switch lifts it.
    await page.evaluate("window.stayed = true")
    await page.get_by_role("link", name="Privacy settings").click()
    await expect(analytics).to_be_checked(indeterminate=True)
    await expect(ga4).not_to_be_checked()
    await analytics.click()
    await expect(ga4).to_be_checked()
    await expect(analytics).to_be_checked(indeterminate=False)
    await dialog.get_by_role("button", name="Save choices").click()
    await until(page, "window.analyticsRuns === 1")
    assert await page.evaluate("window.stayed") is True  # a broader choice: no reload
    assert "v" not in await cookie_payload(page)
    assert await send_hit(page, ga4_hit) == "forward; reason=consented"
    assert await problems(page) == []


async def test_a_narrower_choice_reloads_the_page_and_clears_vendor_cookies(
    visit: Visit, site: Site
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    await until(page, "document.cookie.includes('_fbp=')")
    await page.evaluate("window.beforeNarrowing = true")
    await page.get_by_role("link", name="Privacy settings").click()
    await page.get_by_role("checkbox", name="Marketing", exact=True).uncheck()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save choices").click()
    assert await page.evaluate("window.beforeNarrowing") is None
    await until(page, "window.analyticsRuns === 1")
    assert (await runs(page))["m"] is None  # the marketing tag no longer runs
    assert "_fbp=" not in await page.evaluate("document.cookie")
    assert await page.evaluate("consentGateway.get().granted") == [
        "analytics",
        "necessary",
        "preferences",
    ]
    assert await problems(page) == []


async def frame_box(page: Page, selector: str) -> tuple[float, float, float, float]:
    """Where an element sits in the document (not the viewport, which scrolls)."""
    box = await page.locator(selector).bounding_box()
    assert box is not None
    scroll_y = await page.evaluate("window.scrollY")
    return (box["x"], box["y"] + scroll_y, box["width"], box["height"])


async def test_embeds_wait_behind_placeholders_that_keep_their_size(
    visit: Visit, site: Site, gateway: GatewayProcess
) -> None:
    page = await visit(site.www + "/embeds", **STILL)
    await page.get_by_role("button", name="Reject all").click()
    youtube = page.frame_locator("iframe[data-vendor=youtube]")
    vimeo = page.frame_locator("iframe[data-vendor=vimeo]")
    await expect(youtube.get_by_role("group", name="YouTube")).to_contain_text(
        "Loading it sends your IP address and browser details to YouTube."
    )
    await expect(youtube.get_by_role("button", name="Always allow YouTube")).to_be_visible()
    map_box = page.get_by_role("group", name="OpenStreetMap")  # a <div> embed: in the page
    await expect(map_box.get_by_role("button", name="Load once")).to_be_visible()
    await expect(page.locator("[data-consent-notice]")).to_have_text(NOTICE_EN)
    policy = page.locator("[data-consent-notice]").get_by_role("link", name="Privacy Policy")
    await expect(policy).to_have_attribute("href", "https://policies.google.com/privacy")
    assert await page.evaluate("consentGateway.notice('recaptcha')") == NOTICE_EN
    await page.mouse.move(0, 0)
    await page.screenshot(path=SCREENSHOTS / "embeds-desktop.png", full_page=True)
    sizes = [await frame_box(page, s) for s in ("iframe[data-vendor=youtube]", ".map")]
    assert site.served["youtube"] == site.served["vimeo"] == site.served["map"] == 0

    await vimeo.get_by_role("button", name="Load once").click()
    await expect(vimeo.get_by_text("Vimeo player")).to_be_visible()
    assert site.served["youtube"] == 0
    assert await page.evaluate("consentGateway.allowed('vimeo')") is False  # only this once

    await youtube.get_by_role("button", name="Always allow YouTube").click()
    await expect(youtube.get_by_text("YouTube player")).to_be_visible()
    await until(page, "window.lateRuns === 1")  # a script tagged data-vendor="youtube"
    assert (await runs(page))["m"] is None  # an untagged marketing script still waits
    state = await page.evaluate("consentGateway.get()")
    assert state["granted"] == ["marketing", "necessary"]
    assert state["refused_vendors"] == OTHER_MARKETING
    receipts = await own_receipts(page, gateway.origin)
    assert receipts[-1]["refused_vendors"] == OTHER_MARKETING

    await map_box.get_by_role("button", name="Always allow OpenStreetMap").click()
    await expect(page.frame_locator(".map iframe").get_by_text("Map tiles")).to_be_visible()
    await expect(page.locator(".map iframe")).to_have_attribute("title", "Map")
    after = [await frame_box(page, s) for s in ("iframe[data-vendor=youtube]", ".map")]
    assert after == sizes  # nothing moved: the placeholders had the embeds' size
    assert await page.evaluate("window.__cls") == 0
    await page.reload()  # "Load once" was for that page only; "Always allow" stays
    await expect(vimeo.get_by_role("button", name="Load once")).to_be_visible()
    await expect(youtube.get_by_text("YouTube player")).to_be_visible()
    assert await problems(page) == []


async def test_embeds_in_russian_dark_on_a_phone(visit: Visit, site: Site) -> None:
    page = await visit(
        site.www + "/ru/embeds", **MOBILE, color_scheme="dark", reduced_motion="reduce"
    )
    await page.get_by_role("button", name="Отклонить все").click()
    youtube = page.frame_locator("iframe[data-vendor=youtube]")
    await expect(youtube.get_by_role("button", name="Загрузить один раз")).to_be_visible()
    await expect(youtube.get_by_role("button", name="Всегда разрешать YouTube")).to_be_visible()
    notice = page.locator("[data-consent-notice]")
    await expect(notice).to_contain_text("Этот сайт защищён reCAPTCHA")
    await expect(notice.get_by_role("link", name="Условия использования")).to_have_attribute(
        "href", "https://policies.google.com/terms"
    )
    await page.screenshot(path=SCREENSHOTS / "embeds-mobile-ru-dark.png", full_page=True)
    assert await page.evaluate("window.__cls") == 0
    assert await problems(page) == []


async def test_withdrawal_clears_vendor_cookies_even_when_the_gateway_is_unreachable(
    visit: Visit, site: Site
) -> None:
    page = await visit(site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "document.cookie.includes('_fbp=') && document.cookie.includes('_ga=')")
    await page.get_by_role("link", name="Privacy settings").click()
    await expect(page.get_by_role("button", name="Withdraw consent")).to_be_visible()

    # The connection drops on the withdrawal itself (a network fault, not a stand-in answer):
    # the vendor cookies the preferences layer listed still go, and the tags stop.
    async def drop(route: Any) -> None:
        await (route.abort() if route.request.method == "DELETE" else route.continue_())

    await page.route("**/consent", drop)
    async with page.expect_navigation():  # it still takes effect: cookies go, the page reloads
        await page.evaluate("() => { consentGateway.withdraw().catch(() => {}); }")
    cookies = await page.evaluate("document.cookie")
    assert [name for name in ("_fbp=", "_ga=", "cg_consent=") if name in cookies] == []
    await expect(page.get_by_role("dialog", name="Your privacy choices")).to_be_visible()
    assert await page.evaluate("consentGateway.get()") is None
    assert await runs(page) == {"a": None, "m": None, "g": None}
    # Only the dropped request itself is reported.
    assert await problems(page) == ["Failed to load resource: net::ERR_FAILED"]


@pytest.fixture(scope="module")
def gateway_without_reload(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    vendor_server: StandInVendor,
    site_server: Site,
    gateway: GatewayProcess,
) -> Iterator[GatewayProcess]:
    """A gateway whose banner does not reload the page (`GATEWAY_BANNER_RELOAD=false`)."""
    settings = _gateway_settings(tmp_path_factory, redis, vendor_server, site_server)
    settings["banner_reload"] = "false"
    with running_gateway(tmp_path_factory.mktemp("no-reload"), settings) as process:
        yield process


async def test_without_reload_a_withdrawal_says_so_and_ran_tags_stay(
    visit: Visit, site: Site, gateway_without_reload: GatewayProcess
) -> None:
    page = await visit(f"{site.www}/?gw={gateway_without_reload.port}")
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1 && document.cookie.includes('_ga=')")
    await page.evaluate("window.stayed = true")
    await page.get_by_role("link", name="Privacy settings").click()
    await page.get_by_role("button", name="Withdraw consent").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Consent withdrawn")
    assert await page.evaluate("window.stayed") is True  # no reload...
    assert await page.evaluate("window.analyticsRuns") == 1  # ...so what ran, ran
    assert "_ga=" not in await page.evaluate("document.cookie")
    assert await page.evaluate("consentGateway.get()") is None
    assert await problems(page) == []
