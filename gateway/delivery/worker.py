"""The delivery worker: the I/O shell around `gateway.delivery.steps`.

    worker = DeliveryWorker(queue, store, rules, settings.delivery)
    await worker.start()          # one lane per forwarding vendor
    ...
    await worker.stop()           # stops taking; what is not delivered stays in the queue

Per vendor (a lane): at most `delivery_concurrency` requests in flight (each hit runs under
`async with` its slot), a circuit breaker, acknowledgements written in batches. Each hit's
next step comes from `next_step`; this module only does what it says. An entry is marked
`sending` once its connection is open, just before the first byte is written: a connect
error or a shutdown before writing leaves it to a normal retry (a shutdown releases it at
once), and only a request written whose answer was lost is `uncertain`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from gateway.delivery.consent_check import DeliveryConsent
from gateway.delivery.hit_shell import STORE_RETRY_SECONDS, HitShell
from gateway.delivery.lane import DeliveryCounts, Lane
from gateway.delivery.marks import SendingMarks
from gateway.delivery.protocols import protocol_of
from gateway.delivery.queue import HitQueue, Taken
from gateway.delivery.retry import CircuitBreaker
from gateway.delivery.sender import VendorSender
from gateway.delivery.slots import Slots
from gateway.delivery.steps import Ack, DeadLetter, EntryState, Release
from gateway.errors import StoreUnavailable
from gateway.model.outbound_hits import OutboundHit
from gateway.rules.model import Rule
from gateway.settings import DeliverySection
from gateway.store.base import Store

__all__ = ["DeliveryCounts", "DeliveryWorker"]

log = logging.getLogger("gateway.delivery")

IDLE_SECONDS = 0.05  # how long a lane with nothing to do waits before looking again
TAKE_AT_ONCE = 256


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class DeliveryWorker:
    def __init__(
        self,
        queue: HitQueue,
        store: Store,
        rules: Mapping[str, Rule],
        delivery: DeliverySection,
        *,
        sender: VendorSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue, self.store, self.delivery, self.clock = queue, store, delivery, clock
        self.concurrency = delivery.concurrency
        self.lease = delivery.lease_seconds
        self.consumer = consumer_name()
        self.sender = sender or VendorSender(
            delivery.timeout_seconds, max_idle_per_origin=self.concurrency
        )
        self.consent = DeliveryConsent(store.rights)
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
        self.shell = HitShell(queue, self.consent, self.sender, clock, self._stopping)

    def _lane(self, rule: Rule) -> Lane:
        assert rule.hit.upstream is not None
        protocol = protocol_of(rule.hit.upstream)
        max_age = self.delivery.max_age_seconds
        if protocol.max_age_seconds is not None:
            max_age = min(max_age, protocol.max_age_seconds)
        marks = SendingMarks(self.queue, rule.id, self.consumer, self.lease, self.clock)
        slots, breaker = Slots(self.concurrency), CircuitBreaker(clock=time.monotonic)
        return Lane(rule.id, rule, protocol, max_age, slots, breaker, marks)

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
        """Stop taking hits; requests in flight get until the deadline, then are abandoned.
        Written ones stay marked `sending` (never sent twice); the rest are released."""
        started = time.monotonic()
        self._stopping.set()
        await _finish(self._takers, 1.0)
        left = deadline_seconds - (time.monotonic() - started) - 1.0
        await _finish(list(self._sends), max(0.1, left))
        for lane in self.lanes.values():
            await lane.marks.settle()
            lane.ack_ready.set()
        renewer = [self._renewer] if self._renewer is not None else []
        await _finish([*self._ack_loops, *renewer], 1.0)
        for lane in self.lanes.values():
            if lane.held:
                try:
                    await self.queue.release(lane.vendor, self.consumer, list(lane.held))
                except Exception as error:  # best effort: else they come back after the lease
                    log.warning("delivery to %s: not released: %r", lane.vendor, error)
        await self.sender.close()

    # ------------------------------------------------------------ taking

    async def _take_loop(self, lane: Lane) -> None:
        while not self._stopping.is_set():
            try:
                if not await self._take_some(lane):
                    await self._pause(IDLE_SECONDS)
            except StoreUnavailable:
                await self._pause(STORE_RETRY_SECONDS)
            except Exception:
                log.exception("delivery to %s: a round failed", lane.vendor)
                await self._pause(STORE_RETRY_SECONDS)

    async def _take_some(self, lane: Lane) -> bool:
        state = lane.breaker.state
        if state == "open" or (state == "half_open" and lane.slots.used):
            await self._pause(max(IDLE_SECONDS, min(1.0, lane.breaker.wait_seconds())))
            return True
        most = 1 if state == "half_open" else min(TAKE_AT_ONCE, self.concurrency)
        async with lane.slots.reserve(most) as reserved:
            taken = await self.queue.take(
                lane.vendor, self.consumer, reserved.count, self.lease, self.clock()
            )
            if not taken:
                return False
            held = [t.entry_id for t in taken]
            lane.held.update(held)  # renewed from now on, however long the checks take
            if self._stopping.is_set():
                return True  # released with the rest by `stop`
            for entry, entry_state in await self._settle_without_sending(lane, taken):
                task = asyncio.create_task(
                    self.shell.deliver(lane, entry, entry_state, reserved.hand_over())
                )
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)
        return True

    async def _settle_without_sending(
        self, lane: Lane, taken: list[Taken]
    ) -> list[tuple[Taken, EntryState]]:
        """The first step of each taken entry, its consent checked in one batch: what needs no
        request is settled here; the rest are returned, to be sent."""
        states = {t.entry_id: _first_state(lane.rule, t) for t in taken}
        checked = [t for t in taken if t.hit is not None and states[t.entry_id].readable]
        reasons = await self.consent.withheld([t.hit for t in checked if t.hit], lane.rule)
        for entry, reason in zip(checked, reasons, strict=True):
            states[entry.entry_id] = replace(states[entry.entry_id], withheld=reason is not None)
        to_send: list[tuple[Taken, EntryState]] = []
        dead: dict[str, list[tuple[str, str]]] = {}
        done: list[str] = []
        for entry in taken:
            state = states[entry.entry_id]
            step = lane.step(state, None, self.clock())
            if isinstance(step, Ack):
                done.append(entry.entry_id)
            elif isinstance(step, DeadLetter):
                names = entry.hit.dead_letter() if entry.hit else "[]"
                dead.setdefault(step.reason, []).append((entry.entry_id, names))
            elif not isinstance(step, Release):
                to_send.append((entry, state))
        for reason, group in dead.items():
            await self.queue.dead_letter(lane.vendor, group, reason, self.clock())
            lane.counts.dead_lettered += len(group)
            lane.held.difference_update(i for i, _ in group)
        lane.acknowledge(done)
        return to_send

    # ------------------------------------------------------------ acknowledgements and leases

    async def _ack_loop(self, lane: Lane) -> None:
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
        await self.shell.pause(seconds)


def _first_state(rule: Rule, entry: Taken) -> EntryState:
    queued = entry.hit
    # Only a rule's upstream is ever contacted, whatever the store holds (a decided hit is
    # shaped for the rule's upstream; a request queued by an older release names its URL).
    if queued is None or (
        isinstance(queued.hit, OutboundHit) and not _names_upstream(rule, queued.hit.url)
    ):
        return EntryState(queued.queued_at if queued else 0.0, readable=False)
    return EntryState(queued.queued_at, maybe_sent=entry.maybe_sent)


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
