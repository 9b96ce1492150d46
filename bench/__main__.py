"""`make bench`: the hot paths measured against a bare GIF route of the same app, same run.

Starts a real redis-server (appendonly yes, appendfsync everysec), a stand-in vendor, and the
gateway with one uvicorn worker; drives each scenario with wrk on loopback (a Python async
load generator when wrk is missing) using user agents sampled by weight from the real browser
corpus; prints req/s, p50/p99 and the ratio to the baseline, and writes bench/RESULTS.md.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.load import Load, Result, run_python_load, run_wrk
from gateway.admin_auth import token_hash
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.email.links import EmailSigner
from tests.servers import RedisServer, free_port, wait_until
from tests.vendors import rules_pointing_at

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-key-0123456789abcdefghijklmnopq"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdefghijkl"
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
EMAIL_SETTLE_SECONDS = 13


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    cookie: str = ""
    body: str = ""
    target: float | None = None  # minimum ratio to the baseline


def sample_agents(count: int = 2000, seed: int = 7) -> list[str]:
    """User agents drawn by traffic weight from the real browser corpus."""
    rows = (REPO / "tests/data/browsers-intoli.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    agent, weight = header.index("user_agent"), header.index("weight")
    table = [line.split("\t") for line in rows[1:] if line]
    return random.Random(seed).choices(
        [row[agent] for row in table], weights=[float(row[weight]) for row in table], k=count
    )


def consent_cookie(*granted: str) -> str:
    codec = ConsentCodec((SECRET,), 180)
    consent = Consent(
        "benchvisitor0000000001", 1, frozenset({"necessary", *granted}), int(time.time())
    )
    return "cg_consent=" + codec.encode(consent)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    redis = RedisServer(
        work / "redis", extra=("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    )
    redis.start()
    vendor_port, gateway_port = free_port(), free_port()
    python = sys.executable
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            start(
                [
                    python,
                    "-m",
                    "uvicorn",
                    "bench.vendor:app",
                    "--port",
                    str(vendor_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                dict(os.environ),
                work / "vendor.log",
            )
        )
        rules = rules_pointing_at(
            REPO / "tag_rules", work / "rules", f"http://127.0.0.1:{vendor_port}"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(
            {
                "GATEWAY_SECRET_KEYS": SECRET,
                "GATEWAY_STORE": redis.url,
                "GATEWAY_RULES": str(rules),
                "GATEWAY_ALLOW_INSECURE_UPSTREAMS": "true",
                "GATEWAY_DATA_DIR": str(work / "var"),
                "GATEWAY_LOG_LEVEL": "warning",
                "GATEWAY_ADMIN_TOKEN_HASHES": token_hash(ADMIN_TOKEN),
            }
        )
        gateway = start(
            [
                python,
                "-m",
                "uvicorn",
                "bench.server:app",
                "--factory",
                "--port",
                str(gateway_port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
            ],
            env,
            work / "gateway.log",
        )
        processes.append(gateway)
        base = f"http://127.0.0.1:{gateway_port}"

        def ready() -> bool:
            if gateway.poll() is not None:
                raise SystemExit((work / "gateway.log").read_text())
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, "the gateway", timeout=30)
        agents = sample_agents()
        everyone = consent_cookie("analytics", "marketing")
        ga4 = "/t/ga4?v=2&tid=G-BENCH&cid=555.666&sid=1700000000&dl=https%3A%2F%2Fwww.example.com%2F&en=page_view"
        signer = EmailSigner((SECRET,), base)
        sent = time.time() - 3600
        email_open = urlsplit(
            signer.message(campaign="bench", recipient="esp-bench-no", sent_at=sent).open_url
        ).path
        target = "https://www.example.com/spring/collection?utm_source=email&c=1"
        consented = signer.message(campaign="bench", recipient="esp-bench-yes", sent_at=sent)
        email_click_consented = urlsplit(consented.click_url(target, 1)).path
        grant = httpx.put(
            f"{base}/api/subjects/esp-bench-yes/consent",
            json={"granted": ["email_tracking"], "source": "bench"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        grant.raise_for_status()
        scenarios = [
            Scenario("baseline: bare GIF route", "GET", "/bench/bare.gif"),
            Scenario("/t consented forward (ga4)", "GET", ga4, cookie=everyone, target=0.5),
            Scenario(
                "/t consented redirect (meta_pixel)",
                "GET",
                "/t/meta_pixel?id=1&ev=PageView",
                cookie=everyone,
                target=0.5,
            ),
            Scenario(
                "/t blocked (meta_pixel, no consent)",
                "GET",
                "/t/meta_pixel?id=1&ev=PageView",
                target=0.5,
            ),
            Scenario("/o email open (GIF, event batched)", "GET", email_open, target=0.5),
            Scenario(
                "/c email click, consented recipient (302)",
                "GET",
                email_click_consented,
                target=0.5,
            ),
            Scenario(
                "POST /consent (durable receipt)",
                "POST",
                "/consent",
                body='{"action":"accept_all"}',
            ),
        ]
        use_wrk = shutil.which("wrk") is not None
        results: list[tuple[Scenario, Result, float]] = []
        forwarding: list[tuple[int, int]] = []
        for scenario in scenarios:
            runner = run_wrk if use_wrk else run_python_load
            load = Load(
                base,
                scenario.method,
                scenario.path,
                scenario.cookie,
                scenario.body,
                agents,
                CONNECTIONS,
            )
            runner(load, 1.0, work)  # warm-up
            settle(vendor_port, base)
            before = readiness(base)["forwarder"]
            result = runner(load, SECONDS, work)
            results.append((scenario, result, current_rss_mib(gateway.pid)))
            if scenario.path.startswith(("/o/", "/c/")):
                time.sleep(EMAIL_SETTLE_SECONDS)  # opens and clicks are written ~11 s later
            settle(vendor_port, base)
            after = readiness(base)["forwarder"]
            forwarding.append(
                (
                    after["delivered"] - before["delivered"],
                    lost(after) - lost(before),
                )
            )

        receipts = int(redis_count(redis.port))
        vendor_hits = int(httpx.get(f"http://127.0.0.1:{vendor_port}/count").text)
        forwarder = readiness(base)["forwarder"]
        report = render(
            results,
            forwarding,
            use_wrk,
            peak_rss_mib(gateway.pid),
            receipts,
            vendor_hits,
            forwarder,
        )
        gateway.terminate()  # the delivery rows start their own processes
        stopping = time.monotonic()
        gateway.wait(60)
        print(f"gateway stopped {time.monotonic() - stopping:.1f} s after SIGTERM", file=sys.stderr)
        if os.environ.get("BENCH_DELIVERY", "1") != "0":
            report += "\n" + delivery_section(redis, work)
        print(report)
        (REPO / "bench" / "RESULTS.md").write_text(report)
        missed = [
            s.name for s, r, _ in results if s.target and r.rps / results[0][1].rps < s.target
        ]
        return 1 if missed else 0
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def delivery_section(redis: RedisServer, work: Path) -> str:
    from bench import delivery

    rows: list[delivery.Row | str] = []
    cookie = consent_cookie("analytics")
    redis_bytes = 0.0
    for delay in (0, delivery.SLOW_MS):
        print(f"delivery rows, upstream delay {delay} ms…", file=sys.stderr)
        drain, memory = delivery.drain_row(redis, work, delay)
        redis_bytes = redis_bytes or memory
        rows.append(drain)
        rows.append(delivery.edge_row(redis, work, delay, cookie, SECONDS, CONNECTIONS))
        rows.append(delivery.peer_row(work, delay, SECONDS, CONNECTIONS))
    return delivery.render(rows, redis_bytes, delivery.sqlite_bytes_per_hit(work))


def lost(counts: dict[str, int]) -> int:
    """Hits the edge could not queue: over the vendor's cap, or held in memory too long."""
    return counts["dropped"] + counts["overflowed"]


def readiness(base: str) -> dict[str, Any]:
    # A gateway busy delivering a backlog on a shared VM can take seconds to answer.
    answer: dict[str, Any] = httpx.get(f"{base}/readyz", timeout=60).json()
    return answer


def settle(vendor_port: int, base: str, quiet_seconds: float = 1.0, limit: float = 300.0) -> None:
    """Wait until the queue is empty and the vendor's count stops moving, so one scenario's
    background work (delivering its backlog) does not slow the next."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        totals = readiness(base)["forwarder"]
        if totals["depth"] == 0 and totals["buffered"] == 0:
            break
        time.sleep(0.5)
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = int(httpx.get(f"http://127.0.0.1:{vendor_port}/count", timeout=30).text)
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return
        time.sleep(0.2)


def redis_count(port: int) -> int:
    """Receipts durably stored: the sum of the per-day receipt sets."""
    import redis as redis_client

    client = redis_client.Redis(port=port, decode_responses=True)
    try:
        return sum(int(client.zcard(key)) for key in client.scan_iter("cg:receipts:*"))
    finally:
        client.close()


def render(
    results: list[tuple[Scenario, Result, float]],
    forwarding: list[tuple[int, int]],
    use_wrk: bool,
    peak_rss: float,
    receipts: int,
    vendor_hits: int,
    forwarder: dict[str, int],
) -> str:
    baseline = results[0][1].rps
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        f"Load: {'wrk' if use_wrk else 'Python async generator'}, {CONNECTIONS} connections, {SECONDS:.0f} s per scenario, "
        "user agents sampled by weight from the real browser corpus; gateway: one uvicorn worker (uvloop, httptools), "
        "Redis store with appendonly yes / appendfsync everysec.",
        "",
        "| scenario | req/s | p50 ms | p99 ms | × baseline | target | forwarded / dropped | RSS after (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (scenario, result, rss), (sent, dropped) in zip(results, forwarding, strict=True):
        ratio = result.rps / baseline if baseline else float("nan")
        target = (
            f"≥ {scenario.target}×"
            if scenario.target
            else ("≥ 2000/s" if scenario.method == "POST" else "—")
        )
        lines.append(
            f"| {scenario.name} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | {ratio:.2f} | {target} "
            f"| {sent:,} / {dropped:,} | {rss:.0f} |"
        )
    post = results[-1][1]
    lines += [
        "",
        f"Gateway peak RSS: {peak_rss:.0f} MiB. Non-2xx/3xx answers: {sum(r.errors for _, r, _ in results)}.",
        f"Receipts in Redis after the run: {receipts:,} (the POST /consent scenario answered {post.requests:,} requests, warm-up included separately).",
        f"Delivery over the whole run: {forwarder['delivered']:,} hits delivered (the stand-in vendor counted {vendor_hits:,}), "
        f"{forwarder['uncertain']:,} uncertain, {forwarder['rejected'] + forwarder['dead_lettered']:,} refused or dead-lettered, "
        f"{lost(forwarder):,} refused at the edge (queue cap or store down). "
        "Hits go through the durable queue in Redis: the visitor's answer does not wait for the vendor. "
        "The forward row's req/s is what visitors got; 'forwarded' is what reached the vendor in that scenario.",
        "",
        "Ratios compare scenarios within one run only: on a shared 2-core VM the baseline itself "
        "moves by tens of percent from one run to the next, and wrk shares the cores with the gateway.",
        "",
        "Run it: `make bench` (BENCH_SECONDS and BENCH_CONNECTIONS override the defaults).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
