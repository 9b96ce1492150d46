"""One hit, step by step: the I/O the state machine (`gateway.delivery.steps`) asks for.

The shell sends, waits, re-checks consent, dead-letters or acknowledges, then asks the
lane for the next step. It never decides; a slot is held (`async with`) from the first step
to the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from gateway.delivery.consent_check import DeliveryConsent
from gateway.delivery.lane import Lane
from gateway.delivery.queue import HitQueue, Taken
from gateway.delivery.retry import classify, retry_after_seconds
from gateway.delivery.sender import AnswerLost, Held, NotSent, SendError, VendorSender
from gateway.delivery.slots import Slot
from gateway.delivery.steps import Ack, Answer, DeadLetter, EntryState, Release, RetryAt, Send
from gateway.errors import StoreUnavailable
from gateway.model.outbound_hits import OutboundHit

log = logging.getLogger("gateway.delivery")
T = TypeVar("T")
STORE_RETRY_SECONDS = 0.5


class HitShell:
    def __init__(
        self,
        queue: HitQueue,
        consent: DeliveryConsent,
        sender: VendorSender,
        clock: Callable[[], float],
        stopping: asyncio.Event,
    ) -> None:
        self.queue, self.consent, self.sender = queue, consent, sender
        self.clock, self.stopping = clock, stopping

    async def deliver(self, lane: Lane, entry: Taken, state: EntryState, slot: Slot) -> None:
        assert entry.hit is not None
        queued = entry.hit
        hit = lane.protocol.with_event_time(queued.request(lane.rule), queued.queued_at)
        answer: Answer | None = None
        async with slot:
            try:
                while True:
                    step = lane.step(state, answer, self.clock())
                    if isinstance(step, Send):
                        if step.probe:
                            lane.breaker.probing = True
                        state = replace(state, attempt=state.attempt + 1, probe=step.probe)
                        lane.counts.retried += int(state.attempt > 1)
                        answer = await self.attempt(lane, entry.entry_id, hit)
                        continue
                    if not isinstance(step, Ack | DeadLetter | Release):  # Wait or RetryAt
                        wait = step.at - self.clock() if isinstance(step, RetryAt) else step.seconds
                        await self.pause(max(0.0, wait))
                        if isinstance(step, RetryAt):  # consent again, also before expiring
                            (reason,) = await self.persist(
                                self.consent.withheld, [queued], lane.rule
                            )
                            state = replace(state, withheld=reason is not None)
                            state = replace(state, expiring=step.expiring)
                        state, answer = replace(state, stopping=self.stopping.is_set()), None
                        continue
                    if isinstance(step, DeadLetter):
                        letter = [(entry.entry_id, queued.dead_letter())]
                        now = self.clock()
                        await self.persist(
                            self.queue.dead_letter, lane.vendor, letter, step.reason, now
                        )
                        lane.counts.dead_lettered += 1
                    elif isinstance(step, Ack):
                        lane.acknowledge([entry.entry_id])
                    if not (isinstance(step, Release) and self.stopping.is_set()):
                        lane.held.discard(entry.entry_id)  # else released by `stop`
                    return
            except StoreUnavailable as error:
                log.warning("delivery to %s: %s; the hit waits for its lease", lane.vendor, error)
                if not self.stopping.is_set():  # else released by `stop`
                    lane.held.discard(entry.entry_id)  # not renewed: back after its lease

    async def attempt(self, lane: Lane, entry_id: str, hit: OutboundHit) -> Answer:
        """One request; marked `sending` just before its first byte is written."""
        marked = False

        async def before_write() -> bool:
            nonlocal marked
            marked = not self.stopping.is_set() and await lane.marks.mark(entry_id)
            return marked

        try:
            reply = await self.sender.send(hit, before_write)
        except Held:
            return Answer(how="held")
        except NotSent:
            answer = Answer(how="not_written")
        except AnswerLost as error:
            log.info("delivery to %s: %s; not resent", lane.vendor, error)
            return Answer(how="lost")
        except SendError as error:
            log.warning("delivery to %s: %s", lane.vendor, error)
            return Answer(how="refused")
        else:
            after = reply.retry_after
            answer = Answer(
                reply.status,
                retry_after=retry_after_seconds(after, self.clock()) if after else None,
            )
            if classify(reply.status) != "retry":
                return answer
        if marked:  # the vendor certainly does not have it: a mark left would skip it
            await self.persist(self.queue.unmark_sending, lane.vendor, [entry_id])
        return answer

    async def persist(self, operation: Callable[..., Awaitable[T]], *arguments: Any) -> T:
        """A store call for a hit this worker holds: retried while the store is away (the
        lease is renewed meanwhile); `StoreUnavailable` only once the worker stops."""
        while True:
            try:
                return await operation(*arguments)
            except StoreUnavailable:
                if self.stopping.is_set():
                    raise
                await self.pause(STORE_RETRY_SECONDS)

    async def pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the worker stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
