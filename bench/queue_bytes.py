"""Bytes per queued hit in Redis (`MEMORY USAGE` of the vendor's stream / its entries), for
the request shapes of issue 22. Run alone (not part of `make bench`):

    .venv/bin/python -m bench.queue_bytes

An edge without a delivery worker takes each shape's requests, the stream is measured, then
flushed for the next shape. A shape the edge refuses (413) queues nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx
import redis

from gateway.app import app_for
from gateway.runtime import Gateway
from gateway.settings import Settings, from_keys
from tests.servers import RedisServer

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
TYPICAL = (
    "v=2&tid=G-ABCDEF1234&gtm=45je4b20v9&_p=1733560000000&cid=1234567890.1733560000"
    "&ul=en-us&sr=1920x1080&sid=1733560000&sct=3&seg=1"
    "&dl=https%3A%2F%2Fshop.example.com%2Fproducts%2Fwidget%3Futm_source%3Dnews"
    "&dr=https%3A%2F%2Fwww.example.org%2F&dt=Widget%20-%20Shop"
)
SHAPES = {
    # name: (query string, lines in the body, requests)
    "one GA4 hit, usual parameters": (TYPICAL, 0, 200),
    "GA4 batch of 10, usual parameters": (TYPICAL, 10, 20),
    "GA4 batch of 40, 5 KB shared": (TYPICAL + "&dt=" + "t" * 5000, 40, 5),
    "issue 22: batch of 50, 60 KB dt": (TYPICAL + "&dt=" + "t" * 60_000, 50, 40),
}


async def measure(settings: Settings, port: int) -> None:
    gateway = Gateway.build(settings)
    app = app_for(gateway)
    client = redis.Redis(port=port)
    headers = {"User-Agent": CHROME, "Content-Type": "text/plain"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://g.test") as http:
            consent = await http.post(
                "/consent",
                json={"granted": ["analytics"]},
                headers={"Origin": "https://www.example.com", "User-Agent": CHROME},
            )
            assert consent.status_code == 200, consent.text
            for name, (query, lines, requests) in SHAPES.items():
                body = "\n".join(f"en=e{n}&_et=12" for n in range(lines))
                statuses = set()
                for _ in range(requests):
                    method = "POST" if lines else "GET"
                    reply = await http.request(
                        method, f"/t/ga4/g/collect?{query}", content=body, headers=headers
                    )
                    statuses.add(reply.status_code)
                await gateway.appender.flush()
                key = "cg:hits:{hits.ga4.0}"
                entries = int(client.xlen(key))
                usage = int(client.memory_usage(key, samples=0) or 0)
                per_hit = f"{usage / entries:,.0f} B/hit" if entries else "nothing queued"
                print(
                    f"{name:38} status {sorted(statuses)}: {entries:5} hits, {usage:>12,} B, {per_hit}"
                )
                client.delete(key)
    client.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        server = RedisServer(Path(scratch) / "redis").start()
        try:
            settings = from_keys(
                secret_keys=("x" * 32,),
                store=server.url,
                data_dir=Path(scratch) / "var",
                forwarder=False,
                allowed_origins=("https://www.example.com",),
                policy_url="https://www.example.com/privacy",
                rules=Path(__file__).parent.parent / "tag_rules",
            )
            asyncio.run(measure(settings, server.port))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
