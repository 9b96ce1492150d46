"""Visit a site once per consent state in headless Chromium, choosing through its banner.

Each state is a new visitor (a fresh browser context). The first state crawls same-origin
links breadth-first up to `pages`; later states visit the same pages in the same order, so
the report compares like with like. In a state with a choice, what the first page requested
before the click belongs to "no choice yet" and is left out; what follows the click is kept,
and the first page is loaded once more in the chosen state. The cookie jar is never reset: a
vendor cookie set before "reject all" and still there after it is still a vendor cookie.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from gateway.audit.browser import (
    GPC_SCRIPT,
    MISSING_PLAYWRIGHT,
    context_options,
    launch_options,
    visitor_user_agent,
)
from gateway.audit.config import banner_config
from gateway.audit.record import STORAGE_ENTRIES, WRITE_SPY, AuditRun, Recorder, StateRun
from gateway.audit.sites import same_site
from gateway.audit.states import ConsentState, Step, banner_names, choice_steps
from gateway.errors import ConfigError, UpstreamError

LINKS = "() => [...document.querySelectorAll('a[href]')].map((a) => a.href)"
SKIPPED_SUFFIXES = (".pdf", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".mp4")
Progress = Callable[[str, str], None]
HTTP_ERROR = 400


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    url: str
    states: Sequence[ConsentState]
    pages: int = 5
    executable: str | None = None
    browser_args: Sequence[str] = ()
    quiet_seconds: float = 0.5  # a page has settled after this long without requests
    settle_timeout: float = 8.0
    action_timeout: float = 10.0  # finding and clicking the banner
    navigation_timeout: float = 30.0
    credentials: tuple[str, str] | None = None  # HTTP authentication, from the URL given
    show_values: bool = False  # record cookie and storage values (else only names)


async def crawl(
    options: CrawlOptions,
    progress: Progress = lambda state, page: None,
    planned: Callable[[int], None] = lambda total: None,
) -> AuditRun:
    """Run every state of `options`; raises `ConfigError` when Playwright is missing.

    `progress(state, url)` is called before each page; `planned(total)` once the first state
    has found how many pages there are, with the number of page visits the audit will make.
    """
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise ConfigError("audit", "playwright", MISSING_PLAYWRIGHT) from None
    audit = AuditRun(options.url, time.time(), show_values=options.show_values)
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                **launch_options(options.executable, options.browser_args)  # type: ignore[arg-type]
            )
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise ConfigError("--browser", options.executable or "playwright", first) from None
        audit.browser = f"Chromium {browser.version}"
        pages: list[str] | None = None
        try:
            for state in options.states:
                run = await _crawl_state(browser, audit, state, options, pages, progress)
                audit.runs.append(run)
                if pages is None and run.pages:
                    pages = [visit.url for visit in run.pages]
                    planned(len(pages) * len(options.states))
                if all(visit.error for visit in run.pages):
                    planned(len(run.pages))  # the progress bar ends here, at 1/1
                    break  # not one page loaded: the other states would not load either
        finally:
            await browser.close()
    audit.finished = time.time()
    return audit


async def _crawl_state(
    browser: Any,
    audit: AuditRun,
    state: ConsentState,
    options: CrawlOptions,
    planned: list[str] | None,
    progress: Progress,
) -> StateRun:
    run = StateRun(state)
    context = await browser.new_context(
        **context_options(visitor_user_agent(browser.version), state.gpc, options.credentials)
    )
    context.set_default_timeout(options.action_timeout * 1000)
    context.set_default_navigation_timeout(options.navigation_timeout * 1000)
    recorder = Recorder(options.show_values)
    try:
        await _attach(context, recorder, state)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", recorder.on_cdp_request)
        cdp.on("Network.responseReceivedExtraInfo", recorder.on_cdp_response_headers)
        await cdp.send("Network.enable")
        queue = list(planned or [_clean(options.url)])
        seen = set(queue)
        while queue and len(run.pages) < options.pages:
            url = queue.pop(0)
            progress(state.name, url)
            recorder.begin(url)
            visit = recorder.visit
            on_site = False
            try:
                on_site = await _open(page, url, recorder, options)
                chose = (
                    on_site
                    and not run.pages
                    and await _first_page(page, context, recorder, audit, run, options)
                )
                if chose:  # the first page again, now in the chosen state, as every later visit
                    on_site = await _open(page, url, recorder, options)
                if on_site and planned is None:
                    for link in await page.evaluate(LINKS):
                        link = _clean(link)
                        if _same_origin(link, options.url) and link not in seen:
                            seen.add(link)
                            queue.append(link)
            except Exception as error:  # a page that fails is reported, the crawl goes on
                visit.error = _one_line(error)
            jar = await context.cookies()
            if not on_site and visit.note:  # another site's cookies are not this page's
                start = urlsplit(options.url).hostname or ""
                recorder.ignore_cookies(
                    [c for c in jar if not same_site(c.get("domain", "").lstrip("."), start)]
                )
                if not run.pages:  # the first page: nothing of this site was seen at all
                    visit.error, visit.note = f"{visit.note}; audit that site's URL", ""
            storage = await _storage(page) if on_site else {}
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
            run.pages.append(recorder.finish_page(jar, storage, origin))
    finally:
        await context.close()
    return run


async def _open(page: Any, url: str, recorder: Recorder, options: CrawlOptions) -> bool:
    """Load `url` and let it settle; False when it ended on another site, which is not audited.

    Raises when the page did not load (a network error, or an HTTP error status).
    """
    visit = recorder.visit
    response = await page.goto(url, wait_until="commit")
    landed = urlsplit(page.url)
    if not same_site(landed.hostname or "", urlsplit(options.url).hostname or ""):
        visit.note = (
            f"redirected to {landed.scheme}://{landed.netloc}/, another site: the crawl of this"
            " page ends there"
        )
        await page.goto("about:blank")
        recorder.forget_requests()
        return False
    await page.wait_for_load_state("load")
    visit.status = response.status if response else None
    if visit.status is not None and visit.status >= HTTP_ERROR:
        raise PageNotLoaded(f"HTTP {visit.status}")
    await _settle(recorder, options)
    return True


class PageNotLoaded(UpstreamError):
    """The site answered a page with an error status: nothing of it can be judged."""


async def _attach(context: Any, recorder: Recorder, state: ConsentState) -> None:
    await context.expose_binding(
        "__cgAuditWrite", lambda _source, *args: recorder.on_write(*map(str, args))
    )
    await context.add_init_script(WRITE_SPY)
    if state.gpc:
        await context.add_init_script(GPC_SCRIPT)
    context.on("request", recorder.on_request)
    context.on("requestfinished", recorder.on_done)
    context.on("requestfailed", recorder.on_done)
    context.on("response", recorder.on_response)


async def _first_page(
    page: Any, context: Any, recorder: Recorder, audit: AuditRun, run: StateRun,
    options: CrawlOptions,
) -> bool:  # fmt: skip
    """Read the banner's config once, make the state's choice, keep the banner's screenshot.

    True when a choice was made: the page's requests from the click on are kept.
    """
    if audit.banner is None and recorder.banner_response is not None:
        audit.banner_script = recorder.banner_script
        try:  # the body as the browser got it (its host rules and proxy apply, not ours)
            audit.banner = banner_config(await recorder.banner_response.text())
        except Exception:
            audit.banner = None  # then the built-in banner texts name the buttons
    steps = choice_steps(run.state, audit.banner)
    try:
        if not steps:  # no choice: the banner should be showing
            await _banner_button(page, audit.banner).wait_for(state="visible")
            run.banner_png = await page.screenshot()
            return False
        for step in steps[:-1]:
            await _do(page, step)
        await _banner_button(page, audit.banner).wait_for(state="visible")
        run.banner_png = await page.screenshot()
        recorder.forget_requests()
        await _do(page, steps[-1])
        await _banner_button(page, audit.banner).wait_for(state="hidden")
    except Exception as error:
        if steps:
            run.error = f"could not choose '{run.state.label}' in the banner: {_one_line(error)}"
        else:
            run.error = f"no consent banner appeared: {_one_line(error)}"
        if not run.banner_png:
            run.banner_png = await page.screenshot()
        return False
    await _settle(recorder, options)
    return True


def _banner_button(page: Any, banner: dict[str, Any] | None) -> Any:
    # "Reject all" is on both layers of the banner, and gone once a choice is saved.
    return page.get_by_role("button", name=banner_names("reject_all", banner)).first


async def _do(page: Any, step: Step) -> None:
    if step.action == "click":
        await page.get_by_role("button", name=step.name).first.click()
    else:
        await page.get_by_role("checkbox", name=step.name).first.check()


async def _settle(recorder: Recorder, options: CrawlOptions) -> None:
    """Wait until no request has been in flight for `quiet_seconds` (or the deadline passes)."""
    deadline = time.monotonic() + options.settle_timeout
    while time.monotonic() < deadline:
        quiet = time.monotonic() - recorder.last_activity
        if not recorder.inflight and quiet >= options.quiet_seconds:
            return
        await asyncio.sleep(0.05)


async def _storage(page: Any) -> dict[str, list[Any]]:
    try:
        return dict(await page.evaluate(STORAGE_ENTRIES))
    except Exception:
        return {}


def _clean(url: str) -> str:
    return urldefrag(url)[0]


def _same_origin(url: str, start: str) -> bool:
    a, b = urlsplit(url), urlsplit(start)
    if a.scheme not in ("http", "https") or a.path.lower().endswith(SKIPPED_SUFFIXES):
        return False
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
