"""A stand-in vendor for the benchmark: answers every hit with 204 and counts them per hit id.

Every hit the bench sends carries its own id in `rand` (a prefix per row, then 1, 2, 3 …).
`/stats` reports `received` (hits) and `unique` (distinct ids); `/stats?prefix=e1-&upto=N`
also counts, over the ids `e1-1` … `e1-N`, those that never arrived (`missing`) and those that
arrived more than once (`duplicated`, `extra` arrivals beyond the first). `/count` is how many
hits arrived. With `BENCH_VENDOR_DELAY_MS` set it waits that long before answering: a slow
upstream.

A raw ASGI app, not a framework's: the stand-in must stay the fastest part of any row.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

DELAY = float(os.environ.get("BENCH_VENDOR_DELAY_MS", "0")) / 1000
arrivals: Counter[str] = Counter()
received = 0


def _hit_id(query: bytes) -> str | None:
    for pair in query.split(b"&"):
        if pair.startswith(b"rand="):
            return pair[5:].decode("latin-1")
    return None


def stats(query: bytes) -> dict[str, int]:
    figures = {"received": received, "unique": len(arrivals)}
    params = parse_qs(query.decode("latin-1"))
    if "prefix" in params and "upto" in params:
        prefix, upto = params["prefix"][0], int(params["upto"][0])
        counts = [arrivals.get(f"{prefix}{n}", 0) for n in range(1, upto + 1)]
        figures["missing"] = counts.count(0)
        figures["duplicated"] = sum(1 for count in counts if count > 1)
        figures["extra"] = sum(count - 1 for count in counts if count > 1)
        figures["arrived"] = upto - figures["missing"]
    return figures


async def _answer(send: Send, status: int, body: bytes = b"", kind: bytes = b"") -> None:
    # A 204 has no body and no Content-Length (RFC 9110 §8.6), as Starlette answered before.
    headers = [] if status == 204 else [(b"content-length", str(len(body)).encode())]
    if kind:
        headers.append((b"content-type", kind))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global received
    if scope["type"] != "http":  # lifespan: nothing to open
        message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:  # the body, if any, is read and dropped
        more = (await receive()).get("more_body", False)
    path, query = scope["path"], scope["query_string"]
    if path == "/stats":
        await _answer(send, 200, json.dumps(stats(query)).encode(), b"application/json")
    elif path == "/count":
        await _answer(send, 200, str(received).encode(), b"text/plain")
    elif path == "/reset" and scope["method"] == "POST":
        received = 0
        arrivals.clear()
        await _answer(send, 204)
    else:
        received += 1
        hit = _hit_id(query)
        if hit is not None:
            arrivals[hit] += 1
        if DELAY:
            await asyncio.sleep(DELAY)
        await _answer(send, 204)
