"""Opening pages the way a visitor's browser does, and watching what happens on them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from playwright.async_api import Browser, Page

from gateway.audit.browser import find_chromium

# Debian's `chromium-headless-shell` or `chromium`, whichever .ci/system-deps found installed.
CHROMIUM = find_chromium() or "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
    "--host-resolver-rules=MAP *.site.test 127.0.0.1",
]  # fmt: skip
# Headless Chromium says "HeadlessChrome", which the gateway rightly treats as a bot (bots
# never reach a vendor): visitors get the user agent of the browser they stand for.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/156.0.0.0 Safari/537.36"
)
MOBILE_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/156.0.0.0 Mobile Safari/537.36"
)
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
MOBILE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "user_agent": MOBILE_CHROME,
}
STILL: dict[str, Any] = {**DESKTOP, "reduced_motion": "reduce"}
SPY = """
window.__violations = []; window.__changes = []; window.__cls = 0;
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
document.addEventListener("consent:change", (e) => window.__changes.push(e.detail));
new PerformanceObserver((list) => list.getEntries().forEach((e) => {
  if (!e.hadRecentInput) window.__cls += e.value;  // what CLS counts
}))
  .observe({ type: "layout-shift", buffered: true });
"""
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
_ERRORS: dict[Page, list[str]] = {}
_REQUESTS: dict[Page, list[str]] = {}


async def open_page(browser: Browser, url: str, *, gpc: bool = False, **options: Any) -> Page:
    """A new browser context (a new visitor) on `url`, with CSP and error spies installed."""
    options.setdefault("user_agent", DESKTOP_CHROME)
    if gpc:  # both halves of Global Privacy Control: the DOM property and the header
        options["extra_http_headers"] = {"Sec-GPC": "1"}
    context = await browser.new_context(**options)
    await context.add_init_script(SPY)
    if gpc:
        await context.add_init_script(GPC)
    page = await context.new_page()
    errors = _ERRORS.setdefault(page, [])
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    requested = _REQUESTS.setdefault(page, [])
    page.on("request", lambda request: requested.append(request.url))

    def forget(closed: Page) -> None:
        _ERRORS.pop(closed, None)
        _REQUESTS.pop(closed, None)

    page.on("close", forget)
    await page.goto(url)
    return page


async def problems(page: Page) -> list[str]:
    """CSP violations, page errors and console errors seen so far: always expected empty."""
    return [*await page.evaluate("window.__violations"), *_ERRORS.get(page, [])]


def requested(page: Page, part: str) -> list[str]:
    """The URLs containing `part` that the page (or a frame in it) has requested so far."""
    return [url for url in _REQUESTS.get(page, []) if part in url]


async def until(page: Page, expression: str, timeout: float = 5.0) -> None:
    """Poll `expression` until truthy (wait_for_function evals, which these pages' CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        await asyncio.sleep(0.02)


async def runs(page: Page) -> dict[str, Any]:
    """How often each blocked tag stand-in ran on this page (None: never)."""
    return dict(
        await page.evaluate(
            "({a: window.analyticsRuns, m: window.marketingRuns, g: window.gtagRuns})"
        )
    )


async def send_hit(page: Page, url: str) -> str:
    """POST a hit from the page (with its cookies); the gateway's X-Consent-Decision header.

    Redirects are not followed: a redirect decision is seen, not acted on.
    """
    async with page.expect_response(url) as answer:
        await page.evaluate(
            "(url) => fetch(url, {method: 'POST', credentials: 'include', redirect: 'manual'})"
            ".then((r) => r.status)",
            url,
        )
    response = await answer.value
    return str(await response.header_value("x-consent-decision"))


async def own_receipts(page: Page, gateway: str) -> list[dict[str, Any]]:
    """GET /consent/receipts from the page, as the visitor's self-service access does."""
    body = await page.evaluate(
        "(url) => fetch(url, {credentials: 'include'}).then((r) => r.json())",
        f"{gateway}/consent/receipts",
    )
    return list(body["receipts"])


async def site_cookies(page: Page) -> dict[str, str]:
    """The cookies the site's pages can see (the vendor stand-in's own are left out)."""
    cookies = await page.context.cookies()
    return {c["name"]: c["value"] for c in cookies if c["domain"].endswith("site.test")}
