"""The dashboard's form figures after real form traffic: submissions (ticked and unticked boxes),
confirmations and unsubscribes per form and purpose, and the refusals."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from gateway.admin.form_figures import form_figures
from gateway.app import app_for
from gateway.model.counts import FormEvent, FormRefusal
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.admin.conftest import ADMIN, ADMIN_HASH, ORIGIN
from tests.admin.html_reading import log_in, row, tables
from tests.clocks import SteadyClock
from tests.conftest import SITE, serving
from tests.forms.test_form_flow import form_body, subject_of
from tests.smtp import link_in, smtp_server

DAY = "2026-03-05"


def test_the_panel_adds_up_each_form_and_purpose() -> None:
    events = {
        FormEvent("contact", "newsletter", "ticked").key(DAY): 5,
        FormEvent("contact", "newsletter", "unticked").key(DAY): 2,
        FormEvent("contact", "newsletter", "confirmed").key(DAY): 4,
        FormEvent("", "newsletter", "unsubscribed").key(DAY): 1,
    }
    refusals = {FormRefusal("honeypot").key(DAY): 3, FormRefusal("address_limit").key(DAY): 1}
    panel = form_figures(events, refusals)
    assert panel.table.rows == [
        ("contact · newsletter", 5, 2, 4, 0),
        ("(any form) · newsletter", 0, 0, 0, 1),
    ]
    assert panel.note == "Refused: address_limit 1, honeypot 3"
    assert "No submission" in form_figures({}, {}).note


async def test_the_dashboard_counts_real_submissions_confirmations_and_unsubscribes(
    make_settings: Callable[..., Settings],
) -> None:
    with smtp_server() as smtp:
        settings = make_settings(
            admin_token_hashes=(ADMIN_HASH,),
            public_url=ORIGIN,
            smtp_url=smtp.url,
            mail_from="news@example.com",
            allow_insecure_upstreams=True,
        )
        gateway = Gateway.build(settings, SteadyClock())
        app = app_for(gateway)
        async with serving(app) as http:
            for address in ("a@example.com", "b@example.com"):
                sent = await http.post(
                    "/consent/forms", json=form_body(address), headers={"Origin": SITE}
                )
                assert sent.status_code == 201
            unticked = form_body("c@example.com", newsletter=False, tracking=False)
            await http.post("/consent/forms", json=unticked, headers={"Origin": SITE})
            await http.post(
                "/consent/forms", json=form_body(honeypot="x"), headers={"Origin": SITE}
            )
            first = (await smtp.inbox.wait_for(2))[0]
            confirm = urlsplit(link_in(first, ORIGIN + "/f/")).path
            assert (await http.post(confirm)).status_code == 200
            subject = subject_of("a@example.com")
            one_click = gateway.forms.unsubscribe_headers(subject)["List-Unsubscribe"]
            await http.post(
                urlsplit(one_click.strip("<>")).path, content=b"List-Unsubscribe=One-Click"
            )
            await gateway.counter.flush()
            await log_in(http, ADMIN)
            page = (await http.get("/admin")).text
    assert row(page, "Consent forms", "contact · newsletter") == [
        "contact · newsletter",
        "2",
        "1",
        "1",
        "0",
    ]
    assert row(page, "Consent forms", "contact · email_tracking")[1:4] == ["2", "1", "1"]
    assert row(page, "Consent forms", "(any form) · newsletter")[4] == "1"
    assert "honeypot 1" in page
    assert "Consent forms" in tables(page)
