"""One vendor's lane in the delivery worker: its slots, breaker, marks, counts, held entries
and pending acknowledgements; and how a state-machine step changes them."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from gateway.delivery.marks import SendingMarks
from gateway.delivery.protocols import Protocol
from gateway.delivery.retry import CircuitBreaker
from gateway.delivery.slots import Slots
from gateway.delivery.steps import Ack, Answer, Breaker, EntryState, Step, next_step
from gateway.rules.model import Rule


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retried: int = 0  # attempts after the first
    uncertain: int = 0  # written, answer lost: not resent (the vendor may have it)
    dead_lettered: int = 0
    rejected: int = 0  # a 4xx other than 429: the vendor refuses this hit for good
    withheld: int = 0  # erased, objected or withdrawn since the hit was queued


@dataclass
class Lane:
    vendor: str
    rule: Rule
    protocol: Protocol
    max_age: float
    slots: Slots
    breaker: CircuitBreaker
    marks: SendingMarks
    counts: DeliveryCounts = field(default_factory=DeliveryCounts)
    held: set[str] = field(default_factory=set)  # taken and not settled: renewed, released
    acks: list[str] = field(default_factory=list)
    ack_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def step(self, state: EntryState, answer: Answer | None, now: float) -> Step:
        """The machine's next step for one entry, its effect on the breaker and the counts
        applied (at once: no other hit runs between deciding and applying)."""
        breaker = self.breaker
        view = Breaker(breaker.state, breaker.probing, breaker.wait_seconds())
        step = next_step(state, answer, view, now=now, max_age=self.max_age, rand=random.random)
        effect = getattr(step, "breaker", None)
        if effect == "success":
            breaker.record_success()
        elif effect == "failure":
            breaker.record_failure()
        elif effect == "end_probe":
            breaker.probing = False
        if isinstance(step, Ack):
            setattr(self.counts, step.fate, getattr(self.counts, step.fate) + 1)
        return step

    def acknowledge(self, entry_ids: list[str]) -> None:
        """Settled: no longer held; deleted from the queue by the lane's ack loop."""
        if entry_ids:
            self.held.difference_update(entry_ids)
            self.acks += entry_ids
            self.ack_ready.set()
