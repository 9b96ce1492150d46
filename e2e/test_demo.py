"""The demo site (`serve --demo`, what `make run` starts), on the gateway's own origin."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from e2e.browsing import MOBILE, STILL, own_receipts, problems, until
from e2e.conftest import SCREENSHOTS, Visit
from e2e.gateway_server import GatewayProcess
from e2e.vendor_hits import GA4, PLAUSIBLE, arrived, sent
from tests.vendors import StandInVendor

# The shipped marketing vendors these visitors refuse (all but YouTube), as the banner sorts them.
OTHER_MARKETING = [
    "linkedin_insight", "meta_pixel", "vimeo", "vk_ads", "vk_retargeting", "yandex_webvisor",
]  # fmt: skip


async def test_demo_page_accept_runs_its_tags(
    visit: Visit, gateway: GatewayProcess, vendor: StandInVendor
) -> None:
    page = await visit(gateway.origin + "/demo", **STILL)
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name("Your privacy choices")
    await expect(page.locator("#consent-status")).to_have_text(
        "No choice yet — the banner is waiting for you."
    )
    await expect(page.locator(".tags .status")).to_have_text(["Blocked"] * 4)
    await page.screenshot(path=SCREENSHOTS / "demo-banner.png")
    await dialog.get_by_role("button", name="Accept all").click()
    await until(page, "window.demoTags?.analytics === 1 && window.demoTags?.marketing === 1")
    await expect(page.locator("#consent-status")).to_have_text("Choice saved")
    await expect(page.locator("#consent-allowed")).to_have_text(
        "Strictly necessary, Preferences, Analytics, Marketing"
    )
    await expect(page.locator(".tags .status")).to_have_text(["Ran", "Ran", "Loaded", "Loaded"])
    await expect(page.locator("#offer")).to_be_visible()
    video = page.frame_locator("#video").get_by_text("Product tour — 2:41")
    await expect(video).to_be_visible()
    page_url = gateway.origin + "/demo"
    await arrived(vendor, GA4, en="page_view", tid="G-XXXXXXXXXX", dl=page_url)
    await arrived(vendor, PLAUSIBLE, n="pageview", u=page_url)
    await page.get_by_role("button", name="Send a test analytics hit").click()
    await expect(page.locator("#decision")).to_have_attribute("data-outcome", "forward")
    await page.get_by_role("button", name="Send a test marketing hit").click()
    await expect(page.locator("#decision")).to_have_attribute("data-outcome", "redirect")
    [receipt] = await own_receipts(page, gateway.origin)
    assert receipt["action"] == "accept_all"
    assert receipt["collection_point"] == page_url
    await page.screenshot(path=SCREENSHOTS / "demo-accepted.png", full_page=True)
    assert await problems(page) == []


async def test_demo_page_in_russian_dark_on_a_phone(
    visit: Visit, gateway: GatewayProcess, vendor: StandInVendor
) -> None:
    page = await visit(
        gateway.origin + "/demo?lang=ru", **MOBILE, color_scheme="dark", reduced_motion="reduce"
    )
    assert await page.evaluate("document.documentElement.lang") == "ru"
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name("Ваша конфиденциальность")
    await page.screenshot(path=SCREENSHOTS / "demo-mobile-ru-dark.png")
    await dialog.get_by_role("button", name="Отклонить все").click()
    await expect(page.locator("#consent-status")).to_have_text("Выбор сохранён")
    await page.get_by_role("button", name="Отправить тестовое событие аналитики").click()
    await expect(page.locator("#decision")).to_have_attribute("data-outcome", "anonymous")
    await arrived(vendor, GA4, en="demo_button")
    assert sent(vendor, GA4, en="page_view") == []
    assert sent(vendor, PLAUSIBLE) == []
    assert await page.evaluate("window.demoTags") is None
    await page.get_by_role("button", name="Отправить тестовое маркетинговое событие").click()
    await expect(page.locator("#decision")).to_have_attribute("data-outcome", "block")
    # The YouTube embed's own placeholder: allow YouTube only, not all of marketing.
    youtube = page.frame_locator("#video")
    await youtube.get_by_role("button", name="Всегда разрешать YouTube").click()
    await expect(youtube.get_by_text("Обзор продукта — 2:41")).to_be_visible()
    state = await page.evaluate("consentGateway.get()")
    assert state["granted"] == ["marketing", "necessary"]
    assert state["refused_vendors"] == OTHER_MARKETING
    assert await page.evaluate("window.demoTags") is None  # an untagged marketing script waits
    await expect(
        page.frame_locator("#vimeo").get_by_role("button", name="Загрузить один раз")
    ).to_be_visible()
    await expect(page.locator("#recaptcha")).to_contain_text("Этот сайт защищён reCAPTCHA")
    await page.screenshot(path=SCREENSHOTS / "demo-mobile-ru-dark-video.png", full_page=True)
    assert await problems(page) == []


async def test_demo_page_headers_and_wrong_host_notice(gateway: GatewayProcess) -> None:
    origin = f"http://127.0.0.1:{gateway.port}"
    async with httpx.AsyncClient(base_url=origin, trust_env=False) as client:
        public = await client.get("/demo", headers={"Host": f"consent.site.test:{gateway.port}"})
        elsewhere = await client.get("/demo")
    csp = public.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe" not in csp
    assert public.text.index('<script src="/consent.js">') < public.text.index("<meta")
    assert 'role="alert"' not in public.text
    assert 'role="alert"' in elsewhere.text  # the banner could not reach its API from here
    assert f"{gateway.origin}/demo" in elsewhere.text
