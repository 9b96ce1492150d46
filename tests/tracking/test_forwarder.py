"""The background forwarder: bounded, counted, drains on close, talks only to the hit's URL."""

from __future__ import annotations

import pytest

from gateway.decision import ConsentModeState
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
    assert consent_mode_params(ConsentModeState.of(granted, updated=chosen)) == (
        ("gcs", gcs),
        ("gcd", gcd),
    )


async def test_a_user_agent_cannot_inject_headers() -> None:
    with stand_in_vendor() as vendor:
        forwarder = Forwarder(workers=1)
        await forwarder.start()
        forwarder.submit(
            OutboundHit(
                "t", "GET", f"{vendor.origin}/x", (("User-Agent", "evil\r\nX-Injected: 1\r\n"),)
            )
        )
        await forwarder.close()
        (received,) = vendor.received
        assert "x-injected" not in received.headers
        assert received.headers["user-agent"] == "evilX-Injected: 1"


async def test_connections_are_kept_alive_and_reused() -> None:
    with stand_in_vendor() as vendor:
        forwarder = Forwarder(workers=1)
        await forwarder.start()
        for n in range(5):
            forwarder.submit(hit(f"{vendor.origin}/x?n={n}"))
        await forwarder.queue.join()
        assert (
            len(forwarder.sender._idle[("http", "127.0.0.1", vendor.server.server_address[1])]) == 1
        )
        await forwarder.close()
        assert forwarder.sent == 5


async def test_a_vendor_that_closes_every_connection_still_gets_every_hit() -> None:
    with stand_in_vendor() as vendor:
        vendor.extra_headers = {"Connection": "close"}
        forwarder = Forwarder(workers=1)
        await forwarder.start()
        for n in range(4):
            forwarder.submit(hit(f"{vendor.origin}/x?n={n}"))
        await forwarder.close()
        assert (forwarder.sent, len(vendor.received)) == (4, 4)


async def test_garbage_and_huge_answers_are_handled() -> None:
    import asyncio

    async def garbage(reader, writer):
        await reader.read(1000)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        writer.close()

    async def huge(reader, writer):
        await reader.read(1000)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(200):
            writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(handler, "127.0.0.1", 0) for handler in (garbage, huge)]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    forwarder = Forwarder(workers=1, timeout_seconds=2)
    await forwarder.start()
    forwarder.submit(hit(f"http://127.0.0.1:{ports[0]}/x"))
    forwarder.submit(hit(f"http://127.0.0.1:{ports[1]}/x"))
    await forwarder.close()
    for server in servers:
        server.close()
    assert (forwarder.sent, forwarder.failed) == (1, 1)
    assert not forwarder.sender._idle.get(
        ("http", "127.0.0.1", ports[1])
    )  # not kept after an oversized body
