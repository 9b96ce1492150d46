"""Delivery as a state machine: what to do next with one queued hit, decided without I/O.

The worker (`gateway.delivery.worker`) is the shell: it reads the entry's state, the vendor's
answer and the breaker, asks `next_step`, does what the step says, and asks again. Every
rule of delivery lives here, in order, so the table tests (tests/delivery/test_steps.py) pin
each one and each boundary:

| state / answer                                | step                                |
|-----------------------------------------------|-------------------------------------|
| unreadable, or not the rule's upstream        | dead-letter `unreadable`            |
| marked `sending` by a dead worker             | ack, `uncertain` (never sent twice) |
| consent gone since queued                     | ack, `withheld` (before expiry)     |
| older than the maximum age, or expiring       | dead-letter `expired`               |
| the worker is stopping                        | release (retaken at once, unmarked) |
| breaker open, or half-open with its probe out | wait for the breaker                |
| breaker half-open, no probe out               | send, as the single probe           |
| otherwise                                     | send                                |
| answer 2xx/3xx                                | ack `delivered`, breaker success    |
| answer 4xx other than 429                     | ack `rejected`, breaker success     |
| answer 429/5xx, or nothing written            | retry at now + backoff (or expire)  |
| written, answer lost                          | ack `uncertain`, breaker failure    |
| refused before connecting (a bad request)     | ack `rejected`                      |
| held back at the write (lease lost, stopping) | release                             |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gateway.delivery.retry import backoff_seconds, classify

BreakerState = Literal["closed", "open", "half_open"]
Fate = Literal["delivered", "rejected", "uncertain", "withheld"]


@dataclass(frozen=True, slots=True)
class EntryState:
    """What the shell knows of one entry before it asks for the next step."""

    queued_at: float
    readable: bool = True  # decoded, and its URL is the rule's upstream
    maybe_sent: bool = False  # a dead worker marked it `sending`
    withheld: bool = False  # the latest consent check says no
    attempt: int = 0  # requests tried so far
    expiring: bool = False  # the last backoff would outlive the maximum age
    stopping: bool = False
    probe: bool = False  # its last attempt was the breaker's half-open probe


@dataclass(frozen=True, slots=True)
class Breaker:
    """The vendor's circuit breaker as the machine sees it."""

    state: BreakerState = "closed"
    probing: bool = False  # half-open: its single probe is out
    wait_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Answer:
    """How the last attempt ended: a status, or one of the ways it did not get one."""

    status: int | None = None  # None: see `how`
    how: Literal["reply", "not_written", "lost", "refused", "held"] = "reply"
    retry_after: float | None = None  # seconds, from the vendor's Retry-After


@dataclass(frozen=True, slots=True)
class Send:
    probe: bool = False  # the breaker's single half-open probe


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


BreakerEffect = Literal["success", "failure", "end_probe", None]


@dataclass(frozen=True, slots=True)
class Ack:
    fate: Fate
    breaker: BreakerEffect = None  # `end_probe`: a probe that tells nothing frees the probe


@dataclass(frozen=True, slots=True)
class RetryAt:
    at: float
    expiring: bool  # waiting would outlive the maximum age: recheck consent, then expire
    breaker: Literal["failure"] = "failure"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: Literal["unreadable", "expired"]


@dataclass(frozen=True, slots=True)
class Release:
    breaker: BreakerEffect = None


Step = Send | Wait | Ack | RetryAt | DeadLetter | Release
MIN_WAIT = 0.05


def next_step(
    entry: EntryState,
    answer: Answer | None,
    breaker: Breaker,
    *,
    now: float,
    max_age: float,
    rand: Callable[[], float],
) -> Step:
    """The next step for one entry; `answer` is None before an attempt (first, or after a
    wait). Pure: the same arguments always give the same step."""
    if not entry.readable:
        return DeadLetter("unreadable")
    if answer is None:
        return _before_sending(entry, breaker, now, max_age)
    if answer.how == "lost":
        return Ack("uncertain", "failure")
    if answer.how == "refused":
        return Ack("rejected", _ended(entry))
    if answer.how == "held":
        return Release(_ended(entry))
    if answer.how == "reply" and answer.status is not None:
        verdict = classify(answer.status)
        if verdict != "retry":
            return Ack(verdict, "success")
    delay = backoff_seconds(max(1, entry.attempt), answer.retry_after, rand)
    expiring = now + delay - entry.queued_at > max_age
    return RetryAt(now if expiring else now + delay, expiring)


def _before_sending(entry: EntryState, breaker: Breaker, now: float, max_age: float) -> Step:
    if entry.maybe_sent:
        return Ack("uncertain")
    if entry.withheld:  # consent before age: a withheld hit is dropped, never dead-lettered
        return Ack("withheld")
    if entry.expiring or now - entry.queued_at > max_age:
        return DeadLetter("expired")
    if entry.stopping:
        return Release()
    if breaker.state == "open" or (breaker.state == "half_open" and breaker.probing):
        return Wait(max(MIN_WAIT, breaker.wait_seconds))
    return Send(probe=breaker.state == "half_open")


def _ended(entry: EntryState) -> BreakerEffect:
    return "end_probe" if entry.probe else None
