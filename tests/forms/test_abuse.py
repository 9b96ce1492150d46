"""The gateway cannot be used to mail strangers: confirmation mails per address per day and per
client per hour, counted in the store (every instance sees the same), refusals counted; and the
webhook that hands the link to the site's mailer instead of SMTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.app import app_for, create_app
from gateway.forms.limits import OptInLimits
from gateway.runtime import Gateway
from gateway.settings import Settings
from gateway.store.base import Store
from tests.clocks import SteadyClock
from tests.conftest import SITE, serving
from tests.forms.test_form_flow import form_body
from tests.smtp import smtp_server
from tests.vendors import stand_in_vendor


async def test_limits_per_address_and_per_client_are_token_buckets(store: Store) -> None:
    limits = OptInLimits(store.shared, per_address_per_day=3, per_client_per_hour=5)
    now = time.time()
    assert [await limits.take("subject-a", "net-1", now) for _ in range(3)] == [None] * 3
    refused = await limits.take("subject-a", "net-1", now)
    assert refused is not None
    assert refused[0] == "address"
    assert refused[1] > 8 * 3600  # a third of a day (refill) and one more, in seconds
    assert await limits.take("subject-b", "net-1", now) is None  # the network's 5th mail
    refused = await limits.take("subject-c", "net-1", now)
    assert refused is not None
    assert refused[0] == "client"
    assert await limits.take("subject-c", "net-2", now) is None  # another network may
    # A day later the address may be mailed again.
    assert await limits.take("subject-a", "net-3", now + 86400 + 1) is None


async def test_the_limit_is_shared_by_every_instance(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with smtp_server() as smtp:
        settings = make_settings(
            smtp_url=smtp.url,
            mail_from="news@example.com",
            allow_insecure_upstreams=True,
            opt_in_per_address_per_day=2,
        )
        first, second = Gateway.build(settings), Gateway.build(settings)  # one store, two instances
        async with serving(app_for(first)) as one, serving(app_for(second)) as two:
            answers = []
            for http in (one, two, one, two):
                response = await http.post(
                    "/consent/forms", json=form_body(), headers={"Origin": SITE}
                )
                answers.append(response.status_code)
            assert answers == [201, 201, 429, 429]
            refused = await two.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
            assert refused.json()["error"] == "too_many_requests"
            assert int(refused.headers["retry-after"]) > 0
            await smtp.inbox.wait_for(2)
            await asyncio.sleep(0.2)
            assert smtp.inbox.count() == 2  # the refused ones sent nothing
            await first.counter.flush()
            await second.counter.flush()
            day = second.counter.today()
            counts = await second.store.counts.counts("form_refusal", day, day)
            assert {key.label: n for key, n in counts.items()} == {"address_limit": 3}
            receipts = await second.store.receipts.latest_receipts(10)
            assert len(receipts) == 2  # a refused submission records nothing: it may come again


async def test_a_flood_from_one_network_is_cut_off(make_settings: Callable[..., Settings]) -> None:
    with smtp_server() as smtp:
        settings = make_settings(
            smtp_url=smtp.url,
            mail_from="news@example.com",
            allow_insecure_upstreams=True,
            opt_in_per_client_per_hour=4,
        )
        async with serving(create_app(settings)) as http:
            statuses = [
                (
                    await http.post(
                        "/consent/forms",
                        json=form_body(f"person{n}@example.com"),
                        headers={"Origin": SITE},
                    )
                ).status_code
                for n in range(10)
            ]
            assert statuses == [201] * 4 + [429] * 6
            await smtp.inbox.wait_for(4)
            assert sorted(m["To"] for m in smtp.inbox.messages) == [
                f"person{n}@example.com" for n in range(4)
            ]


async def test_the_webhook_gets_the_signed_link_instead_of_a_mail(
    make_settings: Callable[..., Settings],
) -> None:
    with stand_in_vendor() as mailer:
        settings = make_settings(
            opt_in_webhook=f"{mailer.origin}/send-confirmation",
            allow_insecure_upstreams=True,
        )
        app = create_app(settings, clock=SteadyClock())
        async with serving(app) as http:
            response = await http.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
            assert response.status_code == 201
            deadline = time.monotonic() + 10
            while not mailer.received and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            [hit] = mailer.received
            assert (hit.method, hit.path) == ("POST", "/send-confirmation")
            sent = json.loads(hit.body)
            assert sent["to"] == "ada@example.com"
            assert sent["link"].startswith("http://127.0.0.1:8000/f/")
            assert sent["link"] in sent["text"]
            assert (sent["form"], sent["language"]) == ("contact", "en")
            confirm = sent["link"].removeprefix("http://127.0.0.1:8000")
            assert (await http.post(confirm)).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"smtp_url": "http://mail.example.com"}, "smtp_url"),
        ({"smtp_url": "smtp://mail.example.com:587"}, "mail_from"),
        ({"opt_in_webhook": "http://mailer.example.com/hook"}, "opt_in_webhook"),
        (
            {
                "smtp_url": "smtp://m.example.com",
                "mail_from": "a@example.com",
                "opt_in_webhook": "https://m.example.com/",
            },
            "opt_in_webhook",
        ),
        ({"opt_in_per_address_per_day": "0"}, "opt_in_per_address_per_day"),
        ({"opt_in_templates": "/no/such/folder"}, "opt_in_templates"),
    ],
)
def test_a_bad_mail_setting_stops_start_up_in_one_line(overrides: dict[str, str], key: str) -> None:
    from gateway.errors import ConfigError
    from gateway.settings import load_settings

    environ = {f"GATEWAY_{name.upper()}": value for name, value in overrides.items()}
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ)
    assert key in str(raised.value)
    assert "\n" not in str(raised.value)


async def test_operators_override_the_mail_template(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "confirm.en.txt").write_text(
        "Subject: Welcome to Example News\n\nClick {{ link }} ({{ hours }} h) for {{ purposes }}.\n"
    )
    with smtp_server() as smtp:
        settings = make_settings(
            smtp_url=smtp.url,
            mail_from="news@example.com",
            allow_insecure_upstreams=True,
            opt_in_templates=templates,
        )
        async with serving(create_app(settings)) as http:
            await http.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
            [mail] = await smtp.inbox.wait_for(1)
    assert mail["Subject"] == "Welcome to Example News"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Click http://127.0.0.1:8000/f/")
    assert "(48 h) for our newsletter and counting of opens and clicks." in text


async def test_an_unreachable_smtp_server_loses_the_mail_not_the_receipt(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    from tests.servers import free_port

    settings = make_settings(
        smtp_url=f"smtp://127.0.0.1:{free_port()}",
        mail_from="news@example.com",
        allow_insecure_upstreams=True,
    )
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    gateway.forms.outbox.retry_seconds = 0.01
    async with serving(app) as http:
        response = await http.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
        assert response.status_code == 201  # the form's answer never waits on the mail server
        outbox = gateway.forms.outbox
        deadline = time.monotonic() + 10
        while outbox.failed == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert (outbox.sent, outbox.failed) == (0, 1)
        ready = (await http.get("/readyz")).json()
        assert ready["opt_in_mails"]["failed"] == 1
        assert len(await gateway.store.receipts.latest_receipts(5)) == 1


async def test_starttls_is_required_unless_plain_text_was_allowed(
    make_settings: Callable[..., Settings],
) -> None:
    with smtp_server() as smtp:  # a server that offers no STARTTLS
        settings = make_settings(smtp_url=smtp.url, mail_from="news@example.com")
        gateway = Gateway.build(settings)
        app = app_for(gateway)
        gateway.forms.outbox.retry_seconds = 0.01
        async with serving(app) as http:
            response = await http.post("/consent/forms", json=form_body(), headers={"Origin": SITE})
            assert response.status_code == 201
            outbox = gateway.forms.outbox
            deadline = time.monotonic() + 10
            while outbox.failed == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert (outbox.sent, outbox.failed) == (0, 1)
        assert smtp.inbox.count() == 0  # the address never went over plain text
