"""The delivery policy, stated exactly: what an answer means, how long to wait, when to stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from gateway.delivery.retry import (
    BASE_DELAY,
    MAX_DELAY,
    CircuitBreaker,
    backoff_seconds,
    classify,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (302, "delivered"),  # redirects are never followed: the vendor answered
        (399, "delivered"),
        (400, "rejected"),
        (404, "rejected"),
        (428, "rejected"),
        (429, "retry"),  # too many requests: later
        (430, "rejected"),
        (499, "rejected"),
        (500, "retry"),
        (503, "retry"),
        (599, "retry"),
    ],
)
def test_classify_boundaries(status: int, verdict: str) -> None:
    assert classify(status) == verdict


def test_the_base_and_the_cap_of_the_backoff() -> None:
    assert (BASE_DELAY, MAX_DELAY) == (0.5, 60.0)


@pytest.mark.parametrize(
    ("attempt", "shortest", "longest"),
    [
        (1, 0.25, 0.5),
        (2, 0.5, 1.0),
        (3, 1.0, 2.0),
        (7, 16.0, 32.0),
        (8, 30.0, 60.0),  # 64 s is over the cap: a minute at most
        (30, 30.0, 60.0),
    ],
)
def test_backoff_doubles_with_equal_jitter_up_to_a_minute(
    attempt: int, shortest: float, longest: float
) -> None:
    assert backoff_seconds(attempt, rand=lambda: 0.0) == shortest
    assert backoff_seconds(attempt, rand=lambda: 1.0) == longest
    assert backoff_seconds(attempt, rand=lambda: 0.5) == (shortest + longest) / 2


def test_backoff_jitter_comes_from_random_by_default() -> None:
    delays = {backoff_seconds(3) for _ in range(50)}
    assert all(1.0 <= d <= 2.0 for d in delays)
    assert len(delays) > 1


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (30.0, 30.0),  # a floor above the backoff wins
        (0.1, 0.5),  # below it, the backoff stands
        (0.0, 0.5),
        (600.0, 600.0),
        (601.0, 600.0),  # capped at ten minutes
        (86400.0, 600.0),
    ],
)
def test_retry_after_is_a_floor_capped_at_ten_minutes(retry_after: float, expected: float) -> None:
    assert backoff_seconds(1, retry_after=retry_after, rand=lambda: 1.0) == expected


NOW = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)  # a moment to count from, not today


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),  # past: now
        (format_datetime(NOW, usegmt=True), 0.0),
        ("Tue, 04 Mar 2031 05:06:07 -0000", None),  # "-0000": no known zone
        ("Tue, 04 Mar 2031 05:06:07", None),
        ("Tue, 41 Mar 2031 05:06:07 GMT", None),
    ],
)
def test_retry_after_seconds_reads_delta_seconds_and_http_dates(
    value: str, seconds: float | None
) -> None:
    assert retry_after_seconds(value, now=NOW.timestamp()) == seconds


def test_an_http_date_counts_from_now() -> None:
    date = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(date, now=NOW.timestamp() + 30) == 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def open_breaker(clock: Clock, threshold: int = 3) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold=threshold, base_cooldown=1.0, max_cooldown=8.0, clock=clock)
    for _ in range(threshold):
        breaker.record_failure()
    return breaker


def test_a_new_breaker_is_closed_and_lets_everything_through() -> None:
    breaker = CircuitBreaker(clock=Clock())
    assert breaker.state == "closed"
    assert [breaker.allows() for _ in range(3)] == [True, True, True]
    assert breaker.wait_seconds() == 0.0


def test_it_opens_at_the_threshold_not_before() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert (breaker.state, breaker.allows(), breaker.opened_at) == ("closed", True, None)
    breaker.record_failure()
    assert (breaker.state, breaker.allows()) == ("open", False)
    assert (breaker.opened_at, breaker.cooldown, breaker.failures) == (1000.0, 1.0, 3)


def test_the_defaults_five_failures_then_one_second_up_to_thirty() -> None:
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert (breaker.state, breaker.cooldown) == ("open", 1.0)
    for _ in range(6):  # each failed probe doubles the cool-down: 2, 4, 8, 16, 30, 30
        clock.now += breaker.cooldown
        assert breaker.allows()
        breaker.record_failure()
    assert breaker.cooldown == 30.0


def test_open_until_the_cooldown_is_over_to_the_instant() -> None:
    clock = Clock()
    breaker = open_breaker(clock)
    assert breaker.wait_seconds() == 1.0
    clock.now += 0.25
    assert (breaker.state, breaker.wait_seconds(), breaker.allows()) == ("open", 0.75, False)
    clock.now = 1000.0 + 1.0 - 1e-6
    assert (breaker.state, breaker.allows()) == ("open", False)
    clock.now = 1001.0
    assert (breaker.state, breaker.wait_seconds()) == ("half_open", 0.0)
    clock.now = 1005.0
    assert breaker.wait_seconds() == 0.0  # never negative


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    breaker = open_breaker(clock)
    clock.now += 1.0
    assert [breaker.allows() for _ in range(3)] == [True, False, False]
    assert breaker.state == "half_open"
    assert breaker.probing


def test_a_failed_probe_reopens_with_double_the_cooldown_up_to_the_cap() -> None:
    clock = Clock()
    breaker = open_breaker(clock)
    cooldowns = []
    for _ in range(5):
        clock.now += breaker.cooldown
        assert breaker.allows()
        breaker.record_failure()
        assert (breaker.state, breaker.opened_at, breaker.probing) == ("open", clock.now, False)
        assert not breaker.allows()
        cooldowns.append(breaker.cooldown)
    assert cooldowns == [2.0, 4.0, 8.0, 8.0, 8.0]


def test_a_successful_probe_closes_it_and_the_count_starts_again() -> None:
    clock = Clock()
    breaker = open_breaker(clock)
    clock.now += 1.0
    assert breaker.allows()
    breaker.record_success()
    assert (breaker.state, breaker.failures, breaker.opened_at) == ("closed", 0, None)
    assert (breaker.cooldown, breaker.probing) == (0.0, False)
    assert [breaker.allows() for _ in range(2)] == [True, True]
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert (breaker.state, breaker.cooldown) == ("open", 1.0)  # from the base again


def test_a_failure_while_open_does_not_extend_the_cooldown() -> None:
    """A hit already in flight when the breaker opened fails too: that is not a probe."""
    clock = Clock()
    breaker = open_breaker(clock)
    clock.now += 0.5
    breaker.record_failure()
    assert (breaker.opened_at, breaker.cooldown, breaker.failures) == (1000.0, 1.0, 4)
    clock.now = 1001.0
    assert breaker.allows()
