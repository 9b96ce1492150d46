"""Replay of a big spool under load: peak RSS growth and POST /consent latency while it runs.

    .venv/bin/python -m bench.spool_replay [--receipts 125000] [--clients 4]

Starts a real redis-server (appendonly, everysec) and the gateway (one uvicorn worker), stops
Redis (an outage: the gateway spools), fills the spool with `--receipts` receipts (as a long
outage would), then starts Redis again while `--clients` visitors keep choosing. Reports how
long the replay took, the slowest and the 99th-percentile POST /consent from the moment Redis
is back until the spool is empty, and how much the server's peak RSS (VmHWM) grew over its RSS
before the outage. Run it from another checkout with
`PYTHONPATH=<checkout>` to compare before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from gateway.receipts.spool import ReceiptSpool
from tests.servers import RedisServer, free_port, wait_until
from tests.store.test_contract import receipt

SECRET = "bench-secret-key-0123456789abcdefghijklmnopq"
SITE = "https://www.example.com"
HEADERS = {
    "Origin": SITE,
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
}


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def fill_spool(directory: Path, count: int) -> None:
    """Append `count` receipts to the gateway's spool, as its own appends do (under the lock)."""
    spool = ReceiptSpool(directory / "receipts.spool")
    start = time.time() - 3600
    chunk = 5000
    for first in range(0, count, chunk):
        batch = [
            receipt(f"visitor-{n:012d}", at=round(start + n * 0.01, 3))
            for n in range(first, min(first + chunk, count))
        ]
        asyncio.run(spool.append(batch))


async def drive(base: str, clients: int, redis: RedisServer, data_dir: Path) -> dict[str, float]:
    latencies: list[float] = []
    done, back = asyncio.Event(), asyncio.Event()
    depth_seen, started = 0, 0.0

    async def visitor() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            while not done.is_set():
                http.cookies.clear()
                began = time.perf_counter()
                answer = await http.post("/consent", json={"action": "accept_all"}, headers=HEADERS)
                if back.is_set():
                    latencies.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text

    async def watch(http: httpx.AsyncClient) -> None:
        nonlocal depth_seen, started
        await asyncio.sleep(1.0)  # visitors choose during the outage: their receipts spool
        await asyncio.to_thread(redis.start)
        started = time.monotonic()
        back.set()
        while True:
            await asyncio.sleep(0.25)
            depth = (await http.get("/readyz")).json()["spool_depth"]
            depth_seen = max(depth_seen, depth)
            spool = data_dir / "receipts.spool"
            if depth == 0 and (not spool.exists() or spool.stat().st_size == 0):
                done.set()
                return

    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await asyncio.gather(watch(http), *(visitor() for _ in range(clients)))
    ordered = sorted(latencies)
    return {
        "replay_seconds": time.monotonic() - started,
        "posts": len(latencies),
        "max_ms": ordered[-1] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "p50_ms": statistics.median(ordered) * 1000,
        "depth_seen": depth_seen,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=125_000)
    parser.add_argument("--clients", type=int, default=4)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cg-bench-spool-"))
    redis = RedisServer(
        work / "redis", extra=("--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
    ).start()
    port = free_port()
    data_dir = work / "var"
    environment = {
        **os.environ,
        "GATEWAY_SECRET_KEYS": SECRET,
        "GATEWAY_STORE": redis.url,
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_ALLOWED_ORIGINS": SITE,
        "GATEWAY_SPOOL_REPLAY_SECONDS": "0.5",
        "GATEWAY_PURGE_INTERVAL_SECONDS": "0",
        "GATEWAY_LOG_LEVEL": "warning",
    }
    log = (work / "gateway.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(base), "the gateway", timeout=60)
        with httpx.Client(base_url=base) as http:
            for _ in range(200):  # warm up: imports, caches, connection pools
                http.cookies.clear()
                http.post("/consent", json={"action": "reject_all"}, headers=HEADERS)
        rss_before = memory_kib(server.pid, "VmRSS")
        hwm_before = memory_kib(server.pid, "VmHWM")
        redis.stop()
        with httpx.Client(base_url=base, timeout=30) as http:  # the gateway notices: it spools
            http.post("/consent", json={"action": "reject_all"}, headers=HEADERS)
        fill_spool(data_dir, options.receipts)
        figures = asyncio.run(drive(base, options.clients, redis, data_dir))
        hwm_after = memory_kib(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
        redis.stop()
    grown = max(hwm_after, hwm_before) - rss_before
    print(
        f"spool of {options.receipts} receipts, {options.clients} clients choosing meanwhile:\n"
        f"  replayed in {figures['replay_seconds']:.1f} s (depth seen {figures['depth_seen']:.0f})\n"
        f"  POST /consent during the replay: {figures['posts']:.0f} answered,"
        f" p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms,"
        f" max {figures['max_ms']:.1f} ms\n"
        f"  server peak RSS grew by {grown / 1024:.1f} MiB"
        f" (RSS before {rss_before / 1024:.1f} MiB, peak after {hwm_after / 1024:.1f} MiB)"
    )
    return 0


def _ready(base: str) -> bool:
    try:
        return httpx.get(base + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
