"""A real SMTP server for the suite (aiosmtpd, on a free port in its own thread): it keeps every
message it receives, and a test waits for one with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.servers import free_port


class Inbox:
    """What the server received; `handle_DATA` is aiosmtpd's hook."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    async def wait_for(self, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """For a test whose gateway runs in its own event loop: the outbox sends meanwhile."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s), got {self.count()}")
            await asyncio.sleep(0.02)
        with self._lock:
            return list(self.messages)

    def wait_for_blocking(self, count: int = 1, timeout: float = 15.0) -> list[EmailMessage]:
        """For a test whose gateway is another process (end-to-end)."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s), got {self.count()}")
            time.sleep(0.05)
        with self._lock:
            return list(self.messages)


class SmtpServer:
    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox, self.port = inbox, port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextlib.contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


def link_in(message: EmailMessage, prefix: str) -> str:
    """The first line of the mail's text that starts with `prefix` (the confirmation link)."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(prefix))
