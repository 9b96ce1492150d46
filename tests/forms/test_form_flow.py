"""Form consent over HTTP on a real app: `POST /consent/forms`, the confirmation mail through a
real SMTP server, `/f/{token}`, `/u/{token}` and the `/o` beacons they switch on and off."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import app_for, create_app
from gateway.email.identity import recipient_id, recipient_key
from gateway.model.receipts import Receipt
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.clocks import SteadyClock
from tests.conftest import SECRET, SITE, serving
from tests.smtp import SmtpServer, link_in, smtp_server

OWN_ORIGIN = "http://127.0.0.1:8000"
ADMIN = "admin-token-for-forms-tests-0123456789"
NEWSLETTER_LABEL = "Send me the monthly newsletter"
TRACKING_LABEL = "Tell the sender when I open it and which links I follow"


def form_body(
    address: str = "Ada@Example.com",
    *,
    newsletter: bool = True,
    tracking: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "form": "contact",
        "page": "/contact",
        "policy_revision": 1,
        "language": "en",
        "email": address,
        "purposes": [
            box("newsletter", NEWSLETTER_LABEL, newsletter),
            box("email_tracking", TRACKING_LABEL, tracking),
            box("marketing", "Call me about offers", False),
        ],
    }
    body.update(extra)
    return body


def box(purpose: str, label: str, ticked: bool, initially: bool = False) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "label": label,
        "language": "en",
        "ticked": ticked,
        "initially_checked": initially,
    }


def subject_of(address: str) -> str:
    return recipient_id(address, recipient_key((SECRET,)))


@dataclass
class Running:
    gateway: Gateway
    http: httpx.AsyncClient
    smtp: SmtpServer

    async def submit(self, body: Any, origin: str = SITE, **headers: str) -> httpx.Response:
        return await self.http.post(
            "/consent/forms", json=body, headers={"Origin": origin, **headers}
        )

    async def receipts(self, subject: str) -> list[Receipt]:
        return await self.gateway.store.receipts.subject_receipts(subject)

    async def confirmation_path(self, index: int = 0) -> str:
        mail = (await self.smtp.inbox.wait_for(index + 1))[index]
        return urlsplit(link_in(mail, OWN_ORIGIN + "/f/")).path

    async def opens_recorded(self, subject: str) -> int:
        links = self.gateway.email.signer.message(
            campaign="news-1", recipient=subject, sent_at=self.gateway.clock() - 3600
        )
        firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
        before = len(await self.gateway.store.email.email_events(subject))
        beacon = await self.http.get(urlsplit(links.open_url).path, headers={"User-Agent": firefox})
        assert beacon.status_code == 200
        await self.gateway.email.recorder.flush(settle=False)
        return len(await self.gateway.store.email.email_events(subject)) - before


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def running(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> AsyncIterator[Running]:
    settings = make_settings(
        smtp_url=smtp.url,
        mail_from="news@example.com",
        allow_insecure_upstreams=True,  # the test server speaks plain SMTP
        admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
    )
    gateway = Gateway.build(settings, SteadyClock())
    async with serving(app_for(gateway)) as http:
        yield Running(gateway, http, smtp)


async def test_a_form_without_opt_in_purposes_is_a_receipt_of_every_box(running: Running) -> None:
    body = form_body(newsletter=False, tracking=False)
    body["purposes"][2]["ticked"] = True  # marketing: no confirmation needed
    response = await running.submit(body)
    assert response.status_code == 201, response.text
    answer = response.json()
    subject = subject_of("ada@example.com")
    assert answer["subject_id"] == subject
    assert answer["granted"] == ["marketing"]
    assert answer["denied"] == ["email_tracking", "newsletter"]
    assert answer["awaiting_confirmation"] == []
    [receipt] = await running.receipts(subject)
    assert receipt.action == "form"
    assert receipt.form_id == "contact"
    assert receipt.subject_kind == "recipient"
    assert receipt.collection_point == f"{SITE}/contact"
    assert receipt.policy_revision == 1
    labels = {label.purpose: label for label in receipt.labels}
    assert labels["newsletter"].text == NEWSLETTER_LABEL
    assert labels["newsletter"].sha256 == hashlib.sha256(NEWSLETTER_LABEL.encode()).hexdigest()
    assert labels["newsletter"].ticked is False
    assert labels["marketing"].ticked is True
    assert "ada" not in receipt.to_json().lower()  # the address itself is never kept
    assert running.smtp.inbox.count() == 0


async def test_every_export_carries_the_labels(running: Running) -> None:
    assert (await running.submit(form_body(newsletter=False, tracking=False))).status_code == 201
    subject = subject_of("ada@example.com")
    auth = {"Authorization": f"Bearer {ADMIN}"}
    jsonl = await running.http.get("/api/receipts?format=jsonl", headers=auth)
    [row] = [json.loads(line) for line in jsonl.text.splitlines()]
    assert row["form_id"] == "contact"
    assert next(label["text"] for label in row["labels"]) == NEWSLETTER_LABEL
    csv_text = (await running.http.get("/api/receipts?format=csv", headers=auth)).text
    assert "labels" in csv_text.splitlines()[0]
    assert NEWSLETTER_LABEL in csv_text
    export = (await running.http.get(f"/api/subjects/{subject}", headers=auth)).json()
    assert NEWSLETTER_LABEL in json.dumps(export, ensure_ascii=False)


async def test_double_opt_in_grants_on_confirmation_and_one_click_unsubscribe_withdraws(
    running: Running,
) -> None:
    subject = subject_of("ada@example.com")
    response = await running.submit(form_body())
    assert response.status_code == 201, response.text
    assert response.json()["awaiting_confirmation"] == ["email_tracking", "newsletter"]
    assert response.json()["granted"] == []
    [mail] = await running.smtp.inbox.wait_for(1)
    assert mail["To"] == "ada@example.com"
    assert mail["From"] == "news@example.com"
    confirm = await running.confirmation_path()
    assert await running.opens_recorded(subject) == 0  # not before the address confirms

    page = await running.http.get(confirm)  # a GET (a scanner, a preview) changes nothing
    assert page.status_code == 200
    assert 'method="post"' in page.text
    assert await running.gateway.email.consents.state_of(subject) is None

    confirmed = await running.http.post(confirm, headers={"Origin": OWN_ORIGIN})
    assert confirmed.status_code == 200
    assert "confirmed" in confirmed.text
    receipts = await running.receipts(subject)
    assert [r.action for r in receipts] == ["form", "form_confirmed"]
    assert receipts[1].granted == ("email_tracking", "newsletter")
    assert receipts[1].form_id == "contact"
    assert await running.opens_recorded(subject) == 1

    replayed = await running.http.post(confirm, headers={"Origin": OWN_ORIGIN})
    assert replayed.status_code == 409
    assert len(await running.receipts(subject)) == 2  # nothing recorded twice

    headers = running.gateway.forms.unsubscribe_headers(subject)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = urlsplit(headers["List-Unsubscribe"].strip("<>")).path
    one_click = await running.http.post(
        unsubscribe,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert one_click.content == b""
    assert "set-cookie" not in one_click.headers
    last = (await running.receipts(subject))[-1]
    assert (last.action, last.denied) == ("unsubscribe", ("email_tracking", "newsletter"))
    assert await running.opens_recorded(subject) == 0  # at once


async def test_unsubscribe_page_speaks_the_recipients_language(running: Running) -> None:
    headers = running.gateway.forms.unsubscribe_headers(subject_of("ada@example.com"))
    path = urlsplit(headers["List-Unsubscribe"].strip("<>")).path
    page = await running.http.get(path, headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert page.status_code == 200
    assert "Отписаться" in page.text
    assert "script" not in page.text
    assert await running.receipts(subject_of("ada@example.com")) == []  # a GET changes nothing
    done = await running.http.post(
        path, data={"from": "page", "lang": "ru"}, headers={"Origin": OWN_ORIGIN}
    )
    assert done.status_code == 303
    assert "Вы отписались" in (await running.http.get(done.headers["location"])).text
    missing = await running.http.get("/u/not-a-token")
    assert missing.status_code == 404


async def test_the_confirmation_mail_is_russian_for_a_russian_form(running: Running) -> None:
    body = form_body("boris@example.ru", language="ru")
    assert (await running.submit(body)).status_code == 201
    [mail] = await running.smtp.inbox.wait_for(1)
    assert mail["Subject"] == "Подтвердите подписку"
    assert "рассылку" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    confirm = await running.confirmation_path()
    page = await running.http.get(confirm)
    assert 'lang="ru"' in page.text
    assert "Подтвердите подписку" in page.text
    done = await running.http.post(confirm)
    assert "Подписка подтверждена" in done.text


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"email": "not-an-address"}, 422, "unprocessable"),
        ({"email": "a@b"}, 422, "unprocessable"),
        ({"email": ""}, 422, "unprocessable"),  # a newsletter needs the address
        ({"purposes": [box("newsletter", "Yes", True, initially=True)]}, 422, "pre_ticked"),
        ({"purposes": [box("spam", "Yes", True)]}, 422, "unprocessable"),
        ({"purposes": [box("necessary", "Yes", True)]}, 422, "unprocessable"),
        ({"purposes": []}, 422, "unprocessable"),
        ({"form": "a b"}, 422, "unprocessable"),
        ({"page": "https://evil.example/"}, 422, "unprocessable"),
        ({"policy_revision": 7}, 409, "stale_policy"),
        ({"extra": 1}, 422, "unprocessable"),
    ],
)
async def test_bad_input_is_a_clear_4xx_and_records_and_sends_nothing(
    running: Running, change: dict[str, Any], status: int, error: str
) -> None:
    response = await running.submit(form_body() | change)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert await running.receipts(subject_of("ada@example.com")) == []
    assert running.smtp.inbox.count() == 0


async def test_a_pre_ticked_box_names_the_purpose_in_the_answer_and_the_log(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    body = form_body()
    body["purposes"][0]["initially_checked"] = True
    problem = (await running.submit(body)).json()
    assert problem["purposes"] == ["newsletter"]
    assert "active choice" in problem["detail"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "gateway.forms"]
    assert "pre-ticked box(es) for newsletter" in line
    assert "ada" not in line.lower()  # no personal data in the log


async def test_a_form_without_an_address_speaks_for_the_visitor(running: Running) -> None:
    chose = await running.http.post(
        "/consent", json={"action": "reject_all"}, headers={"Origin": SITE}
    )
    visitor = chose.json()["consent"]["id"]
    body = form_body("", newsletter=False, tracking=False)
    body["purposes"][2]["ticked"] = True
    answer = (await running.submit(body)).json()
    assert answer["subject_id"] == visitor  # their consent cookie went along
    [_, receipt] = await running.receipts(visitor)
    assert (receipt.action, receipt.subject_kind, receipt.granted) == (
        "form",
        "visitor",
        ("marketing",),
    )


async def test_another_sites_origin_is_refused(running: Running) -> None:
    response = await running.submit(form_body(), origin="https://evil.example")
    assert response.status_code == 403


async def test_a_filled_honeypot_is_answered_but_nothing_is_kept_or_sent(running: Running) -> None:
    response = await running.submit(form_body(honeypot="http://spam.example"))
    assert response.status_code == 200
    assert response.json()["receipt_id"] is None
    assert await running.receipts(subject_of("ada@example.com")) == []
    await running.gateway.counter.flush()
    day = running.gateway.counter.today()
    counts = await running.gateway.store.counts.counts("form_refusal", day, day)
    assert {key.label: n for key, n in counts.items()} == {"honeypot": 1}
    assert running.smtp.inbox.count() == 0


async def test_an_expired_or_forged_link_grants_nothing(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> None:
    from tests.clocks import FixedClock

    clock = FixedClock(SteadyClock()())
    settings = make_settings(
        smtp_url=smtp.url, mail_from="n@example.com", allow_insecure_upstreams=True
    )
    gateway = Gateway.build(settings, clock)
    async with serving(app_for(gateway)) as http:
        running = Running(gateway, http, smtp)
        assert (await running.submit(form_body())).status_code == 201
        confirm = await running.confirmation_path()
        clock.now += 48 * 3600 + 1
        expired = await http.post(confirm)
        assert expired.status_code == 410
        assert "expired" in expired.text
        assert (await http.get(confirm)).status_code == 410  # the page says so too
        assert (await http.get("/f/forged")).status_code == 404
        forged = await http.post(confirm[:-3] + "abc")
        assert forged.status_code == 404
        subject = subject_of("ada@example.com")
        assert [r.action for r in await running.receipts(subject)] == ["form"]
        assert await running.gateway.email.consents.state_of(subject) is None


async def test_without_a_mailer_opt_in_purposes_are_refused_clearly(
    make_settings: Callable[..., Settings],
) -> None:
    async with serving(create_app(make_settings())) as http:
        response = await http.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
    assert response.status_code == 422
    assert response.json()["error"] == "opt_in_unavailable"
    assert "GATEWAY_SMTP_URL" in response.json()["detail"]


async def test_the_form_script_is_served_with_its_settings(running: Running) -> None:
    response = await running.http.get("/consent-forms.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert '"endpoint": "http://127.0.0.1:8000/consent/forms"' in response.text
    assert '"revision": 1' in response.text
    assert "eval(" not in response.text
    assert "innerHTML" not in response.text
