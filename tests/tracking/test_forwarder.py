"""The background forwarder: bounded, counted, drains on close, talks only to the hit's URL."""

from __future__ import annotations

import pytest

from gateway.tracking.consent_mode import consent_mode_params
from gateway.tracking.forwarder import Forwarder
from gateway.tracking.hits import OutboundHit
from tests.servers import free_port
from tests.vendors import stand_in_vendor


def hit(url: str) -> OutboundHit:
    return OutboundHit("test", "GET", url, (("User-Agent", "consent-gateway"),))


async def test_a_full_queue_drops_and_counts_instead_of_waiting() -> None:
    forwarder = Forwarder(queue_size=3, workers=1)  # not started: nothing drains the queue
    accepted = [forwarder.submit(hit("http://127.0.0.1:9/x")) for _ in range(5)]
    assert accepted == [True, True, True, False, False]
    assert forwarder.dropped == 2


async def test_close_sends_what_is_queued() -> None:
    with stand_in_vendor() as vendor:
        forwarder = Forwarder(workers=2)
        await forwarder.start()
        for n in range(20):
            forwarder.submit(hit(f"{vendor.origin}/collect?n={n}"))
        await forwarder.close()
        assert sorted(int(dict(r.query)["n"]) for r in vendor.received) == list(range(20))
        assert forwarder.sent == 20


async def test_unreachable_and_failing_vendors_are_counted_not_raised() -> None:
    with stand_in_vendor() as vendor:
        vendor.status = 500
        forwarder = Forwarder(workers=1, timeout_seconds=1)
        await forwarder.start()
        forwarder.submit(hit(f"{vendor.origin}/collect"))
        forwarder.submit(hit(f"http://127.0.0.1:{free_port()}/nobody-listens"))
        await forwarder.close()
        assert (forwarder.sent, forwarder.failed) == (0, 2)


@pytest.mark.parametrize(
    ("granted", "chosen", "gcs", "gcd"),
    [
        (frozenset(), False, "G100", "11p1p1p1p5"),
        (frozenset({"necessary"}), True, "G100", "11q1q1q1q5"),
        (frozenset({"analytics"}), True, "G101", "11q1r1q1q5"),
        (frozenset({"marketing"}), True, "G110", "11r1q1r1r5"),
        (frozenset({"analytics", "marketing"}), True, "G111", "11r1r1r1r5"),
        (frozenset({"analytics", "marketing"}), False, "G111", "11t1t1t1t5"),
    ],
)
def test_consent_mode_parameters(granted, chosen, gcs, gcd) -> None:
    assert consent_mode_params(granted, chosen) == (("gcs", gcs), ("gcd", gcd))
