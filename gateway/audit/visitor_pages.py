"""The pages of `consent_page`: a new visitor (browser context) brought to a consent state and
recorded — every request, cookie and storage write — for the plugin's assertion helpers.

Playwright's sync API; nothing of it is imported here (the plugin stays inert until used).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gateway.audit.config import AuditConfig
    from gateway.audit.record import Recorder
    from gateway.audit.states import ConsentState

QUIET_SECONDS = 0.5
SETTLE_TIMEOUT = 8.0


@dataclass
class Visitor:
    state: ConsentState
    recorder: Recorder
    config: AuditConfig
    banner: dict[str, Any] | None


VISITORS: dict[Any, Visitor] = {}


def open_visitor(
    browser: Any, state: ConsentState, url: str, config: AuditConfig, secret: str | None,
    preset: bool,
) -> Any:  # fmt: skip
    from gateway.audit.browser import GPC_SCRIPT, context_options, visitor_user_agent
    from gateway.audit.config import banner_config
    from gateway.audit.record import WRITE_SPY, Recorder
    from gateway.audit.states import banner_names, choice_steps

    context = browser.new_context(**context_options(visitor_user_agent(browser.version), state.gpc))
    recorder = Recorder()
    context.expose_binding("__cgAuditWrite", lambda _s, *a: recorder.on_write(*map(str, a)))
    context.add_init_script(WRITE_SPY)
    if state.gpc:
        context.add_init_script(GPC_SCRIPT)
    for event, handler in (("request", recorder.on_request), ("requestfinished", recorder.on_done),
                           ("requestfailed", recorder.on_done), ("response", recorder.on_response)):  # fmt: skip
        context.on(event, handler)
    if preset and state.choice != "none":
        if not secret:
            pytest.fail(
                "preset=True needs a staging gateway's key: $CONSENT_GATEWAY_SECRET or --consent-secret-file"
            )
        context.add_cookies([signed_cookie(state, url, secret)])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.on("Network.requestWillBeSent", recorder.on_cdp_request)
    cdp.on("Network.responseReceivedExtraInfo", recorder.on_cdp_response_headers)
    cdp.send("Network.enable")
    recorder.begin(url)
    page.goto(url)
    settle(page, recorder)
    banner = None
    if recorder.banner_response is not None:
        banner = banner_config(recorder.banner_response.text())
    steps = [] if preset else choice_steps(state, banner)
    if steps:
        for step in steps:
            target = page.get_by_role(
                "button" if step.action == "click" else "checkbox", name=step.name
            )
            target.first.click() if step.action == "click" else target.first.check()
        page.get_by_role("button", name=banner_names("reject_all", banner)).first.wait_for(
            state="hidden"
        )
        settle(page, recorder)
        recorder.forget_requests()
        page.reload()
        settle(page, recorder)
    VISITORS[page] = Visitor(state, recorder, config, banner)
    return page


def signed_cookie(state: ConsentState, url: str, secret: str) -> dict[str, Any]:
    import secrets as random

    from gateway.consent.cookie import COOKIE_NAME, ConsentCodec
    from gateway.consent.model import Consent

    revision = int(os.environ.get("GATEWAY_POLICY_REVISION", "1"))
    consent = Consent(random.token_hex(16), revision, state.granted, int(time.time()), state.gpc)
    token = ConsentCodec((secret,), max_age_days=180).encode(consent)
    domain = os.environ.get("GATEWAY_COOKIE_DOMAIN")
    if domain:
        return {"name": COOKIE_NAME, "value": token, "domain": domain, "path": "/"}
    return {"name": COOKIE_NAME, "value": token, "url": url}


def settle(page: Any, recorder: Recorder) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        if not recorder.inflight and time.monotonic() - recorder.last_activity >= QUIET_SECONDS:
            return
        page.wait_for_timeout(50)  # lets Playwright deliver the events it holds


def visitor_of(page: Any) -> Visitor:
    visitor = VISITORS.get(page)
    if visitor is None:
        raise AssertionError("this page was not opened by the consent_page fixture")
    return visitor
