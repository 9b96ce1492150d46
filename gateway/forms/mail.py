"""The double opt-in mail: written from a template, sent over SMTP or handed to a webhook.

Templates are plain text, one per language (`confirm.en.txt`, `confirm.ru.txt`), the first
line `Subject: …`, then a blank line and the body, with `{{ link }}`, `{{ form }}`,
`{{ purposes }}` and `{{ hours }}`. An operator overrides them with files of the same names in
`GATEWAY_OPT_IN_TEMPLATES`; a language without a template gets the English one.

`GATEWAY_SMTP_URL`: `smtps://user:password@host:465` (TLS from the start) or
`smtp://user:password@host:587` (STARTTLS, required; only with
`GATEWAY_ALLOW_INSECURE_UPSTREAMS` is a server without it used in plain text — tests and dev).
`GATEWAY_OPT_IN_WEBHOOK` instead POSTs `{"to", "subject", "text", "link", "form",
"language"}` as JSON to the site's mailer: its host comes from the settings only.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2

from gateway.delivery.sender import SendError, VendorSender
from gateway.errors import UpstreamError
from gateway.model.outbound_hits import OutboundHit

log = logging.getLogger("gateway.forms")
LANGUAGES = ("en", "ru")
PURPOSE_NAMES: Mapping[str, Mapping[str, str]] = {
    "en": {"newsletter": "our newsletter", "email_tracking": "counting of opens and clicks"},
    "ru": {"newsletter": "нашу рассылку", "email_tracking": "учёт открытий и переходов"},
}
_AND = {"en": " and ", "ru": " и "}


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    link: str
    form_id: str
    language: str


class MailError(UpstreamError):
    """The mail was not handed over (the server or the webhook refused or was unreachable)."""


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None: ...

    async def close(self) -> None: ...


class Templates:
    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("gateway.forms", "templates")]
        if override_dir is not None:
            loaders.insert(0, jinja2.FileSystemLoader(override_dir))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=False,  # noqa: S701 — plain-text mail, never HTML
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )

    def confirmation(
        self, *, to: str, link: str, form_id: str, purposes: tuple[str, ...], language: str
    ) -> Mail:
        lang = language.split("-", 1)[0].lower()
        lang = lang if lang in LANGUAGES else "en"
        names = PURPOSE_NAMES[lang]
        template = self._env.get_template(f"confirm.{lang}.txt")
        text = template.render(
            link=link,
            form=form_id,
            purposes=_AND[lang].join(
                names.get(p, p) for p in sorted(purposes, key=lambda p: (p != "newsletter", p))
            ),
            hours=48,
        )
        head, _, body = text.partition("\n\n")
        subject = head.removeprefix("Subject:").strip() if head.startswith("Subject:") else ""
        return Mail(to, subject or "Please confirm", body.lstrip("\n"), link, form_id, lang)


class SmtpMailer:
    def __init__(
        self,
        url: str,
        sender: str,
        *,
        allow_plain: bool = False,
        timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,  # certificates are always verified; tests pass a CA
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.implicit_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender, self.allow_plain, self.timeout = sender, allow_plain, timeout
        self.tls = tls or ssl.create_default_context()

    async def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message["Content-Language"] = mail.language
        message.set_content(mail.text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                # STARTTLS is required, unless plain text was allowed (then used if offered).
                start_tls=False if self.implicit_tls else (None if self.allow_plain else True),
                timeout=self.timeout,
                tls_context=self.tls,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailError(type(error).__name__) from None

    async def close(self) -> None:
        return None


class WebhookMailer:
    def __init__(self, url: str, sender: VendorSender) -> None:
        self.url, self.sender = url, sender

    async def send(self, mail: Mail) -> None:
        body = {
            "to": mail.to,
            "subject": mail.subject,
            "text": mail.text,
            "link": mail.link,
            "form": mail.form_id,
            "language": mail.language,
        }
        hit = OutboundHit(
            vendor="opt_in_webhook",
            method="POST",
            url=self.url,
            headers=(("Content-Type", "application/json"),),
            body=json.dumps(body, ensure_ascii=False).encode(),
        )
        try:
            reply = await self.sender.send(hit)
        except SendError as error:
            raise MailError(type(error).__name__) from None
        if not 200 <= reply.status < 300:
            raise MailError(f"the webhook answered {reply.status}")

    async def close(self) -> None:
        await self.sender.close()


class NoMailer:
    """Neither SMTP nor a webhook is configured: double opt-in purposes cannot be granted."""

    async def send(self, mail: Mail) -> None:
        raise MailError("no GATEWAY_SMTP_URL or GATEWAY_OPT_IN_WEBHOOK is configured")

    async def close(self) -> None:
        return None
