"""The banner in real headless Chromium, against real uvicorn, on a strict-CSP page.

One uvicorn server (in a thread) serves both "hosts" of a realistic setup, told apart by name:
`www.site.test` (the site: pages with blocked tags) and `consent.site.test` (the gateway: the
banner routes, a small stand-in for the consent API, and stand-in vendor files). Chromium maps
`*.site.test` to 127.0.0.1, so the banner talks to its gateway cross-origin but same-site, as
in production, and the consent cookie is set on `Domain=site.test`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from gateway.banner.config import VendorInfo, build_banner_config
from gateway.banner.routes import banner_routes
from gateway.consent.cookie import COOKIE_NAME, ConsentCodec
from gateway.consent.model import Consent

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
    "--host-resolver-rules=MAP *.site.test 127.0.0.1",
]  # fmt: skip
CATEGORIES = ("necessary", "preferences", "analytics", "marketing")
VENDORS = (
    VendorInfo("ga4", "Google Analytics 4", "analytics", "https://x.test/p", ("_ga", "_ga_*")),
    VendorInfo(
        "meta_pixel", "Meta Pixel", "marketing", "https://x.test/p", ("_fbp",), "Ad measurement."
    ),
)
CORS: dict[str, Any] = {"allow_credentials": True, "allow_methods": ["*"], "allow_headers": ["*"]}
CODEC = ConsentCodec(keys=("e2e-secret-key-0123456789abcdef",), max_age_days=180)
STILL: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "reduced_motion": "reduce"}
PAGE_ERRORS: dict[Page, list[str]] = {}
GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)
TRACKER = "window.{0}Runs = (window.{0}Runs || 0) + 1;"
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
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="{gw}/consent.js"></script>
<title>Northwind Consulting</title>
<link rel="stylesheet" href="{gw}/site.css">
<script type="text/plain" data-consent="analytics" src="{gw}/vendor/analytics.js"></script>
<script type="text/plain" data-consent="marketing" data-src="{gw}/vendor/marketing.js"></script>
</head><body><header><b>Northwind Consulting</b><a href="#" data-consent-open>{open}</a></header>
<main><h1>{h1}</h1><p>{p}</p><p>{p}</p>
<img data-consent="analytics" data-src="{gw}/vendor/pixel.gif" alt="" width="1" height="1">
<iframe data-consent="marketing" data-src="{gw}/vendor/frame" title="Video"></iframe>
<p>{p}</p><p>{p}</p></main></body></html>"""
SITE_CSS = """body{margin:0;font:17px/1.6 Georgia,serif;color:#222;background:#f6f4ef}
header{display:flex;justify-content:space-between;padding:16px 32px;background:#24324a;color:#fff}
header a{color:#fff}main{max-width:720px;margin:0 auto;padding:24px}iframe{border:0;height:80px}"""
LOREM = (
    "We help mid-sized manufacturers plan, finance and run their supply chains. Our consultants"
    " work on site with your teams across Europe, from the first audit to the last delivery."
)


@dataclass
class Site:
    """The running stand-in: its origins and what it has seen."""

    port: int
    hits: Counter[str] = field(default_factory=Counter)
    posts: list[dict[str, Any]] = field(default_factory=list)
    deletes: int = 0

    @property
    def www(self) -> str:
        return f"http://www.site.test:{self.port}"

    @property
    def gateway(self) -> str:
        return f"http://consent.site.test:{self.port}"

    def reset(self) -> None:
        self.hits.clear()
        self.posts.clear()
        self.deletes = 0


def consent_json(consent: Consent) -> dict[str, Any]:
    return {
        "id": consent.consent_id,
        "revision": consent.revision,
        "granted": sorted(consent.granted),
        "denied": [c for c in CATEGORIES[1:] if c not in consent.granted],
        "chosen_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(consent.chosen_at)),
        "gpc": consent.gpc,
    }


def build_app(site: Site) -> Starlette:
    config = build_banner_config(
        public_url=site.gateway, policy_revision=1, policy_url="/privacy", categories=CATEGORIES,
        vendors=VENDORS,
    )  # fmt: skip

    async def consent_api(request: Request) -> Response:
        """A stand-in for the real POST/GET/DELETE /consent, true to their contract."""
        if request.method == "GET":
            found = CODEC.decode(request.cookies.get(COOKIE_NAME))
            found = found if found and found.is_current(1) else None
            body = {"consent": found and consent_json(found), "revision": 1}
            return JSONResponse({**body, "categories": list(CATEGORIES)})
        if request.method == "DELETE":
            site.deletes += 1
            response = JSONResponse(
                {"withdrawn": True, "receipt_id": "r-w", "delete_cookies": ["_ga", "_ga_*"]}
            )
            response.delete_cookie(COOKIE_NAME, domain="site.test", samesite="lax")
            return response
        choice = await request.json()
        site.posts.append(choice)
        optional = set(CATEGORIES[1:])
        granted = {"accept_all": optional, "reject_all": set()}.get(
            choice.get("action"), optional & set(choice.get("granted", []))
        )
        if request.headers.get("sec-gpc") == "1":
            granted.discard("marketing")
        consent = Consent(secrets.token_hex(16), 1, frozenset(granted), int(time.time()))
        response = JSONResponse({"consent": consent_json(consent), "receipt_id": "r-1"})
        response.set_cookie(COOKIE_NAME, CODEC.encode(consent), 3600, domain="site.test")
        return response

    def page(lang: str, **words: str) -> Any:
        async def endpoint(request: Request) -> Response:
            html = PAGE.format(gw=site.gateway, lang=lang, p=LOREM, **words)
            csp = (
                f"default-src 'none'; script-src {site.gateway}; style-src {site.gateway};"
                f" connect-src {site.gateway}; img-src {site.gateway}; frame-src {site.gateway}"
            )
            return HTMLResponse(html, headers={"Content-Security-Policy": csp})

        return endpoint

    async def vendor(request: Request) -> Response:
        name = request.path_params["name"]
        site.hits[name] += 1
        if name.endswith(".js"):
            return Response(TRACKER.format(name[:-3]), media_type="text/javascript")
        if name == "pixel.gif":
            return Response(GIF, media_type="image/gif")
        return HTMLResponse("<p>embedded video</p>")

    async def site_css(request: Request) -> Response:
        return Response(SITE_CSS, media_type="text/css")

    return Starlette(
        routes=[
            *banner_routes(config),
            Route("/consent", consent_api, methods=["GET", "POST", "DELETE"]),
            Route("/", page("en", h1="Supply chains that hold", open="Privacy settings")),
            Route("/ru", page("ru", h1="Надёжные цепочки поставок", open="Настройки")),
            Route("/vendor/{name}", vendor),
            Route("/site.css", site_css),
        ],
        middleware=[Middleware(CORSMiddleware, allow_origins=[site.www], **CORS)],
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def running_site() -> Iterator[Site]:
    site = Site(port=free_port())
    app = build_app(site)
    server = uvicorn.Server(uvicorn.Config(app, port=site.port, lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {site.port} (see log above)")
        time.sleep(0.01)
    yield site
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def site(running_site: Site) -> Site:
    running_site.reset()
    return running_site


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def open_page(browser: Browser, url: str, *, gpc: bool = False, **options: Any) -> Page:
    context = await browser.new_context(**options)
    await context.add_init_script(SPY)
    if gpc:
        await context.add_init_script(
            "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
        )
    page = await context.new_page()
    errors = PAGE_ERRORS.setdefault(page, [])
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(url)
    return page


async def problems(page: Page) -> list[str]:
    """CSP violations, page errors and console errors seen so far: always expected empty."""
    return [*await page.evaluate("window.__violations"), *PAGE_ERRORS.get(page, [])]


async def until(page: Page, expression: str, timeout: float = 5.0) -> None:
    """Poll `expression` until truthy (wait_for_function evals, which this page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        await asyncio.sleep(0.02)


async def runs(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate("({a: window.analyticsRuns, m: window.marketingRuns})"))


async def test_first_visit_on_strict_csp_page(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/", **STILL)
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    await expect(dialog).to_be_visible()
    assert await dialog.evaluate("(e) => getComputedStyle(e).animationName") == "none"
    await expect(dialog).to_have_attribute("aria-modal", "true")
    await expect(dialog).to_have_accessible_description(
        "We use cookies and similar technologies, such as pixels, that this site needs to work."
        " With your consent, we also use them to remember your settings, measure how the site"
        " is used and for marketing. You can change or withdraw consent at any time."
        " Privacy policy"
    )
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
    assert await runs(page) == {"a": None, "m": None}
    assert not site.hits
    await page.screenshot(path=SCREENSHOTS / "banner-desktop.png")
    await dialog.get_by_role("button", name="Customise").click()
    await expect(page.get_by_role("switch", name="Analytics")).not_to_be_checked()
    await expect(page.get_by_role("switch", name="Strictly necessary")).to_be_disabled()
    await page.get_by_text("Providers (1)").last.click()
    await page.screenshot(path=SCREENSHOTS / "preferences-desktop.png")
    assert await page.evaluate("window.__cls") == 0
    assert await problems(page) == []


async def test_reject_runs_nothing_and_is_remembered(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/")
    await page.get_by_role("button", name="Reject all").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert site.posts == [{"action": "reject_all", "language": "en", "page": "/"}]
    await page.reload()
    await expect(page.get_by_role("button", name="Privacy settings")).to_be_visible()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await page.screenshot(path=SCREENSHOTS / "floating-button.png")
    assert await runs(page) == {"a": None, "m": None}
    assert await page.evaluate("document.querySelector('img').getAttribute('src')") is None
    assert not site.hits
    assert await problems(page) == []


async def test_accept_all_runs_each_tag_exactly_once(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await until(page, "window.analyticsRuns === 1 && window.marketingRuns === 1")
    await page.evaluate(
        """(src) => { const s = document.createElement("script"); s.type = "text/plain";
        s.dataset.consent = "analytics"; s.src = src; document.body.append(s); }""",
        site.gateway + "/vendor/late.js",
    )
    await until(page, "window.lateRuns === 1")
    assert await runs(page) == {"a": 1, "m": 1}
    assert set(site.hits.values()) == {1}
    assert set(site.hits) == {"analytics.js", "marketing.js", "pixel.gif", "frame", "late.js"}
    calls = await page.evaluate("window.dataLayer.map((a) => Array.from(a))")
    assert [c[1] for c in calls] == ["default", "update"]
    assert calls[1][2]["ad_storage"] == calls[1][2]["analytics_storage"] == "granted"
    changes = await page.evaluate("window.__changes")
    assert changes[-1]["granted"] == ["analytics", "marketing", "preferences"]
    assert await page.evaluate("consentGateway.get().granted.length") == 3
    await page.reload()
    await until(page, "window.analyticsRuns === 1")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    assert await problems(page) == []


async def test_keyboard_only_customise_and_reopen(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/")
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
    analytics = page.get_by_role("switch", name="Analytics")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await analytics.evaluate("(e) => e === document.activeElement"):
            break
    await page.keyboard.press("Space")
    await expect(analytics).to_be_checked()
    save = dialog.get_by_role("button", name="Save choices")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await save.evaluate("(e) => e === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    assert site.posts[-1]["granted"] == ["analytics"]
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
    assert await problems(page) == []


async def test_withdraw_deletes_vendor_cookies(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/")
    await page.get_by_role("button", name="Accept all").click()
    await page.evaluate(
        """() => { document.cookie = "_ga=1; Path=/"; document.cookie = "_ga_X1=2; Path=/";
        document.cookie = "_ga=3; Path=/; Domain=site.test"; document.cookie = "keep=1; Path=/"; }"""
    )
    await page.get_by_role("link", name="Privacy settings").click()
    await page.get_by_role("button", name="Withdraw consent").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Consent withdrawn")
    assert site.deletes == 1
    names = {c["name"] for c in await page.context.cookies()}
    assert names == {"keep"}
    assert await page.evaluate("consentGateway.get()") is None
    calls = await page.evaluate("window.dataLayer.map((a) => a[2].analytics_storage)")
    assert calls[-1] == "denied"
    assert await problems(page) == []


async def test_old_revision_asks_again(browser: Browser, site: Site) -> None:
    old = Consent(secrets.token_hex(16), 0, frozenset({"analytics"}), int(time.time()))
    context = await browser.new_context()
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": CODEC.encode(old), "domain": ".site.test", "path": "/"}]
    )
    page = await context.new_page()
    await page.goto(site.www + "/")
    await expect(page.get_by_role("dialog")).to_be_visible()
    assert (await runs(page))["a"] is None


async def test_gpc_denies_marketing_and_says_so(browser: Browser, site: Site) -> None:
    page = await open_page(browser, site.www + "/", gpc=True)
    await expect(page.get_by_role("dialog")).to_contain_text("Global Privacy Control")
    await page.get_by_role("button", name="Customise").click()
    await expect(page.get_by_role("switch", name="Marketing")).to_be_disabled()
    await page.get_by_role("button", name="Accept all").click()
    await until(page, "window.analyticsRuns === 1")
    assert site.posts[-1]["granted"] == ["preferences", "analytics"]
    assert (await runs(page))["m"] is None
    assert await problems(page) == []


async def test_russian_mobile_and_dark(browser: Browser, site: Site) -> None:
    mobile: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
    page = await open_page(browser, site.www + "/ru", reduced_motion="reduce", **mobile)
    dialog = page.get_by_role("dialog", name="Ваша конфиденциальность")
    await expect(dialog.get_by_role("button", name="Отклонить все")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "banner-mobile-ru.png")
    await dialog.get_by_role("button", name="Отклонить все").click()
    assert site.posts[-1] == {"action": "reject_all", "language": "ru", "page": "/ru"}
    dark = await open_page(browser, site.www + "/", color_scheme="dark", **STILL)
    await expect(dark.get_by_role("dialog")).to_be_visible()
    await dark.screenshot(path=SCREENSHOTS / "banner-dark.png")
    await dark.get_by_role("button", name="Customise").click()
    await dark.screenshot(path=SCREENSHOTS / "preferences-dark.png")
    assert await problems(page) == await problems(dark) == []
    assert json.dumps(await dark.evaluate("consentGateway.get()")) == "null"
