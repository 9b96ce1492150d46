"""The delivery state machine, table by table: every rule of `next_step` and its boundaries,
and the breaker's half-open single probe as the lanes apply it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from gateway.delivery.lane import Lane
from gateway.delivery.protocols import protocol_of
from gateway.delivery.retry import CircuitBreaker
from gateway.delivery.slots import Slots
from gateway.delivery.steps import (
    MIN_WAIT,
    Ack,
    Answer,
    Breaker,
    DeadLetter,
    EntryState,
    Release,
    RetryAt,
    Send,
    Step,
    Wait,
    next_step,
)

NOW = 10_000.0
AGE = 3600.0  # the maximum age in these tables
FRESH = EntryState(queued_at=NOW - 10)
CLOSED = Breaker()


def step(
    entry: EntryState = FRESH,
    answer: Answer | None = None,
    breaker: Breaker = CLOSED,
    rand: Callable[[], float] = lambda: 0.0,
) -> Step:
    return next_step(entry, answer, breaker, now=NOW, max_age=AGE, rand=rand)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (FRESH, Send()),
        (replace(FRESH, readable=False), DeadLetter("unreadable")),
        (replace(FRESH, readable=False, maybe_sent=True), DeadLetter("unreadable")),
        (replace(FRESH, maybe_sent=True), Ack("uncertain")),
        (replace(FRESH, maybe_sent=True, withheld=True), Ack("uncertain")),
        (replace(FRESH, withheld=True), Ack("withheld")),
        # Consent before age: an old hit whose consent went is dropped, not dead-lettered.
        (EntryState(NOW - AGE - 1, withheld=True), Ack("withheld")),
        (EntryState(NOW - AGE), Send()),  # exactly the maximum age: still sent
        (EntryState(NOW - AGE - 0.001), DeadLetter("expired")),
        (replace(FRESH, expiring=True), DeadLetter("expired")),
        (replace(FRESH, stopping=True), Release()),
        (replace(FRESH, stopping=True, withheld=True), Ack("withheld")),
        (EntryState(NOW - AGE - 1, stopping=True), DeadLetter("expired")),
    ],
)
def test_before_sending(entry: EntryState, expected) -> None:
    assert step(entry) == expected


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (Breaker("closed"), Send(probe=False)),
        (Breaker("open", wait_seconds=2.5), Wait(2.5)),
        (Breaker("open", wait_seconds=0.0), Wait(MIN_WAIT)),  # never a busy loop
        (Breaker("half_open"), Send(probe=True)),  # the single probe
        (Breaker("half_open", probing=True), Wait(MIN_WAIT)),  # the probe is out: wait
    ],
)
def test_the_breaker_gates_sending(breaker: Breaker, expected) -> None:
    assert step(breaker=breaker) == expected


def answered(status: int, retry_after: float | None = None) -> Answer:
    return Answer(status, retry_after=retry_after)


SENT = replace(FRESH, attempt=1)
PROBE = replace(SENT, probe=True)


@pytest.mark.parametrize(
    ("entry", "answer", "expected"),
    [
        (SENT, answered(200), Ack("delivered", "success")),
        (SENT, answered(204), Ack("delivered", "success")),
        (SENT, answered(302), Ack("delivered", "success")),  # redirects are never followed
        (SENT, answered(399), Ack("delivered", "success")),
        (SENT, answered(400), Ack("rejected", "success")),
        (SENT, answered(428), Ack("rejected", "success")),
        (SENT, answered(430), Ack("rejected", "success")),
        (SENT, answered(499), Ack("rejected", "success")),
        (SENT, answered(429), RetryAt(NOW + 0.25, False)),
        (SENT, answered(500), RetryAt(NOW + 0.25, False)),
        (SENT, answered(503, 30.0), RetryAt(NOW + 30.0, False)),  # Retry-After is a floor
        (SENT, Answer(how="not_written"), RetryAt(NOW + 0.25, False)),
        (replace(SENT, attempt=3), Answer(how="not_written"), RetryAt(NOW + 1.0, False)),
        (SENT, Answer(how="lost"), Ack("uncertain", "failure")),
        (PROBE, Answer(how="lost"), Ack("uncertain", "failure")),
        (SENT, Answer(how="refused"), Ack("rejected")),
        (PROBE, Answer(how="refused"), Ack("rejected", "end_probe")),
        (SENT, Answer(how="held"), Release()),
        (PROBE, Answer(how="held"), Release("end_probe")),
        (replace(SENT, readable=False), answered(200), DeadLetter("unreadable")),
    ],
)
def test_after_an_attempt(entry: EntryState, answer: Answer, expected) -> None:
    assert step(entry, answer) == expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        # The first backoff waits 0.25 s (rand 0): a wait ending at the maximum age is
        # taken; one ending past it is not (consent is checked, then the hit expires).
        (AGE - 0.25, RetryAt(NOW + 0.25, False)),
        (AGE - 0.2, RetryAt(NOW, True)),
    ],
)
def test_a_retry_that_would_outlive_the_maximum_age_expires_at_once(age: float, expected) -> None:
    entry = EntryState(NOW - age, attempt=1)
    assert step(entry, answered(503)) == expected
    assert step(replace(entry, expiring=True)) == DeadLetter("expired")


def test_backoff_grows_with_attempts_and_is_jittered() -> None:
    late = [step(replace(SENT, attempt=n), answered(503), rand=lambda: 1.0) for n in (1, 2, 8, 20)]
    assert late == [RetryAt(NOW + delay, False) for delay in (0.5, 1.0, 60.0, 60.0)]


def test_the_same_arguments_give_the_same_step() -> None:
    assert step(SENT, answered(503)) == step(SENT, answered(503))


# ---------------------------------------------------------------- the breaker, as lanes apply it


def lane_with(breaker: CircuitBreaker) -> Lane:
    marks = object()  # never used by `step`
    return Lane("ga4", None, protocol_of("https://x/g"), AGE, Slots(4), breaker, marks)  # type: ignore[arg-type]


def test_half_open_lets_exactly_one_probe_through_and_its_answer_decides() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, base_cooldown=1.0, clock=lambda: now[0])
    lane = lane_with(breaker)
    for _ in range(2):
        assert isinstance(lane.step(SENT, Answer(how="not_written"), NOW), RetryAt)
    assert breaker.state == "open"
    assert isinstance(lane.step(FRESH, None, NOW), Wait)
    now[0] = 1.0  # the cool-down is over: half-open
    first = lane.step(FRESH, None, NOW)
    assert first == Send(probe=True)
    breaker.probing = True  # what the shell does with a probe
    assert isinstance(lane.step(FRESH, None, NOW), Wait)  # a second hit waits for the probe
    # The probe fails: open again, the cool-down doubled.
    lane.step(PROBE, Answer(how="not_written"), NOW)
    assert (breaker.state, breaker.cooldown, breaker.probing) == ("open", 2.0, False)
    now[0] = 3.0
    assert lane.step(FRESH, None, NOW) == Send(probe=True)
    breaker.probing = True
    lane.step(PROBE, answered(204), NOW)  # the probe succeeds: closed, every hit flows
    assert (breaker.state, breaker.failures) == ("closed", 0)
    assert lane.step(FRESH, None, NOW) == Send(probe=False)
    assert lane.counts.delivered == 1


def test_a_probe_that_was_never_written_frees_the_probe() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, clock=lambda: now[0])
    breaker.record_failure()
    now[0] = 5.0
    lane = lane_with(breaker)
    assert lane.step(FRESH, None, NOW) == Send(probe=True)
    breaker.probing = True
    assert lane.step(PROBE, Answer(how="held"), NOW) == Release("end_probe")
    assert lane.step(FRESH, None, NOW) == Send(probe=True)  # another hit may probe


@pytest.mark.parametrize(("failures", "state"), [(4, "closed"), (5, "open")])
def test_the_breaker_opens_at_its_threshold(failures: int, state: str) -> None:
    breaker = CircuitBreaker(clock=lambda: 0.0)
    for _ in range(failures):
        breaker.record_failure()
    assert breaker.state == state


def test_cooldowns_double_up_to_their_ceiling() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, base_cooldown=1.0, max_cooldown=4.0, clock=lambda: now[0])
    breaker.record_failure()
    seen = []
    for _ in range(4):
        now[0] += breaker.cooldown
        assert breaker.allows()
        assert not breaker.allows()  # one probe per half-open
        breaker.record_failure()
        seen.append(breaker.cooldown)
    assert seen == [2.0, 4.0, 4.0, 4.0]


async def test_slots_bound_hits_in_flight_and_come_back_when_each_ends() -> None:
    slots = Slots(3)
    async with slots.reserve(10) as reserved:
        assert reserved.count == 3
        held = [reserved.hand_over(), reserved.hand_over()]
    assert slots.used == 2  # the third was never handed over: given back
    waiting = asyncio.ensure_future(slots.reserve(5).__aenter__())
    async with held[0]:
        pass
    async with held[1]:
        pass
    reservation = await asyncio.wait_for(waiting, 1.0)
    assert reservation.count == 3
    assert slots.used == 3
