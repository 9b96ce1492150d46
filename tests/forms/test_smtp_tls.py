"""The confirmation mail over TLS, as every production mail server wants it: STARTTLS on a real
aiosmtpd that requires it, implicit TLS (`smtps://`), and a certificate nobody vouches for."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from gateway.forms.mail import Mail, MailError, SmtpMailer
from tests.delivery.test_sender_tls import make_ca
from tests.servers import free_port
from tests.smtp import Inbox

MAIL = Mail("ada@example.com", "Please confirm", "Open https://x.example/f/t\n", "", "c", "en")


@contextlib.contextmanager
def _server(inbox: Inbox, ca_dir: Path, *, implicit: bool) -> Iterator[tuple[int, Path]]:
    ca, certificate, key = make_ca(ca_dir, "Test mail CA")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    port = free_port()
    if implicit:
        controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    else:
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
        )
    controller.start()
    try:
        yield port, ca
    finally:
        controller.stop()


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, Inbox]]:
    inbox = Inbox()
    implicit = request.param == "implicit"
    with _server(inbox, tmp_path / "ca", implicit=implicit) as (port, ca):
        scheme = "smtps" if implicit else "smtp"
        yield f"{scheme}://localhost:{port}", ca, inbox


async def test_the_mail_goes_over_verified_tls(tls_server: tuple[str, Path, Inbox]) -> None:
    url, ca, inbox = tls_server
    mailer = SmtpMailer(url, "news@example.com", tls=ssl.create_default_context(cafile=str(ca)))
    await mailer.send(MAIL)
    [received] = await inbox.wait_for(1)
    assert received["To"] == "ada@example.com"
    assert received["Auto-Submitted"] == "auto-generated"


async def test_an_untrusted_certificate_gets_no_mail(tls_server: tuple[str, Path, Inbox]) -> None:
    url, _, inbox = tls_server
    mailer = SmtpMailer(url, "news@example.com")  # the system's CAs do not know the test CA
    with pytest.raises(MailError):
        await mailer.send(MAIL)
    await asyncio.sleep(0.1)
    assert inbox.count() == 0
