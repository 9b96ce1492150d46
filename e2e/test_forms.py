"""A contact form end to end: filled in Chromium, confirmed from a real mail, unsubscribed.

    Chromium ──▶ www.site.test:S /contact        (a contact form, strict CSP)
       │            └─ consent-forms.js ─POST /consent/forms─▶ consent.site.test:G
       │                                                          └─ SMTP ─▶ 127.0.0.1:M
       └──▶ the mail's /f/ link: confirm         (the test reads the mail from the server)
    /o beacons for the recipient: kept after the confirmation, not after POST /u (RFC 8058)

The gateway is its own `serve` process (the shared one has no mail server) on the shared
Redis; the site is a small real server defined here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from e2e.browsing import DESKTOP_CHROME, problems, requested, until
from e2e.conftest import SCREENSHOTS, Visit
from e2e.gateway_server import REPO, SECRET, GatewayProcess, running_gateway
from e2e.site import Site
from e2e.test_email import aggregates
from gateway.email.identity import recipient_id, recipient_key
from gateway.email.tokens import EmailTokens, OpenToken
from gateway.forms.tokens import FormTokens
from tests.servers import RedisServer, free_port
from tests.smtp import SmtpServer, link_in, smtp_server
from tests.vendors import StandInVendor, rules_pointing_at

CONTACT = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Contact us</title>
<script src="{gw}/{script}"></script>{again}
<script src="/contact.js"></script>
</head><body><main><h1>Contact us</h1>
<form data-consent-form="contact" action="/thanks" method="post" {ajax}>
<label>Email <input type="email" name="email" data-consent-subject="email" required></label>
<label>Message <textarea name="message"></textarea></label>
<label><input type="checkbox" name="news" data-consent-purpose="newsletter" {checked}>
  Send me the monthly newsletter</label>
<label><input type="checkbox" name="opens" data-consent-purpose="email_tracking">
  Tell Northwind when I open it and which links I follow</label>
<button type="submit">Send</button>
</form><p id="done"></p></main></body></html>"""
# The site's own submit, for forms marked data-ajax: by fetch, the page stays.
CONTACT_JS = """
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.hasAttribute("data-ajax")) return;
  event.preventDefault();
  fetch("/thanks", { method: "POST", body: new URLSearchParams(new FormData(form)) })
    .then(() => { document.getElementById("done").textContent = "Thanks, we got your message"; });
});"""


@dataclass
class ContactSite:
    port: int
    gateway: str = ""
    messages: list[str] = field(default_factory=list)  # what the site's own handler received

    @property
    def origin(self) -> str:
        return f"http://www.site.test:{self.port}"


def _site_app(site: ContactSite) -> Starlette:
    async def contact(request: Request) -> Response:
        pre_ticked = request.query_params.get("pre-ticked") == "1"
        twice = request.query_params.get("twice") == "1"  # the script included twice
        banner = request.query_params.get("banner") == "1"  # the banner loads the form script
        html = CONTACT.format(
            gw=site.gateway,
            script="consent.js" if banner else "consent-forms.js",
            lang=request.query_params.get("lang", "en"),
            ajax="data-ajax" if pre_ticked or twice or banner else "",
            checked="checked" if pre_ticked else "",
            again=f'\n<script src="{site.gateway}/consent-forms.js"></script>' if twice else "",
        )
        csp = (
            f"default-src 'none'; script-src 'self' {site.gateway}; connect-src 'self'"
            f" {site.gateway}; style-src {site.gateway}; form-action 'self'"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    async def script(request: Request) -> Response:
        return Response(CONTACT_JS, media_type="text/javascript")

    async def thanks(request: Request) -> Response:
        site.messages.append((await request.body()).decode())
        return HTMLResponse("<!doctype html><title>Thanks</title><h1>Thanks</h1>")

    return Starlette(
        routes=[
            Route("/contact", contact),
            Route("/contact.js", script),
            Route("/thanks", thanks, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def contact_site() -> Iterator[ContactSite]:
    site = ContactSite(free_port())
    config = uvicorn.Config(
        _site_app(site), host="127.0.0.1", port=site.port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the contact site's uvicorn did not start on port {site.port}")
        time.sleep(0.01)
    yield site
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def forms_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    redis: RedisServer,
    vendor_server: StandInVendor,
    contact_site: ContactSite,
    smtp: SmtpServer,
) -> Iterator[GatewayProcess]:
    settings = {
        "store": redis.url,
        "rules": str(
            rules_pointing_at(
                REPO / "tag_rules", tmp_path_factory.mktemp("rules"), vendor_server.origin
            )
        ),
        "allow_insecure_upstreams": "true",  # the test's SMTP server has no STARTTLS
        "allowed_origins": contact_site.origin,
        "cookie_domain": "site.test",
        "smtp_url": smtp.url,
        "mail_from": "news@northwind.example",
    }
    with running_gateway(tmp_path_factory.mktemp("forms-gateway"), settings) as process:
        contact_site.gateway = process.origin
        yield process


def _events(gateway: GatewayProcess, subject: str) -> list[dict[str, object]]:
    token = EmailTokens((SECRET,)).sign_preferences(subject)
    with httpx.Client(trust_env=False) as client:
        data = client.get(f"http://127.0.0.1:{gateway.port}/p/{token}?format=json").json()
    events: list[dict[str, object]] = data["events"]
    return events


def _open_beacon(gateway: GatewayProcess, campaign: str, subject: str) -> None:
    opened = OpenToken(campaign, subject, int(time.time()) - 3600)
    token = EmailTokens((SECRET,)).sign_open(opened)
    with httpx.Client(trust_env=False) as client:
        gif = client.get(
            f"http://127.0.0.1:{gateway.port}/o/{token}", headers={"User-Agent": DESKTOP_CHROME}
        )
    assert gif.status_code == 200


async def test_a_contact_form_ticked_confirmed_tracked_and_unsubscribed(
    visit: Visit, forms_gateway: GatewayProcess, contact_site: ContactSite, smtp: SmtpServer,
    redis: RedisServer,
) -> None:  # fmt: skip
    address = f"ada.{time.time_ns()}@example.com"
    subject = recipient_id(address, recipient_key((SECRET,)))
    campaign = f"forms-{time.time_ns()}"
    already = smtp.inbox.count()

    page = await visit(f"{contact_site.origin}/contact")
    await page.get_by_label("Email").fill(address)
    await page.get_by_label("Message").fill("Please call me back about logistics.")
    await page.get_by_label("Send me the monthly newsletter").check()
    await page.get_by_label("Tell Northwind when I open it").check()
    assert await problems(page) == []  # the form script runs under the page's strict CSP
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("heading", name="Thanks")).to_be_visible()  # the site's submit
    assert "logistics" in contact_site.messages[-1]

    [mail] = (await smtp.inbox.wait_for(already + 1, timeout=30))[already:]
    assert mail["To"] == address
    link = link_in(mail, f"{forms_gateway.origin}/f/")
    _open_beacon(forms_gateway, campaign, subject)  # before confirming: not theirs to keep

    await page.goto(link)
    await expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "form-confirm.png")
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert await problems(page) == []  # no CSP violation, no script error

    _open_beacon(forms_gateway, campaign, subject)
    assert aggregates(redis, campaign, expected=2)["email_open"] == {f"{campaign}|human": 2}
    assert [(e["kind"], e["campaign"]) for e in _events(forms_gateway, subject)] == [
        ("open", campaign)
    ]

    # The mailbox provider's one-click unsubscribe (RFC 8058): tracking stops at once.
    headers = FormTokens((SECRET,)).unsubscribe_headers(forms_gateway.origin, subject)
    unsubscribe = urlsplit(headers["List-Unsubscribe"].strip("<>")).path
    with httpx.Client(trust_env=False) as provider:
        answer = provider.post(
            f"http://127.0.0.1:{forms_gateway.port}{unsubscribe}",
            content=headers["List-Unsubscribe-Post"],
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert (answer.status_code, answer.content, "set-cookie" in answer.headers) == (200, b"", False)
    _open_beacon(forms_gateway, campaign, subject)
    assert aggregates(redis, campaign, expected=3)["email_open"] == {f"{campaign}|human": 3}
    assert len(_events(forms_gateway, subject)) == 1  # the third open is counted, not kept

    token = EmailTokens((SECRET,)).sign_preferences(subject)
    with httpx.Client(trust_env=False) as client:
        data = client.get(f"http://127.0.0.1:{forms_gateway.port}/p/{token}?format=json").json()
    assert [r["action"] for r in data["receipts"]] == ["form", "form_confirmed", "unsubscribe"]
    assert data["receipts"][0]["labels"][0]["text"] == "Send me the monthly newsletter"
    assert address not in str(data)


async def test_a_pre_ticked_box_is_refused_but_the_site_submit_goes_on(
    visit: Visit, forms_gateway: GatewayProcess, contact_site: ContactSite, smtp: SmtpServer
) -> None:
    already = smtp.inbox.count()
    page = await visit(f"{contact_site.origin}/contact?pre-ticked=1")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    await page.get_by_label("Email").fill("pre.ticked@example.com")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Thanks, we got your message")).to_be_visible()
    deadline = time.monotonic() + 10
    while not any("pre_ticked" in error for error in errors) and time.monotonic() < deadline:
        await page.wait_for_timeout(50)
    assert any("consent-gateway: pre_ticked" in error for error in errors), errors
    assert await page.evaluate("window.__violations") == []
    assert smtp.inbox.count() == already  # nothing was sent to the address


async def test_unticked_boxes_are_recorded_once_even_with_the_script_twice(
    visit: Visit, forms_gateway: GatewayProcess, contact_site: ContactSite, smtp: SmtpServer
) -> None:
    address = f"bo.{time.time_ns()}@example.com"
    subject = recipient_id(address, recipient_key((SECRET,)))
    already = smtp.inbox.count()
    page = await visit(f"{contact_site.origin}/contact?twice=1")
    await page.get_by_label("Email").fill(address)
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Thanks, we got your message")).to_be_visible()
    token = EmailTokens((SECRET,)).sign_preferences(subject)
    url = f"http://127.0.0.1:{forms_gateway.port}/p/{token}?format=json"
    deadline = time.monotonic() + 10
    with httpx.Client(trust_env=False) as client:
        while not (receipts := client.get(url).json()["receipts"]):
            assert time.monotonic() < deadline, "no receipt"
            await page.wait_for_timeout(100)
        await page.wait_for_timeout(500)  # a second record would have arrived by now
        receipts = client.get(url).json()["receipts"]
    [receipt] = receipts
    assert receipt["action"] == "form"
    assert receipt["denied"] == ["email_tracking", "newsletter"]  # unticked is a refusal
    assert [label["ticked"] for label in receipt["labels"]] == [False, False]
    assert smtp.inbox.count() == already  # nothing to confirm, nothing mailed
    assert await problems(page) == []


async def test_the_banner_loads_the_form_script_only_where_a_form_is(
    visit: Visit, forms_gateway: GatewayProcess, contact_site: ContactSite
) -> None:
    address = f"cy.{time.time_ns()}@example.com"
    subject = recipient_id(address, recipient_key((SECRET,)))
    page = await visit(f"{contact_site.origin}/contact?banner=1")
    await page.get_by_role("button", name="Reject all").click()
    await until(page, "window.consentForms && window.consentForms.version === 1")
    await page.get_by_label("Email").fill(address)
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Thanks, we got your message")).to_be_visible()
    token = EmailTokens((SECRET,)).sign_preferences(subject)
    url = f"http://127.0.0.1:{forms_gateway.port}/p/{token}?format=json"
    deadline = time.monotonic() + 10
    with httpx.Client(trust_env=False) as client:
        while not (receipts := client.get(url).json()["receipts"]):
            assert time.monotonic() < deadline, "no receipt"
            await page.wait_for_timeout(100)
    assert [r["action"] for r in receipts] == ["form"]
    assert await problems(page) == []
    assert requested(page, "/consent-forms.js") == [f"{forms_gateway.origin}/consent-forms.js"]


async def test_a_page_without_a_form_never_loads_the_form_script(visit: Visit, site: Site) -> None:
    page = await visit(f"{site.www}/")
    await expect(page.get_by_role("button", name="Reject all")).to_be_visible()
    await page.get_by_role("button", name="Reject all").click()
    await page.wait_for_timeout(300)
    assert requested(page, "/consent-forms.js") == []
    assert await page.evaluate("window.consentForms === undefined")
