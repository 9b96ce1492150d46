"""The banner's life around a choice: what a withdrawal leaves said and deleted, the events a
site can count, and the one console error an operator needs when the gateway refuses the page.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from e2e.browsing import STILL, problems, requested, until
from e2e.conftest import Visit
from e2e.site import Site

WITHDRAWN = "Consent withdrawn; the related cookies were deleted."
EVENTS = """
window.__shown = [];
document.addEventListener("consent:show", (e) => window.__shown.push(["show", e.detail]));
document.addEventListener("consent:hide", (e) => window.__shown.push(["hide", e.detail]));
"""


async def test_the_withdrawn_message_survives_the_reload_once(visit: Visit, site: Site) -> None:
    page = await visit(site.www + "/", **STILL)
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "document.cookie.includes('_ga=')")
    await page.get_by_role("link", name="Privacy settings").click()
    async with page.expect_navigation():  # the withdrawal reloads the page...
        await page.get_by_role("button", name="Withdraw consent").click()
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    await expect(dialog.get_by_role("status")).to_have_text(WITHDRAWN)  # ...and still says so
    await expect(dialog).to_be_focused()
    await page.reload()  # once: the next page view is a plain first visit
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("status")).to_have_text("")
    assert await problems(page) == []


async def test_withdrawal_clears_vendor_cookies_when_it_fails_before_the_details_came(
    visit: Visit, site: Site
) -> None:
    """DELETE /consent fails and the banner never had the details (which name the vendors'
    cookies): it fetches them then, and the vendor cookies still go."""
    page = await visit(site.www + "/")

    async def no_details(route: Any) -> None:
        await route.abort()

    await page.route("**/consent/details*", no_details)
    await page.reload()  # this page view gets no details
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "document.cookie.includes('_fbp=') && document.cookie.includes('_ga=')")
    assert await page.evaluate("consentGateway.notice('recaptcha').then(() => 1, () => 0)") == 0
    await page.unroute("**/consent/details*")

    async def drop(route: Any) -> None:
        await (route.abort() if route.request.method == "DELETE" else route.continue_())

    await page.route("**/consent", drop)
    async with page.expect_navigation():
        await page.evaluate("() => { consentGateway.withdraw().catch(() => {}); }")
    cookies = await page.evaluate("document.cookie")
    assert [name for name in ("_fbp=", "_ga=", "cg_consent=") if name in cookies] == []
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    await expect(dialog.get_by_role("status")).to_have_text(
        "Your choice could not be saved. Please try again."
    )
    assert await page.evaluate("consentGateway.get()") is None
    # The aborted requests themselves: the details (before the choice, by the frame's
    # placeholder, then by notice()) and the withdrawal.
    assert set(await problems(page)) == {"Failed to load resource: net::ERR_FAILED"}


async def test_show_and_hide_events(visit: Visit, site: Site) -> None:
    page = await visit(site.www + "/", **STILL)
    await page.add_init_script(EVENTS)
    await page.reload()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await until(page, "window.__shown.length === 1")
    assert await page.evaluate("window.__shown") == [["show", {"layer": "first"}]]
    await dialog.get_by_role("button", name="Customise").click()  # the same dialog, no event
    await dialog.get_by_role("button", name="Reject all").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("link", name="Privacy settings").click()
    await expect(dialog).to_have_accessible_name("Privacy preferences")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("window.__shown") == [
        ["show", {"layer": "first"}],
        ["hide", None],
        ["show", {"layer": "preferences"}],
        ["hide", None],
    ]
    assert await problems(page) == []


async def test_a_refused_origin_gets_one_console_error_naming_the_setting(
    visit: Visit, site: Site
) -> None:
    """A page on an origin GATEWAY_ALLOWED_ORIGINS does not list: the browser refuses every
    answer (CORS); the banner says once which setting to change, for which origin."""
    origin = site.www.replace("//www.", "//shop.")
    page = await visit(origin + "/", **STILL)
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()  # the first layer still shows
    await dialog.get_by_role("button", name="Accept all").click()  # a POST: preflight refused
    await expect(dialog.get_by_role("status")).to_have_text(
        "Your choice could not be saved. Please try again."
    )
    ours = [p for p in await problems(page) if "GATEWAY_ALLOWED_ORIGINS" in p]
    for _ in range(50):  # the diagnosis is two requests after the failure
        if ours:
            break
        await page.wait_for_timeout(20)
        ours = [p for p in await problems(page) if "GATEWAY_ALLOWED_ORIGINS" in p]
    assert len(ours) == 1
    assert origin in ours[0]
    assert "refuses this page's origin" in ours[0]
    assert requested(page, "/consent")  # it did try
