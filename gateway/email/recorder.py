"""Opens and clicks, recorded off the request path, in batches.

`/o` and `/c` call `opened` / `clicked`: a first verdict, an append to memory, nothing else.
Clicks are also shared through the store (in a batch every `flush_seconds`), so a burst or a
honeypot hit is seen whichever instance or worker each click reached.
A background task settles each event once its neighbours are known (`SETTLE_SECONDS`), then,
for a whole batch at once: looks up the recipients' consent (cached), adds the per-campaign
aggregates (`EventCounter`: campaign × link × verdict × day) and writes per-recipient events
for those who granted email tracking. Memory is bounded: past `max_pending` events, new ones
are dropped and counted in `dropped`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gateway.background import Repeating
from gateway.counting.counters import EventCounter
from gateway.email.recipients import RecipientConsents
from gateway.email.tokens import ClickToken, OpenToken
from gateway.email.verdicts import (
    HONEYPOT_SECONDS,
    ClickTimes,
    MessageActivity,
    MessageKey,
    first_verdict,
)
from gateway.errors import StoreUnavailable
from gateway.model.counts import EmailClick, EmailOpen, InvalidEmailLink
from gateway.model.email_events import EmailEvent, EventKind, Verdict, new_event_id
from gateway.model.visitors import AgentRole
from gateway.store.base import Store
from gateway.store.shared import Click

log = logging.getLogger("gateway.email")

# The honeypot window, then one flush for another instance to share its clicks, one to settle.
SETTLE_SECONDS = HONEYPOT_SECONDS + 2.0
SETTLE_CHUNK = 500


@dataclass(slots=True)
class _Seen:
    kind: EventKind
    campaign: str
    subject: str
    link: int
    sent_at: int
    at: float
    verdict: Verdict


class EmailRecorder:
    def __init__(
        self,
        store: Store,
        counter: EventCounter,
        consents: RecipientConsents,
        *,
        aggregates_without_consent: bool,
        min_click_seconds: float,
        flush_seconds: float = 1.0,
        max_pending: int = 200_000,
        clock: Callable[[], float] = time.time,
        on_verdict: Callable[[EventKind, Verdict], None] = lambda kind, verdict: None,
    ) -> None:
        self.store, self.counter, self.consents = store, counter, consents
        self.aggregates_without_consent = aggregates_without_consent
        self.min_click_seconds = min_click_seconds
        self.flush_seconds, self.max_pending, self.clock = flush_seconds, max_pending, clock
        self.on_verdict = on_verdict  # told of every counted verdict (the Prometheus counter)
        self.activity = MessageActivity()
        self.dropped = 0
        self._seen: deque[_Seen] = deque()
        self._unwritten: list[EmailEvent] = []  # per-recipient events the store refused, retried
        self._unshared: list[Click] = []  # clicks not yet in the store for the other instances
        self._flusher = Repeating("email-events", flush_seconds, self.flush)

    # ------------------------------------------------------------ the hot path: memory only

    def opened(self, token: OpenToken, role: AgentRole) -> None:
        now = self.clock()
        verdict = first_verdict(
            "open",
            role,
            seconds_after_send=now - token.sent_at,
            min_click_seconds=self.min_click_seconds,
        )
        self._keep(_Seen("open", token.campaign, token.subject, 0, token.sent_at, now, verdict))

    def clicked(self, token: ClickToken, role: AgentRole) -> None:
        now = self.clock()
        verdict: Verdict = "machine"
        if not token.is_honeypot:
            verdict = first_verdict(
                "click",
                role,
                seconds_after_send=now - token.sent_at,
                min_click_seconds=self.min_click_seconds,
            )
        message = (token.campaign, token.subject, token.sent_at)
        self.activity.note_click(message, now, token.link)
        if len(self._unshared) < self.max_pending:
            self._unshared.append(Click(_message_name(message), token.subject, now, token.link))
        self._keep(
            _Seen("click", token.campaign, token.subject, token.link, token.sent_at, now, verdict)
        )

    def invalid(self, kind: EventKind) -> None:
        self.counter.add(InvalidEmailLink(kind))

    def _keep(self, seen: _Seen) -> None:
        if len(self._seen) >= self.max_pending:
            self.dropped += 1
            return
        self._seen.append(seen)

    def forget_subject(self, subject: str) -> None:
        """Drop what is held in memory for an erased subject (so nothing lands after erasure)."""
        self._seen = deque(seen for seen in self._seen if seen.subject != subject)
        self._unwritten = [event for event in self._unwritten if event.subject_id != subject]
        self._unshared = [click for click in self._unshared if click.subject != subject]

    # ------------------------------------------------------------ the background: batches

    async def start(self) -> None:
        self._flusher.start()

    async def close(self) -> None:
        await self._flusher.stop()
        await self.flush(settle=False)

    async def flush(self, settle: bool = True) -> int:
        """Settle the events older than `SETTLE_SECONDS` (all of them with `settle=False`),
        count them and store the consented ones. Returns how many were settled."""
        now = self.clock()
        await self._share_clicks(now)
        ready: list[_Seen] = []
        while self._seen and (not settle or now - self._seen[0].at >= SETTLE_SECONDS):
            ready.append(self._seen.popleft())
        # The clicks shared by every instance, fetched once for the whole batch.
        shared = await self._shared_clicks(ready)
        windows: dict[MessageKey, ClickTimes] = {}  # built once per message and batch
        for start in range(0, len(ready), SETTLE_CHUNK):
            await self._settle(ready[start : start + SETTLE_CHUNK], shared, windows)
            await asyncio.sleep(0)  # a big batch must not hold up the requests being served
        self.activity.forget_before(now - 2 * SETTLE_SECONDS)
        if self._unwritten:
            await self._write_events()
        return len(ready)

    async def _settle(
        self,
        ready: list[_Seen],
        shared: dict[str, list[tuple[float, int]]],
        windows: dict[MessageKey, ClickTimes],
    ) -> None:
        try:
            granted = await self.consents.granted_among({seen.subject for seen in ready})
        except StoreUnavailable:
            granted = {}  # unknown consent is no consent
        for seen in ready:
            if self.consents.objects_to_tracking(seen.subject):
                continue  # an objection: not even counted anonymously (as on `/t`)
            verdict = seen.verdict
            if seen.kind == "click" and verdict != "machine":
                message = (seen.campaign, seen.subject, seen.sent_at)
                window = windows.get(message)
                if window is None:
                    window = windows[message] = ClickTimes(
                        [*self.activity.clicks_of(message), *shared.get(_message_name(message), ())]
                    )
                if window.discounts(seen.at):
                    verdict = "machine"
            consented = seen.subject in granted and seen.at >= granted[seen.subject]
            if consented or self.aggregates_without_consent:
                self.on_verdict(seen.kind, verdict)
                if seen.kind == "open":
                    self.counter.add(EmailOpen(seen.campaign, verdict))
                else:
                    self.counter.add(EmailClick(seen.campaign, str(seen.link), verdict))
            if consented:
                self._unwritten.append(
                    EmailEvent(
                        event_id=new_event_id(),
                        subject_id=seen.subject,
                        campaign=seen.campaign,
                        kind=seen.kind,
                        link=seen.link,
                        verdict=verdict,
                        sent_at=seen.sent_at,
                        created_at=round(seen.at, 3),
                    )
                )

    async def _share_clicks(self, now: float) -> None:
        if not self._unshared:
            return
        batch, self._unshared = self._unshared, []
        try:
            await self.store.shared.add_clicks(batch, now)
        except StoreUnavailable:
            self._unshared = batch[: self.max_pending] + self._unshared  # judged locally meanwhile

    async def _shared_clicks(self, ready: list[_Seen]) -> dict[str, list[tuple[float, int]]]:
        """The clicks every instance shared for the messages of the clicks in `ready`."""
        messages = {
            (_message_name((seen.campaign, seen.subject, seen.sent_at)), seen.subject)
            for seen in ready
            if seen.kind == "click" and seen.verdict != "machine"
        }
        if not messages:
            return {}
        try:
            return await self.store.shared.message_clicks(sorted(messages))
        except StoreUnavailable:
            return {}  # this process's own clicks still count

    async def _write_events(self) -> None:
        batch, self._unwritten = self._unwritten, []
        try:
            await self.store.email.add_email_events(batch)
        except StoreUnavailable:
            room = max(self.max_pending - len(self._unwritten), 0)
            self.dropped += max(len(batch) - room, 0)
            self._unwritten = batch[:room] + self._unwritten


def _message_name(message: MessageKey) -> str:
    campaign, subject, sent_at = message
    return f"{campaign}|{subject}|{sent_at}"
