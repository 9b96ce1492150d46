"""The sender and the edge's appender: one request per hit, never twice on its own, and the
edge only appends to the queue in the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from gateway.decision import ConsentModeState
from gateway.delivery.queue import open_hit_queue
from gateway.delivery.sender import AnswerLost, NotSent, VendorSender
from gateway.errors import StoreUnavailable
from gateway.model.outbound_hits import OutboundHit
from gateway.settings import Settings
from gateway.store import open_store
from gateway.tracking.appender import HitAppender
from gateway.tracking.consent_mode import consent_mode_params
from tests.servers import free_port
from tests.vendors import stand_in_vendor


def hit(url: str) -> OutboundHit:
    return OutboundHit("test", "GET", url, (("User-Agent", "consent-gateway"),))


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
        sender = VendorSender()
        reply = await sender.send(
            OutboundHit(
                "t", "GET", f"{vendor.origin}/x", (("User-Agent", "evil\r\nX-Injected: 1\r\n"),)
            )
        )
        await sender.close()
        assert reply.status == 200
        (received,) = vendor.received
        assert "x-injected" not in received.headers
        assert received.headers["user-agent"] == "evilX-Injected: 1"


async def test_connections_are_kept_alive_and_reused() -> None:
    with stand_in_vendor() as vendor:
        sender = VendorSender()
        for n in range(5):
            assert (await sender.send(hit(f"{vendor.origin}/x?n={n}"))).status == 200
        assert len(sender._idle[("http", "127.0.0.1", vendor.server.server_address[1])]) == 1
        await sender.close()
        assert len(vendor.received) == 5


async def test_a_vendor_that_closes_every_connection_still_gets_every_hit_once() -> None:
    with stand_in_vendor() as vendor:
        vendor.extra_headers = {"Connection": "close"}
        sender = VendorSender()
        for n in range(4):
            assert (await sender.send(hit(f"{vendor.origin}/x?n={n}"))).status == 200
        await sender.close()
        assert [dict(r.query)["n"] for r in vendor.received] == ["0", "1", "2", "3"]


async def test_retry_after_is_read_from_the_answer() -> None:
    with stand_in_vendor() as vendor:
        vendor.status, vendor.extra_headers = 429, {"Retry-After": "7"}
        sender = VendorSender()
        reply = await sender.send(hit(f"{vendor.origin}/x"))
        await sender.close()
        assert (reply.status, reply.retry_after) == (429, "7")


async def test_nobody_listening_is_not_sent() -> None:
    sender = VendorSender(timeout_seconds=1)
    with pytest.raises(NotSent):
        await sender.send(hit(f"http://127.0.0.1:{free_port()}/nobody-listens"))


async def _serve(handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_lost_answer_is_never_resent_on_another_connection() -> None:
    """The old duplicate: a request written on a kept-alive connection the vendor then closed
    was sent again on a new one, though the vendor may have counted it."""
    requests: list[bytes] = []

    async def answer_once_then_swallow(reader, writer):
        first = True
        while data := await reader.read(65536):
            requests.append(data)
            if first:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                first = False
            else:
                writer.close()  # took the request, closed without an answer
                return

    server, port = await _serve(answer_once_then_swallow)
    sender = VendorSender()
    assert (await sender.send(hit(f"http://127.0.0.1:{port}/a"))).status == 204
    with pytest.raises(AnswerLost):
        await sender.send(hit(f"http://127.0.0.1:{port}/b"))
    await sender.close()
    server.close()
    assert len(requests) == 2  # /b went out once, and only once


async def test_a_connection_the_vendor_closed_while_idle_is_not_used() -> None:
    """Like nginx's keepalive_timeout: the vendor closes an idle connection; the next hit goes
    on a fresh connection instead of into the closed one."""
    connections: list[int] = []

    async def close_when_idle(reader, writer):
        connections.append(1)
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.1)
            except TimeoutError:
                writer.close()  # idle too long
                return
            if not data:
                return
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    server, port = await _serve(close_when_idle)
    sender = VendorSender()
    for n in range(3):
        assert (await sender.send(hit(f"http://127.0.0.1:{port}/x?n={n}"))).status == 204
        await asyncio.sleep(0.3)  # the vendor closes it meanwhile
    await sender.close()
    server.close()
    assert len(connections) == 3


async def test_garbage_and_huge_answers_are_handled() -> None:
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

    (garbage_server, garbage_port), (huge_server, huge_port) = [
        await _serve(handler) for handler in (garbage, huge)
    ]
    sender = VendorSender(timeout_seconds=2)
    with pytest.raises(AnswerLost):
        await sender.send(hit(f"http://127.0.0.1:{garbage_port}/x"))
    assert (await sender.send(hit(f"http://127.0.0.1:{huge_port}/x"))).status == 200
    assert not sender._idle.get(("http", "127.0.0.1", huge_port))  # not kept: oversized body
    await sender.close()
    garbage_server.close()
    huge_server.close()


async def test_the_edge_appends_to_the_store_in_batches(
    make_settings: Callable[..., Settings],
) -> None:
    queue_store = open_store(make_settings())
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    appender = HitAppender(queue, cap_per_vendor=3, clock=lambda: 1234.5)
    await appender.start()
    accepted = [appender.submit(hit(f"http://127.0.0.1:9/x?n={n}"), "c1") for n in range(5)]
    await appender.close()
    assert accepted == [True] * 5  # the visitor is answered at once either way
    assert (appender.counts["test"].queued, appender.counts["test"].overflowed) == (3, 2)
    hits = [t.hit for t in await queue.take("test", "w", 10, 5, now=2000.0) if t.hit]
    assert [q.queued_at for q in hits] == [1234.5] * 3
    assert {q.consent_id for q in hits} == {"c1"}
    await queue_store.close()


async def test_the_edge_keeps_hits_in_memory_while_the_store_is_down(make_settings) -> None:
    class Down:
        calls = 0

        async def append(self, hits, cap):
            Down.calls += 1
            raise StoreUnavailable("down")

    appender = HitAppender(Down(), buffer_limit=2)  # type: ignore[arg-type]
    await appender.start()
    accepted = [appender.submit(hit("http://127.0.0.1:9/x")) for _ in range(3)]
    assert accepted == [True, True, False]
    await asyncio.sleep(0)
    assert appender.buffered == 2
    await appender.close(deadline_seconds=0.2)
    assert appender.counts["test"].dropped == 3  # one refused, two lost at exit: all counted


async def test_a_vendor_appended_before_a_failure_is_not_appended_again(
    redis_single, make_settings: Callable[..., Settings]
) -> None:
    """Redis appends vendor by vendor (each its own slot): when B's append fails after A's
    succeeded, A's hits leave the buffer; B's stay and are appended once the store takes them."""
    import redis

    from gateway.store.hit_queue_layout import stream_key

    direct = redis.Redis(port=redis_single.port)
    direct.flushall()
    queue_store = open_store(make_settings(store=redis_single.url, delivery_shards=1))
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    appender = HitAppender(queue)
    direct.set(stream_key("b", 0), "not a stream")  # B's append fails (WRONGTYPE)
    for vendor in ("a", "a", "b", "b"):
        appender.submit(OutboundHit(vendor, "GET", "http://127.0.0.1:9/x", ()), "c1")
    with pytest.raises(StoreUnavailable):
        await appender.flush()
    assert appender.buffered == 2
    direct.delete(stream_key("b", 0))
    await appender.flush()
    depths = await queue.depths(["a", "b"])
    assert (depths["a"].depth, depths["b"].depth) == (2, 2)
    assert (appender.counts["a"].queued, appender.counts["b"].queued) == (2, 2)
    await queue_store.close()
    direct.close()


async def test_an_erased_subjects_hits_leave_the_edges_buffer(
    make_settings: Callable[..., Settings],
) -> None:
    queue_store = open_store(make_settings())
    await queue_store.open()
    queue = open_hit_queue(queue_store)
    appender = HitAppender(queue)  # not started: the hits wait in the buffer
    for subject in ("erased", "kept", "erased"):
        appender.submit(hit("http://127.0.0.1:9/x"), subject)
    appender.forget_subject("erased")
    await appender.flush()
    taken = await queue.take("test", "w", 10, 5, now=2000.0)
    assert [t.hit.consent_id for t in taken if t.hit] == ["kept"]
    await queue_store.close()
