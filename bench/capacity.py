"""`python -m bench.capacity`: what one request costs Redis, for docs/scaling.md.

Starts a real redis-server (appendonly yes, appendfsync everysec) and `consent-gateway serve
--no-forwarder` (so queued hits stay queued and can be weighed), then drives three kinds of
requests through HTTP and reads Redis' own figures before and after each: `used_memory`
(bytes per receipt / queued hit / email event, indexes and counters included) and
`used_cpu_sys + used_cpu_user` (Redis CPU seconds per request: how many a shard can take).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.load import Load, run_wrk
from bench.setup import sample_agents
from tests.servers import RedisServer, free_port, redis_command, wait_until

REPO = Path(__file__).resolve().parents[1]
SECRET = "capacity-secret-key-0123456789abcdefghijkl"
TOKEN = "capacity-admin-token-0123456789abcdefghij"
SITE = "https://www.example.com"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
N = 3000
WRK_SECONDS = 8.0
CONNECTIONS = 64
THREADS = 8


def info(port: int, section: str) -> dict[str, str]:
    text = redis_command(port, "INFO", section)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def redis_figures(port: int) -> tuple[int, float]:
    memory = int(info(port, "memory")["used_memory"])
    cpu = info(port, "cpu")
    return memory, float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])


def measure(
    port: int, name: str, count: int, drive: Any, settle: Any = lambda: time.sleep(2)
) -> dict[str, Any]:
    memory, cpu = redis_figures(port)
    started = time.perf_counter()
    drive()
    wall = time.perf_counter() - started
    settle()
    memory_after, cpu_after = redis_figures(port)
    row = {
        "name": name,
        "count": count,
        "bytes": (memory_after - memory) / count,
        "cpu_us": (cpu_after - cpu) / count * 1e6,
        "client_rate": count / wall,
    }
    print(
        f"{name}: {row['bytes']:.0f} B each, {row['cpu_us']:.1f} µs Redis CPU each,"
        f" {row['client_rate']:.0f}/s from {THREADS} client threads",
        file=sys.stderr,
    )
    return row


def main() -> int:
    directory = Path(tempfile.mkdtemp(prefix="cg-capacity-"))
    redis = RedisServer(directory / "redis")
    redis.extra = ("--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "GATEWAY_SECRET_KEYS": SECRET,
        "GATEWAY_STORE": redis.url,
        "GATEWAY_DATA_DIR": str(directory / "var"),
        "XDG_STATE_HOME": str(directory / "state"),  # not the user's (gateway/data_dir.py)
        "GATEWAY_RULES": str(REPO / "tag_rules"),
        "GATEWAY_VENDORS": ",".join(p.stem for p in Path(REPO / "tag_rules").glob("*.toml")),
        "GATEWAY_PUBLIC_URL": base,
        "GATEWAY_ALLOWED_ORIGINS": SITE,
        "GATEWAY_ADMIN_TOKEN_HASHES": hashlib.sha256(TOKEN.encode()).hexdigest(),
        "GATEWAY_LOG_LEVEL": "warning",
    }
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--no-forwarder"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    http = httpx.Client(base_url=base, timeout=30, trust_env=False)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    try:
        wait_until(lambda: _ready(http), "the gateway", timeout=60)
        rows = []

        def choices() -> None:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(lambda _: _choose(http), range(N)))

        rows.append(measure(redis.port, "receipt (POST /consent)", N, choices))

        cookie = _choose(http)
        hit = (
            "/t/ga4?v=2&tid=G-TEST123&cid=555.666&dl=https%3A%2F%2Fwww.example.com%2F&en=page_view"
        )

        def hits() -> None:
            headers = {"Cookie": f"cg_consent={cookie}", "User-Agent": CHROME}
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(lambda _: http.get(hit, headers=headers), range(N)))

        rows.append(measure(redis.port, "queued hit (GET /t/ga4, consented)", N, hits))

        recipients = [f"esp-capacity-{n}" for n in range(20)]
        links = []
        for recipient in recipients:
            http.put(
                f"/api/subjects/{recipient}/consent",
                json={"granted": ["email_tracking"], "source": "capacity"},
                headers=admin,
            ).raise_for_status()
            signed = http.post(
                "/api/links",
                json={
                    "campaign": "capacity",
                    "recipient": recipient,
                    "urls": [f"https://www.example.com/{n}" for n in range(5)],
                    "sent_at": time.time() - 3600,
                },
                headers=admin,
            )
            links += [url.removeprefix(base) for url in signed.json()["click_urls"]]
        clicks = [links[n % len(links)] for n in range(2000)]

        def click_all() -> None:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(lambda path: http.get(path, headers={"User-Agent": CHROME}), clicks))

        def stored() -> int:
            return sum(
                len(http.get(f"/api/subjects/{r}", headers=admin).json()["email_events"])
                for r in recipients
            )

        # Events settle 12 s after the click; wait that out without asking Redis anything.
        rows.append(
            measure(
                redis.port,
                "email event (GET /c, consented)",
                2000,
                click_all,
                lambda: time.sleep(16),
            )
        )
        assert stored() == len(clicks), "not every email event was stored before the reading"
        agents = sample_agents(200)
        for name, method, path, cookie_value, body in (
            ("POST /consent", "POST", "/consent", "", '{"action":"accept_all"}'),
            ("GET /t/ga4 consented", "GET", hit, f"cg_consent={cookie}", ""),
        ):
            _, cpu = redis_figures(redis.port)
            load = Load(base, method, path, cookie_value, body, agents, CONNECTIONS)
            result = run_wrk(load, WRK_SECONDS, directory)
            _, cpu_after = redis_figures(redis.port)
            print(
                f"one worker, {name}: {result.rps:.0f} req/s (p50 {result.p50_ms:.1f} ms, p99"
                f" {result.p99_ms:.1f} ms, {result.errors} errors); Redis CPU"
                f" {(cpu_after - cpu) / max(result.requests, 1) * 1e6:.1f} µs per request",
                file=sys.stderr,
            )
        print("| what | bytes in Redis each | Redis CPU each (µs) |")
        print("|---|---:|---:|")
        for row in rows:
            print(f"| {row['name']} | {row['bytes']:.0f} | {row['cpu_us']:.1f} |")
    finally:
        http.close()
        server.terminate()
        server.wait(timeout=30)
        redis.stop()
    return 0


def _ready(http: httpx.Client) -> bool:
    try:
        return http.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


def _choose(http: httpx.Client) -> str:
    answer = http.post("/consent", json={"action": "accept_all"}, headers={"Origin": SITE})
    answer.raise_for_status()
    return re.sub(r"^\"|\"$", "", answer.cookies["cg_consent"])


if __name__ == "__main__":
    raise SystemExit(main())
