"""pytest plugin (entry point `consent_gateway`): a site's own consent tests in Playwright.

    from gateway.audit.pytest_plugin import cookies_declared, no_vendor_requests

    def test_reject_all_keeps_marketing_out(consent_page):
        page = consent_page("reject")            # clicks "Reject all" in the real banner
        no_vendor_requests(page, "marketing")
        cookies_declared(page)

`consent_page(state, url=None, preset=False)` opens a new visitor on `url` (default: the
`--consent-site` URL), reaches `state` by clicking the banner — or, with `preset=True` and
a staging gateway's secret key in `$CONSENT_GATEWAY_SECRET` (or `--consent-secret-file`), by
presetting a signed consent cookie — then reloads the page so it is seen
as that state serves it. States are those of `consent-gateway audit`: none, reject, each
category name, accept, accept-gpc. The assertion helpers judge what the page requested from
the choice on, and its cookie jar now, against the tag rules (`--consent-rules`).

Inert unless used: nothing is imported (Playwright least of all) until a fixture is asked for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from gateway.audit.visitor_pages import VISITORS, open_visitor, settle, visitor_of

if TYPE_CHECKING:
    from gateway.audit.config import AuditConfig
    from gateway.audit.judge import Item


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("consent-gateway", "consent tests (consent-gateway plugin)")
    group.addoption("--consent-site", metavar="URL",
                    help="the page consent_page opens ($CONSENT_SITE_URL)")  # fmt: skip
    group.addoption("--consent-rules", metavar="DIR",
                    help="tag rules to judge against ($GATEWAY_RULES, default tag_rules)")  # fmt: skip
    # Never the key itself on the command line (it shows in `ps` and CI logs): a file or the
    # environment. It signs click targets, preferences links and admin sessions too, so use a
    # staging gateway's key, never production's.
    group.addoption("--consent-secret-file", metavar="PATH",
                    help="a file holding a staging gateway's secret key, to preset signed "
                         "consent (or $CONSENT_GATEWAY_SECRET)")  # fmt: skip
    group.addoption("--consent-browser", metavar="PATH",
                    help="Chromium to run ($CONSENT_AUDIT_BROWSER; default Debian's)")  # fmt: skip
    group.addoption("--consent-browser-arg", action="append", default=[], metavar="ARG",
                    help="extra Chromium switch; repeat")  # fmt: skip


@pytest.fixture(scope="session")
def consent_site(pytestconfig: pytest.Config) -> str:
    """The URL `consent_page` opens by default."""
    url = pytestconfig.getoption("consent_site") or os.environ.get("CONSENT_SITE_URL")
    if not url:
        pytest.fail("consent_page needs a site: pass --consent-site URL or set CONSENT_SITE_URL")
    return str(url)


@pytest.fixture(scope="session")
def consent_secret(pytestconfig: pytest.Config) -> str | None:
    """A secret key of the site's (staging) gateway, for `preset=True` (None: refused)."""
    return secret_key(pytestconfig.getoption("consent_secret_file"), os.environ)


def secret_key(path: str | None, environ: Mapping[str, str]) -> str | None:
    """The key from the file at `path`, else `$CONSENT_GATEWAY_SECRET`; None when neither."""
    if path:
        from pathlib import Path

        return Path(path).read_text(encoding="utf-8").strip() or None
    return environ.get("CONSENT_GATEWAY_SECRET") or None


@pytest.fixture(scope="session")
def consent_config(pytestconfig: pytest.Config) -> AuditConfig:
    """The vendors, hosts, cookies and categories the rules declare."""
    from pathlib import Path

    from gateway.audit.config import load_audit_config
    from gateway.settings import load_settings

    settings = load_settings()
    folder = pytestconfig.getoption("consent_rules") or settings.rules.folder
    return load_audit_config(
        Path(folder), settings.consent.categories, home=settings.rules.home_countries
    )


@pytest.fixture(scope="session")
def consent_browser(pytestconfig: pytest.Config) -> Iterator[Any]:
    """One headless Chromium for the session (Playwright's sync API)."""
    from gateway.audit.browser import MISSING_PLAYWRIGHT, find_chromium, launch_options

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(MISSING_PLAYWRIGHT)
    executable = find_chromium(pytestconfig.getoption("consent_browser"))
    extra = pytestconfig.getoption("consent_browser_arg")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(executable, extra))  # type: ignore[arg-type]
        yield browser
        browser.close()


@pytest.fixture
def consent_page(
    consent_browser: Any,
    consent_site: str,
    consent_config: AuditConfig,
    consent_secret: str | None,
) -> Iterator[Callable[..., Any]]:
    """`consent_page(state, url=None, preset=False)`: a new visitor's Page in that state."""
    contexts: list[Any] = []

    def open_in_state(
        state_name: str = "none", url: str | None = None, preset: bool = False
    ) -> Any:
        from gateway.audit.states import consent_state

        state = consent_state(state_name, consent_config.categories)
        page = open_visitor(consent_browser, state, url or consent_site, consent_config,
                     consent_secret if preset else None, preset)  # fmt: skip
        contexts.append(page.context)
        return page

    yield open_in_state
    for context in contexts:
        for page in context.pages:
            VISITORS.pop(page, None)
        context.close()


# Assertion helpers


def consent_items(page: Any) -> list[Item]:
    """Everything `consent-gateway audit` would report about this page in its state so far."""
    from gateway.audit.judge import judge
    from gateway.audit.record import AuditRun, PageVisit, StateRun

    visitor = visitor_of(page)
    settle(page, visitor.recorder)
    visitor.recorder.resolve_initiators()
    jar = page.context.cookies()
    visit = PageVisit(
        visitor.recorder.visit.url,
        requests=list(visitor.recorder.visit.requests),
        cookies=[visitor.recorder.cookie_record(cookie, page.url) for cookie in jar],
    )
    audit = AuditRun(visit.url, time.time(), runs=[StateRun(visitor.state, [visit])])
    config = visitor.config.with_banner(visitor.banner)
    return [item for item in judge(config, audit) if item.level != "note"]


def _fail(what: str, items: list[Item]) -> None:
    if items:
        lines = "\n".join(
            f"  - {i.subject}: {i.message} (caused by {i.cause or '?'}; {i.rule})" for i in items
        )
        raise AssertionError(f"{what}:\n{lines}")


def no_vendor_requests(page: Any, category: str) -> None:
    """No request went to a host of a vendor in `category` (directly, not via the gateway)."""
    visitor = visitor_of(page)
    settle(page, visitor.recorder)
    hits = []
    for request in visitor.recorder.visit.requests:
        vendors = [v for v in visitor.config.vendors_at(request.host) if v.category == category]
        if vendors:
            hits.append(
                f"  - {request.host}{request.path} ({vendors[0].name}; from {request.initiator})"
            )
    if hits:
        raise AssertionError(
            f"requests to {category} vendors in state '{visitor.state.name}':\n" + "\n".join(hits)
        )


def no_vendor_cookies(page: Any, category: str) -> None:
    """No cookie in the jar belongs to a vendor in `category`."""
    visitor = visitor_of(page)
    found = [c["name"] for c in page.context.cookies()
             if any(v.category == category
                    for v in visitor.config.cookie_vendors(c["name"], c.get("domain", "")))]  # fmt: skip
    if found:
        raise AssertionError(
            f"{category} vendor cookies in state '{visitor.state.name}': {', '.join(found)}"
        )


def cookies_declared(page: Any, *also: str) -> None:
    """Every cookie in the jar is declared by a rule, is the consent cookie, or is in `also`."""
    visitor = visitor_of(page)
    undeclared = [c["name"] for c in page.context.cookies()
                  if not visitor.config.declares(c["name"]) and c["name"] not in also]  # fmt: skip
    if undeclared:
        raise AssertionError(f"cookies no rule declares: {', '.join(sorted(set(undeclared)))}")


def no_violations(page: Any) -> None:
    """Nothing the audit calls a violation: no vendor request, cookie or gateway hit unconsented."""
    _fail("consent violations", [i for i in consent_items(page) if i.level == "violation"])


def gateway_decisions(page: Any) -> dict[str, str]:
    """The gateway's answer per vendor hit seen so far: `{"ga4": "forward", ...}`."""
    visitor = visitor_of(page)
    settle(page, visitor.recorder)
    return {
        r.path.split("/")[2]: r.decision.split(";")[0]
        for r in visitor.recorder.visit.requests
        if r.decision and r.path.startswith("/t/")
    }
