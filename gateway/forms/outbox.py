"""Confirmation mails waiting to be sent: a bounded queue in memory, sent by one task.

The form's answer never waits on the mail server. The address lives here only until its mail
is handed over (or given up after `ATTEMPTS`), then it is gone: the gateway stores no address.
At `MAX_WAITING` mails a new one is refused (the form gets 429 and may try again), counted in
`dropped`; mails given up are counted in `failed`. Both are in `/readyz` figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.forms.mail import Mail, Mailer, MailError

log = logging.getLogger("gateway.forms")
MAX_WAITING = 1000
ATTEMPTS = 3


class MailOutbox:
    def __init__(self, mailer: Mailer, retry_seconds: float = 5.0) -> None:
        self.mailer, self.retry_seconds = mailer, retry_seconds
        self.sent = self.failed = self.dropped = 0
        self._queue: asyncio.Queue[Mail] = asyncio.Queue(MAX_WAITING)
        self._task: asyncio.Task[None] | None = None

    def put(self, mail: Mail) -> bool:
        """Queue `mail`; False (and counted) when the outbox is full."""
        try:
            self._queue.put_nowait(mail)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="opt-in-outbox")

    async def close(self, deadline_seconds: float = 5.0) -> None:
        """Send what is waiting, for at most `deadline_seconds`; the rest is lost (counted)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline_seconds):
                await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self.dropped += self._queue.qsize()
        await self.mailer.close()

    async def _run(self) -> None:
        while True:
            mail = await self._queue.get()
            try:
                await self._deliver(mail)
            finally:
                self._queue.task_done()

    async def _deliver(self, mail: Mail) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self.mailer.send(mail)
            except MailError as error:
                log.warning("confirmation mail not sent (attempt %d): %s", attempt, error)
                if attempt < ATTEMPTS:
                    await asyncio.sleep(self.retry_seconds * attempt)
            except Exception:  # a mailer bug must not end the task: log it, keep going
                log.exception("confirmation mail failed")
                break
            else:
                self.sent += 1
                return
        self.failed += 1
