"""The delivery worker: takes queued hits per vendor, re-checks consent, sends, acknowledges.

    worker = DeliveryWorker(queue, store, rules, settings)
    await worker.start()          # one lane per forwarding vendor
    ...
    await worker.stop()           # stops taking; what is not delivered stays in the queue

Per vendor (a lane): at most `delivery_concurrency` requests in flight, a circuit breaker,
acknowledgements written in batches. An entry is marked `sending` in the store before its
request is written, so if this process dies the next worker knows not to send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.delivery.consent_check import DeliveryConsent
from gateway.delivery.policy import CircuitBreaker, backoff_seconds, classify, retry_after_seconds
from gateway.delivery.protocols import Protocol, protocol_of
from gateway.delivery.queue import HitQueue, QueuedHit, Taken
from gateway.errors import StoreUnavailable
from gateway.rules.model import Rule
from gateway.settings import Settings
from gateway.store.base import Store
from gateway.tracking.sender import AnswerLost, NotSent, SendError, VendorSender

log = logging.getLogger("gateway.delivery")
T = TypeVar("T")

IDLE_SECONDS = 0.05  # how long a lane with nothing to do waits before looking again
STORE_RETRY_SECONDS = 0.5


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retried: int = 0  # attempts after the first
    uncertain: int = 0  # written, answer lost: not resent (the vendor may have it)
    dead_lettered: int = 0
    rejected: int = 0  # a 4xx other than 429: the vendor refuses this hit for good
    withheld: int = 0  # erased, objected or withdrawn since the hit was queued


@dataclass
class _Lane:
    vendor: str
    rule: Rule
    protocol: Protocol
    max_age: float
    slots: asyncio.Semaphore
    breaker: CircuitBreaker
    counts: DeliveryCounts = field(default_factory=DeliveryCounts)
    held: set[str] = field(default_factory=set)
    acks: list[str] = field(default_factory=list)
    ack_ready: asyncio.Event = field(default_factory=asyncio.Event)
    inflight: int = 0


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class DeliveryWorker:
    def __init__(
        self,
        queue: HitQueue,
        store: Store,
        rules: Mapping[str, Rule],
        settings: Settings,
        *,
        sender: VendorSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue, self.store, self.settings, self.clock = queue, store, settings, clock
        self.concurrency = settings.delivery_concurrency
        self.lease = settings.delivery_lease_seconds
        self.consumer = consumer_name()
        self.sender = sender or VendorSender(
            settings.delivery_timeout_seconds, max_idle_per_origin=self.concurrency
        )
        self.consent = DeliveryConsent(store)
        self.lanes = {
            rule.id: self._lane(rule)
            for rule in rules.values()
            if rule.hit.mode == "forward" and rule.hit.upstream
        }
        self._takers: list[asyncio.Task[None]] = []
        self._ack_loops: list[asyncio.Task[None]] = []
        self._renewer: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def _lane(self, rule: Rule) -> _Lane:
        assert rule.hit.upstream is not None
        protocol = protocol_of(rule.hit.upstream)
        max_age = self.settings.delivery_max_age_seconds
        if protocol.max_age_seconds is not None:
            max_age = min(max_age, protocol.max_age_seconds)
        return _Lane(
            rule.id,
            rule,
            protocol,
            max_age,
            asyncio.Semaphore(self.concurrency),
            CircuitBreaker(clock=time.monotonic),
        )

    def counts(self) -> dict[str, DeliveryCounts]:
        return {vendor: lane.counts for vendor, lane in self.lanes.items()}

    def open_breakers(self) -> set[str]:
        """Vendors whose circuit breaker is not closed (cooling down, or letting a probe by)."""
        return {vendor for vendor, lane in self.lanes.items() if lane.breaker.state != "closed"}

    async def start(self) -> None:
        for lane in self.lanes.values():
            self._takers.append(
                asyncio.create_task(self._take_loop(lane), name=f"delivery-{lane.vendor}")
            )
            self._ack_loops.append(
                asyncio.create_task(self._ack_loop(lane), name=f"delivery-acks-{lane.vendor}")
            )
        self._renewer = asyncio.create_task(self._renew_loop(), name="delivery-renew")

    async def stop(self, deadline_seconds: float = 5.0) -> None:
        """Stop taking hits; requests in flight get until the deadline, then are abandoned
        (their entries stay in the queue: marked `sending` if written, so never sent twice)."""
        started = time.monotonic()
        self._stopping.set()
        await _finish(self._takers, 1.0)
        left = deadline_seconds - (time.monotonic() - started) - 1.0
        await _finish(list(self._sends), max(0.1, left))
        for lane in self.lanes.values():
            lane.ack_ready.set()
        renewer = [self._renewer] if self._renewer is not None else []
        await _finish([*self._ack_loops, *renewer], 1.0)
        await self.sender.close()

    # ------------------------------------------------------------ taking

    async def _take_loop(self, lane: _Lane) -> None:
        while not self._stopping.is_set():
            try:
                if not await self._take_some(lane):
                    await self._pause(IDLE_SECONDS)
            except StoreUnavailable:
                await self._pause(STORE_RETRY_SECONDS)
            except Exception:
                log.exception("delivery to %s: a round failed", lane.vendor)
                await self._pause(STORE_RETRY_SECONDS)

    async def _take_some(self, lane: _Lane) -> bool:
        state = lane.breaker.state
        if state == "open" or (state == "half_open" and lane.inflight):
            await self._pause(max(IDLE_SECONDS, min(1.0, lane.breaker.wait_seconds())))
            return True
        await lane.slots.acquire()  # at least one free slot
        free = 1
        while free < min(256, self.concurrency) and not lane.slots.locked():
            await lane.slots.acquire()
            free += 1
        if state == "half_open":
            for _ in range(free - 1):
                lane.slots.release()
            free = 1
        try:
            taken = await self.queue.take(
                lane.vendor, self.consumer, free, self.lease, self.clock()
            )
        except BaseException:
            for _ in range(free):
                lane.slots.release()
            raise
        for _ in range(free - len(taken)):
            lane.slots.release()
        if not taken:
            return False
        if self._stopping.is_set():  # leased, not marked: back to the queue after the lease
            for _ in taken:
                lane.slots.release()
            return True
        held = [t.entry_id for t in taken]
        lane.held.update(held)  # renewed from now on, however long the checks below take
        try:
            to_send = await self._settle_without_sending(lane, taken)
            marked = set()
            if to_send:
                # Only what this worker still holds: an entry whose lease ran out meanwhile
                # may be another worker's now.
                marked = set(
                    await self.queue.mark_sending(
                        lane.vendor,
                        self.consumer,
                        [t.entry_id for t in to_send],
                        self.lease,
                        self.clock(),
                    )
                )
        except BaseException:  # the store went away: they come back after their lease
            lane.held.difference_update(held)
            for _ in taken:
                lane.slots.release()
            raise
        sending = [t for t in to_send if t.entry_id in marked]
        lane.held.difference_update(held)
        lane.held.update(t.entry_id for t in sending)
        for _ in range(len(taken) - len(sending)):
            lane.slots.release()
        for entry in sending:
            lane.inflight += 1
            task = asyncio.create_task(self._deliver(lane, entry))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
        return True

    async def _settle_without_sending(self, lane: _Lane, taken: list[Taken]) -> list[Taken]:
        """Entries that must not be sent are finished here; the rest are returned. Consent
        comes before age: a withheld hit is dropped, never kept as a dead letter."""
        now = self.clock()
        dead: list[tuple[str, str, str]] = []
        done: list[str] = []
        candidates: list[tuple[Taken, QueuedHit]] = []
        for entry in taken:
            queued = entry.hit
            if queued is None:
                dead.append((entry.entry_id, "[]", "unreadable"))
            elif not _names_upstream(lane.rule, queued.hit.url):
                # Only a rule's upstream is ever contacted, whatever the store holds.
                dead.append((entry.entry_id, queued.dead_letter(), "unreadable"))
            elif entry.maybe_sent:
                lane.counts.uncertain += 1  # a dead worker may have sent it: never twice
                done.append(entry.entry_id)
            else:
                candidates.append((entry, queued))
        reasons = await self.consent.withheld([q for _, q in candidates], lane.rule)
        to_send = []
        for (entry, queued), reason in zip(candidates, reasons, strict=True):
            if reason is not None:
                lane.counts.withheld += 1
                done.append(entry.entry_id)
            elif now - queued.queued_at > lane.max_age:
                dead.append((entry.entry_id, queued.dead_letter(), "expired"))
            else:
                to_send.append(entry)
        for reason in ("unreadable", "expired"):
            group = [(i, names) for i, names, why in dead if why == reason]
            if group:
                await self.queue.dead_letter(lane.vendor, group, reason, now)
                lane.counts.dead_lettered += len(group)
        if done:
            self._acknowledge(lane, done)
        return to_send

    # ------------------------------------------------------------ sending one hit

    async def _deliver(self, lane: _Lane, entry: Taken) -> None:
        assert entry.hit is not None
        queued = entry.hit
        hit = lane.protocol.with_event_time(queued.hit, queued.queued_at)
        attempt = 1
        try:
            while True:
                if not lane.breaker.allows():
                    await self._pause(max(0.05, lane.breaker.wait_seconds()))
                    if self._stopping.is_set():
                        return
                    continue
                try:
                    reply = await self.sender.send(hit)
                except NotSent:
                    retry_after = None
                except AnswerLost as error:
                    lane.breaker.record_failure()
                    lane.counts.uncertain += 1
                    log.info("delivery to %s: %s; not resent", lane.vendor, error)
                    self._acknowledge(lane, [entry.entry_id])
                    return
                except SendError as error:
                    lane.counts.rejected += 1
                    log.warning("delivery to %s: %s", lane.vendor, error)
                    self._acknowledge(lane, [entry.entry_id])
                    return
                else:
                    verdict = classify(reply.status)
                    if verdict != "retry":
                        lane.breaker.record_success()
                        if verdict == "delivered":
                            lane.counts.delivered += 1
                        else:
                            lane.counts.rejected += 1
                        self._acknowledge(lane, [entry.entry_id])
                        return
                    retry_after = (
                        retry_after_seconds(reply.retry_after, self.clock())
                        if reply.retry_after
                        else None
                    )
                lane.breaker.record_failure()
                # The vendor certainly does not have it: clear the mark, however long the
                # store takes (a mark left behind would make the next worker skip the hit).
                await self._persist(self.queue.unmark_sending, lane.vendor, [entry.entry_id])
                delay = backoff_seconds(attempt, retry_after)
                expires = self.clock() + delay - queued.queued_at > lane.max_age
                if not expires:
                    await self._pause(delay)
                    if self._stopping.is_set():
                        return  # unmarked: the next worker sends it
                # Consent first, also for a hit about to expire: withheld is dropped.
                (reason,) = await self._persist(self.consent.withheld, [queued], lane.rule)
                if reason is not None:
                    lane.counts.withheld += 1  # withdrawn while it waited
                    self._acknowledge(lane, [entry.entry_id])
                    return
                if expires:
                    await self._persist(
                        self.queue.dead_letter,
                        lane.vendor,
                        [(entry.entry_id, queued.dead_letter())],
                        "expired",
                        self.clock(),
                    )
                    lane.counts.dead_lettered += 1
                    return
                marked = await self._persist(
                    self.queue.mark_sending,
                    lane.vendor,
                    self.consumer,
                    [entry.entry_id],
                    self.lease,
                    self.clock(),
                )
                if not marked:
                    return  # the lease ran out: another worker has it now
                attempt += 1
                lane.counts.retried += 1
        except StoreUnavailable as error:
            log.warning("delivery to %s: %s; the hit waits for its lease", lane.vendor, error)
        finally:
            lane.held.discard(entry.entry_id)
            lane.inflight -= 1
            lane.slots.release()

    async def _persist(self, operation: Callable[..., Awaitable[T]], *arguments: Any) -> T:
        """A store call for a hit this worker holds: retried while the store is away (the
        lease is renewed meanwhile); `StoreUnavailable` only once the worker stops."""
        while True:
            try:
                return await operation(*arguments)
            except StoreUnavailable:
                if self._stopping.is_set():
                    raise
                await self._pause(STORE_RETRY_SECONDS)

    # ------------------------------------------------------------ acknowledgements and leases

    def _acknowledge(self, lane: _Lane, entry_ids: list[str]) -> None:
        lane.acks += entry_ids
        lane.ack_ready.set()

    async def _ack_loop(self, lane: _Lane) -> None:
        while True:
            await lane.ack_ready.wait()
            lane.ack_ready.clear()
            while lane.acks:
                batch = lane.acks[:1000]
                try:
                    await self.queue.ack(lane.vendor, batch)
                except StoreUnavailable:
                    if self._stopping.is_set():
                        return  # they come back marked `sending`: counted uncertain, not resent
                    await asyncio.sleep(STORE_RETRY_SECONDS)
                    continue
                del lane.acks[: len(batch)]
            if self._stopping.is_set():
                return

    async def _renew_loop(self) -> None:
        while not self._stopping.is_set():
            await self._pause(self.lease / 3)
            for lane in self.lanes.values():
                if lane.held:
                    with contextlib.suppress(StoreUnavailable):
                        await self.queue.renew(
                            lane.vendor, self.consumer, list(lane.held), self.lease, self.clock()
                        )

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the worker stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _names_upstream(rule: Rule, url: str) -> bool:
    upstream = rule.hit.upstream or ""
    return url == upstream or url.startswith((upstream + "?", upstream + "/"))


async def _finish(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    """Let `tasks` end for `seconds`, then cancel what is left and wait for it."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
