"""Opens and clicks, recorded off the request path, in batches.

`/o` and `/c` call `opened` / `clicked`: a first verdict and an append to the current window
(`gateway.email.pending`: two numbers per event in arrays, each message kept once per window),
nothing else. Every `flush_seconds` a background task closes the window, shares its clicks
through the store (one script per batch, per slot on a Cluster) so a burst or a honeypot hit
is seen whichever instance or worker each click reached, and settles each window once its
neighbours are known (`SETTLE_SECONDS` after it closed): for the whole window at once, it
looks up the recipients' consent (cached), adds the per-campaign aggregates (`EventCounter`:
campaign × link × verdict × day) and writes per-recipient events for those who granted email
tracking. A settled window is kept a little longer, as the neighbours of the next ones.

Memory is bounded by design: at most `max_pending` events (`MAX_HELD`) are held in all windows
together (16 bytes each, plus one entry per distinct message and window); past that, new
events are dropped and counted in `dropped` (and `cg_email_events_dropped`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from contextlib import suppress
from itertools import chain, islice

from gateway.background import Repeating
from gateway.counting.counters import EventCounter
from gateway.email.pending import CLICK, FIRST_CODES, KINDS, MACHINE, OPEN, VERDICTS, EventWindow
from gateway.email.recipients import RecipientConsents
from gateway.email.tokens import ClickToken, OpenToken
from gateway.email.verdicts import (
    BURST_SECONDS,
    HONEYPOT_SECONDS,
    ClickTimes,
    MessageKey,
)
from gateway.errors import StoreUnavailable
from gateway.model.counts import EmailClick, EmailOpen, InvalidEmailLink
from gateway.model.email_events import EmailEvent, EventKind, Verdict, new_event_id
from gateway.model.visitors import AgentRole
from gateway.store.base import Store
from gateway.store.shared import Click, ClickSpan

log = logging.getLogger("gateway.email")

# The honeypot window, then one flush for another instance to share its clicks, one to settle.
SETTLE_SECONDS = HONEYPOT_SECONDS + 2.0
SETTLE_CHUNK = 500
SHARE_CHUNK = 2_000  # clicks per call that shares them through the store
# A settled window stays this long as the neighbours of later ones (a click is judged by the
# clicks up to the honeypot window before it).
_NEIGHBOUR_SECONDS = HONEYPOT_SECONDS + BURST_SECONDS
# Events held in all windows (waiting to settle, or kept as neighbours): about 25 s of events,
# so 12,000 a second before any is dropped; 16 bytes each plus the windows' message tables.
MAX_HELD = 300_000


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
        max_pending: int = MAX_HELD,
        clock: Callable[[], float] = time.time,
        on_verdict: Callable[[EventKind, Verdict, int], None] = lambda kind, verdict, n: None,
        on_drop: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.counter, self.consents = store, counter, consents
        self.aggregates_without_consent = aggregates_without_consent
        self.min_click_seconds = min_click_seconds
        self.flush_seconds, self.max_pending, self.clock = flush_seconds, max_pending, clock
        self.on_verdict = on_verdict  # told of every counted verdict (the Prometheus counter)
        self.on_drop = on_drop  # told of every event dropped at the limit
        self.dropped = 0
        self.held = 0  # events in all windows
        self._window = EventWindow(clock())  # the one events go into
        self._waiting: deque[EventWindow] = deque()  # closed, to be settled
        self._settled: deque[EventWindow] = deque()  # kept as neighbours
        self._unwritten: list[EmailEvent] = []  # per-recipient events the store refused, retried
        self._unshared: list[Click] = []  # clicks the store refused, shared at the next flush
        self._flusher = Repeating("email-events", flush_seconds, self.flush)

    # ------------------------------------------------------------ the hot path: memory only

    def opened(self, token: OpenToken, role: AgentRole) -> None:
        if self.held >= self.max_pending:
            self._drop()
            return
        self.held += 1
        self._window.add(token, self.clock(), 0, FIRST_CODES.open[role])  # the token is its key

    def clicked(self, token: ClickToken, role: AgentRole) -> None:
        if self.held >= self.max_pending:
            self._drop()
            return
        now = self.clock()
        if token.is_honeypot:
            code = CLICK | MACHINE
        elif now - token.sent_at < self.min_click_seconds:
            code = FIRST_CODES.early_click[role]
        else:
            code = FIRST_CODES.click[role]
        self.held += 1
        self._window.add((token.campaign, token.subject, token.sent_at), now, token.link, code)

    def invalid(self, kind: EventKind) -> None:
        self.counter.add(InvalidEmailLink(kind))

    def _drop(self) -> None:
        self.dropped += 1
        self.on_drop()

    def forget_subject(self, subject: str) -> None:
        """Drop what is held in memory for an erased subject (so nothing lands after erasure)."""
        for window in (self._window, *self._waiting, *self._settled):
            window.forget_subject(subject)
        same = self._window.same
        for message in [message for message in same if message[1] == subject]:
            del same[message]
        self._unwritten = [event for event in self._unwritten if event.subject_id != subject]
        self._unshared = [click for click in self._unshared if click.subject != subject]

    # ------------------------------------------------------------ the background: batches

    async def start(self) -> None:
        self._flusher.start()

    async def close(self) -> None:
        await self._flusher.stop()
        await self.flush(settle=False)

    async def flush(self, settle: bool = True) -> int:
        """Close the current window and share its clicks; settle the windows closed at least
        `SETTLE_SECONDS` ago (all of them with `settle=False`), count their events and store
        the consented ones. Returns how many events were settled."""
        now = self.clock()
        closed, self._window = self._window, EventWindow(now, self._window.same)
        closed.close(now)
        self._waiting.append(closed)
        await self._share_clicks(closed, now)
        settled = 0
        while self._waiting and (not settle or now - self._waiting[0].closed_at >= SETTLE_SECONDS):
            window = self._waiting.popleft()
            settled += await self._settle(window)
            self._settled.append(window)
        # Kept while a window still to settle may have a click near theirs.
        next_start = self._waiting[0].opened_at if self._waiting else now
        while self._settled and self._settled[0].closed_at < next_start - _NEIGHBOUR_SECONDS:
            self.held -= len(self._settled.popleft())
        if self._unwritten:
            await self._write_events()
        return settled

    async def _settle(self, window: EventWindow) -> int:
        shared = await self._shared_clicks(window)
        around = self._neighbours(window)
        granted = await self._granted(window)
        clicks: dict[MessageKey, ClickTimes] = {}  # built once per message and window
        counts: Counter[tuple[int, str, int, int]] = Counter()
        settled = 0
        for message, at, link, code in window.events():
            settled += 1
            if settled % SETTLE_CHUNK == 0:
                await asyncio.sleep(0)  # a big window must not hold up the requests being served
            campaign, subject, sent_at = message
            if self.consents.objects_to_tracking(subject):
                continue  # an objection: not even counted anonymously (as on `/t`)
            verdict = code & 3
            if code & CLICK and verdict != MACHINE:
                times = clicks.get(message)
                if times is None:
                    times = clicks[message] = ClickTimes(
                        [click for near in around for click in near.clicks_of(message)]
                        + shared.get(_message_name(message), [])
                    )
                if times.discounts(at):
                    verdict = MACHINE
            consented = subject in granted and at >= granted[subject]
            if consented or self.aggregates_without_consent:
                counts[(code & CLICK, campaign, link, verdict)] += 1
            if consented:
                self._unwritten.append(
                    EmailEvent(
                        event_id=new_event_id(),
                        subject_id=subject,
                        campaign=campaign,
                        kind=KINDS[code >> 2],
                        link=link,
                        verdict=VERDICTS[verdict],
                        sent_at=sent_at,
                        created_at=round(at, 3),
                    )
                )
        for (kind, campaign, link, verdict), number in counts.items():
            named = VERDICTS[verdict]
            self.on_verdict(KINDS[kind >> 2], named, number)
            if kind == OPEN:
                self.counter.add(EmailOpen(campaign, named), number)
            else:
                self.counter.add(EmailClick(campaign, str(link), named), number)
        return settled

    def _neighbours(self, window: EventWindow) -> list[EventWindow]:
        """The windows whose clicks may be near `window`'s: it, and those around it."""
        start = window.opened_at - _NEIGHBOUR_SECONDS
        end = window.closed_at + _NEIGHBOUR_SECONDS
        return [
            near
            for near in (*self._settled, window, *self._waiting)
            if near.closed_at >= start and near.opened_at <= end
        ]

    async def _granted(self, window: EventWindow) -> dict[str, float]:
        subjects = sorted(window.subjects())
        granted: dict[str, float] = {}
        for start in range(0, len(subjects), SETTLE_CHUNK):
            with suppress(StoreUnavailable):  # unknown consent is no consent
                granted |= await self.consents.granted_among(subjects[start : start + SETTLE_CHUNK])
        return granted

    async def _share_clicks(self, window: EventWindow, now: float) -> None:
        """Put the window's clicks (after any the store refused before) in the store, a
        `SHARE_CHUNK` at a time: what waits in memory for the call stays small."""
        backlog, self._unshared = self._unshared, []
        clicks = chain(
            backlog,
            (
                Click(_message_name(message), message[1], at, link)
                for message, found in window.clicks()
                for at, link in found
            ),
        )
        while batch := list(islice(clicks, SHARE_CHUNK)):
            try:
                await self.store.shared.add_clicks(batch, now)
            except StoreUnavailable:  # judged locally meanwhile; shared at the next flush
                self._unshared = [*batch, *islice(clicks, max(self.max_pending - len(batch), 0))]
                return

    async def _shared_clicks(self, window: EventWindow) -> dict[str, list[tuple[float, int]]]:
        """The clicks every instance shared for the messages of the clicks in `window`."""
        messages = {
            (_message_name(message), message[1])
            for message, at, link, code in window.events()
            if code & CLICK and code & 3 != MACHINE
        }
        if not messages:
            return {}
        try:
            return await self.store.shared.message_clicks(
                sorted(messages),
                ClickSpan(
                    window.opened_at - BURST_SECONDS,
                    window.closed_at + BURST_SECONDS,
                    window.opened_at - HONEYPOT_SECONDS,
                    window.closed_at + HONEYPOT_SECONDS,
                ),
            )
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
