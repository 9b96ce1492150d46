"""The banner as a visitor meets it: first layer, keyboard, viewports, languages, dark scheme.

Every page here has a strict CSP (scripts and styles only from the site and the gateway, no
inline code); every test ends by asserting that it saw no CSP violation and no page error.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from e2e.browsing import MOBILE, STILL, own_receipts, problems, requested, runs, until
from e2e.conftest import SCREENSHOTS, Visit
from e2e.site import Site
from tests.vendors import StandInVendor

DESCRIPTION = (
    "We use cookies and similar technologies, such as pixels, that this site needs to work."
    " With your consent, we also use them to remember your settings, measure how the site"
    " is used and for marketing. You can change or withdraw consent at any time."
    " Privacy policy"
)


async def test_first_visit_shows_the_banner_and_nothing_runs(
    visit: Visit, site: Site, vendor: StandInVendor
) -> None:
    page = await visit(site.www + "/", **STILL)
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name("Your privacy choices")
    assert await dialog.evaluate("(e) => getComputedStyle(e).animationName") == "none"
    await expect(dialog).to_have_attribute("aria-modal", "true")
    await expect(dialog).to_have_accessible_description(DESCRIPTION)
    await expect(dialog).to_be_focused()
    boxes = [
        await dialog.get_by_role("button", name=n).bounding_box()
        for n in ("Accept all", "Reject all", "Customise")
    ]
    assert all(b is not None for b in boxes)
    assert len({(round(b["width"]), round(b["height"])) for b in boxes if b}) == 1
    first = await page.evaluate("Array.from(window.dataLayer[0])")
    assert first[:2] == ["consent", "default"]
    assert first[2]["security_storage"] == "granted"
    assert {v for k, v in first[2].items() if k != "security_storage"} == {"denied"}
    assert len(first[2]) == 7
    await page.screenshot(path=SCREENSHOTS / "banner-desktop.png")
    await dialog.get_by_role("button", name="Customise").click()
    await expect(dialog).to_have_accessible_name("Privacy preferences")
    for category in ("Preferences", "Analytics", "Marketing"):  # nothing pre-ticked
        await expect(page.get_by_role("checkbox", name=category, exact=True)).not_to_be_checked()
    await expect(
        page.get_by_role("checkbox", name="Strictly necessary", exact=True)
    ).to_be_disabled()
    providers = page.get_by_text("Providers (4)")  # GA4, Matomo, Plausible, Metrica: tag_rules/
    await providers.click()
    await expect(dialog.get_by_role("checkbox", name="Google Analytics 4")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "preferences-desktop.png")
    assert await runs(page) == {"a": None, "m": None, "g": None}
    assert requested(page, "/t/") == []
    assert requested(page, "/tags/") == []
    assert not site.served
    assert not vendor.received
    assert await page.evaluate("window.__cls") == 0
    assert await problems(page) == []


async def test_whole_flow_by_keyboard_only(visit: Visit, site: Site) -> None:
    page = await visit(site.www + "/")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_focused()
    assert await dialog.evaluate("(e) => getComputedStyle(e).animationName") == "cg-in"
    order = []
    for _ in range(5):  # the link, the three buttons, then back to the first: trapped
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.textContent"))
    assert order == ["Privacy policy", "Accept all", "Reject all", "Customise", "Privacy policy"]
    await page.keyboard.press("Shift+Tab")
    await expect(dialog.get_by_role("button", name="Customise")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(dialog).to_have_accessible_name("Privacy preferences")
    analytics = page.get_by_role("checkbox", name="Analytics", exact=True)
    await _tab_to(page, analytics)
    await page.keyboard.press("Space")
    await expect(analytics).to_be_checked()
    save = dialog.get_by_role("button", name="Save choices")
    await _tab_to(page, save)
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await until(page, "window.analyticsRuns === 1")
    assert (await runs(page))["m"] is None
    fab = page.get_by_role("button", name="Privacy settings")
    await expect(fab).to_be_focused()  # focus came back to the way back in
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(analytics).to_be_checked()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(fab).to_be_focused()
    await page.keyboard.press("Enter")  # and withdraw, still by keyboard
    await _tab_to(page, dialog.get_by_role("button", name="Withdraw consent"))
    async with page.expect_navigation():  # a withdrawal reloads the page
        await page.keyboard.press("Enter")
    await expect(dialog).to_have_accessible_name("Your privacy choices")
    await expect(dialog).to_be_focused()
    assert await page.evaluate("consentGateway.get()") is None
    assert await problems(page) == []


async def _tab_to(page: Any, target: Any, presses: int = 15) -> None:
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await target.evaluate("(e) => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param("desktop", STILL, id="desktop"),
        pytest.param("mobile", {**MOBILE, "reduced_motion": "reduce"}, id="mobile"),
    ],
)
async def test_banner_fits_the_viewport(
    visit: Visit, site: Site, name: str, options: dict[str, Any]
) -> None:
    page = await visit(site.www + "/", **options)
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    await expect(dialog).to_be_visible()
    viewport = page.viewport_size
    box = await dialog.bounding_box()
    assert viewport is not None
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert box["y"] + box["height"] <= viewport["height"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    buttons = []
    for label in ("Accept all", "Reject all", "Customise"):
        button = await dialog.get_by_role("button", name=label).bounding_box()
        assert button is not None
        assert button["height"] >= 44  # a comfortable touch target
        buttons.append(button)
    if name == "desktop":  # one row of equals
        assert len({round(b["y"]) for b in buttons}) == 1
    else:  # stacked, full width
        assert len({round(b["x"]) for b in buttons}) == 1
        assert buttons[0]["y"] < buttons[1]["y"] < buttons[2]["y"]
        assert all(b["width"] > box["width"] * 0.8 for b in buttons)
    await page.screenshot(path=SCREENSHOTS / f"banner-{name}.png")
    accept = dialog.get_by_role("button", name="Accept all")
    await (accept.tap() if name == "mobile" else accept.click())
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    assert await problems(page) == []


async def test_russian_page(visit: Visit, site: Site, gateway: Any) -> None:
    page = await visit(site.www + "/ru", **MOBILE, reduced_motion="reduce")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_have_accessible_name("Ваша конфиденциальность")
    await expect(dialog).to_contain_text("Политика конфиденциальности")
    await page.screenshot(path=SCREENSHOTS / "banner-mobile-ru.png")
    await dialog.get_by_role("button", name="Настроить").click()
    await expect(dialog).to_have_accessible_name("Настройки конфиденциальности")
    analytics = page.get_by_role("checkbox", name="Аналитика", exact=True)
    await expect(analytics).not_to_be_checked()
    # Per-service switches, in Russian, on a phone: one provider off leaves the category mixed.
    await analytics.check()
    await dialog.get_by_text("Сервисы (4)").click()  # GA4, Matomo, Plausible, Metrica
    await dialog.get_by_role("checkbox", name="Matomo").uncheck()
    await expect(analytics).to_be_checked(indeterminate=True)
    await dialog.get_by_role("checkbox", name="Plausible").scroll_into_view_if_needed()
    await page.screenshot(path=SCREENSHOTS / "preferences-mobile-ru.png")
    await dialog.get_by_role("button", name="Отклонить все").click()
    await expect(dialog).to_be_hidden()
    [receipt] = await own_receipts(page, gateway.origin)
    assert receipt["action"] == "reject_all"
    assert receipt["language"] == "ru"
    assert receipt["collection_point"] == site.www + "/ru"
    assert await problems(page) == []


async def test_dark_scheme(visit: Visit, site: Site) -> None:
    page = await visit(site.www + "/", color_scheme="dark", **STILL)
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    background = await dialog.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert background == "rgb(28, 31, 36)"
    await page.screenshot(path=SCREENSHOTS / "banner-dark.png")
    await dialog.get_by_role("button", name="Customise").click()
    await page.mouse.move(0, 0)  # no hover on the button that took the click
    await page.screenshot(path=SCREENSHOTS / "preferences-dark.png")
    assert await page.evaluate("consentGateway.get()") is None
    assert await problems(page) == []
