"""`make bench`: the gateway's hot paths against an honest baseline, in one run.

References, each in its own process: nginx `empty_gif` (skipped with a message when nginx is
absent) and a raw ASGI app on uvicorn; THE baseline is a bare Starlette app (one route, the same
43-byte GIF and headers, no middleware) in its own process. Every gateway scenario is measured
between two baseline measurements and its ratio uses their mean, so a VM that drifts during the
run moves both sides alike.

The gateway runs as users run it (`consent-gateway serve`, one worker, then two), on a real
redis-server (appendonly yes, appendfsync everysec), with `--no-forwarder`: the edge only
decides and appends to the durable queue, and no delivery work competes for the cores while
the edge is measured. Load: wrk, one thread, BENCH_CONNECTIONS (50) connections,
BENCH_SECONDS (10) per measurement, user agents sampled by weight from the real browser corpus.
After each measurement py-spy samples the gateway for BENCH_PROFILE_SECONDS (3, 0 to skip)
under the same load: the profile summary names where the time goes per route. Email rows
rotate over the links of 2,000 recipients (as a campaign's traffic does: no cache of one token
helps, no single message piles up thousands of clicks).

Then 1 vs 2 workers, then the delivery rows (bench/delivery.py; BENCH_DELIVERY=0 skips them):
Matomo hits end to end through `serve --workers 1` and `--workers 2` (delivery in-process, as
a site runs it) and through the peer, matomo-org/tracker-proxy (bench/peer.py), to the same
stand-in vendor, which counts every hit by its id. BENCH_SERVER=granian runs the baseline, the
raw ASGI reference and the gateway on granian instead of uvicorn (bench/servers.py).

Writes bench/RESULTS.md (everything above its hand-written marker), ending with every target
met or not met, and exits 1 if a target is missed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import profiling, references, servers
from bench.load import Load, Result, run_python_load, run_wrk
from bench.report import Row, Target, render, render_targets, row_target, write_results
from bench.setup import (
    ADMIN_TOKEN,
    SECRET,
    consent_cookie,
    redis_receipts,
    sample_agents,
    tree_rss_mib,
)
from gateway.admin_auth import token_hash
from gateway.email.links import EmailSigner
from tests.servers import RedisServer, free_port, wait_until
from tests.vendors import rules_pointing_at

REPO = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "50"))
PROFILE_SECONDS = float(os.environ.get("BENCH_PROFILE_SECONDS", "3"))
EMAIL_SETTLE_SECONDS = 13  # opens and clicks are written ~11 s after they happen
RECEIPTS_PER_SECOND = 5000  # per worker, durable
RECIPIENTS = 2000
EMAIL_OPEN = f"/o email open (GIF; {RECIPIENTS:,} recipients)"
EMAIL_CLICK = f"/c email click (302; {RECIPIENTS:,} recipients, 1 in 10 consented)"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    method: str = "GET"
    cookie: str = ""
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    paths: tuple[str, ...] = ()  # requests rotate over these (many recipients' links)
    target: float | None = None  # minimum ratio to the baseline
    receipts: bool = False  # POST /consent: count durable receipts/s
    settle: float = 0.0  # seconds of background work to wait out afterwards


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    rss_start: float = field(default=0.0)  # after the warm-up of the last measurement
    workers: int = 1


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.agents = sample_agents()
        self.runner = run_wrk if shutil.which("wrk") else run_python_load
        self.processes: list[subprocess.Popen[bytes]] = []
        self.rows: list[Row] = []
        self.notes: list[str] = []

    # -- processes ---------------------------------------------------------------------------

    def start(
        self, name: str, command: list[str], env: dict[str, str], port: int, cwd: Path = REPO
    ) -> Server:
        log = self.work / f"{name.replace(' ', '-')}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
            )
        self.processes.append(process)
        server = Server(name, f"http://127.0.0.1:{port}", process, log)

        def up() -> bool:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited:\n{log.read_text()}")
            try:
                httpx.get(server.base + "/", timeout=1)
                return True
            except httpx.TransportError:
                return False

        wait_until(up, name, timeout=60)
        return server

    def close(self, redis: RedisServer) -> None:
        """Every process the bench started, its Redis and its work folder: gone."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        redis.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def stop(self, server: Server) -> None:
        server.process.terminate()
        server.process.wait(timeout=20)

    def app_server(
        self, name: str, app: str, workers: int = 1, server: str = servers.SERVER
    ) -> Server:
        """`app` on the bench's ASGI server (uvicorn, or BENCH_SERVER)."""
        port = free_port()
        command = servers.app_command(app, port, workers, server=server)
        started = self.start(name, command, dict(os.environ), port)
        started.workers = workers
        return started

    def gateway(
        self, name: str, env: dict[str, str], workers: int, server: str = servers.SERVER
    ) -> Server:
        """The gateway as the edge only (`--no-forwarder`): it decides and appends."""
        port = free_port()
        data = Path(env["GATEWAY_DATA_DIR"])
        command, extra = servers.gateway_command(
            port, workers, data, forwarder=False, server=server
        )
        started = self.start(name, command, {**env, **extra}, port)
        started.workers = workers
        return started

    # -- measuring ---------------------------------------------------------------------------

    def load(self, server: Server, scenario: Scenario) -> Load:
        return Load(
            server.base,
            scenario.method,
            scenario.path,
            scenario.cookie,
            scenario.body,
            self.agents,
            CONNECTIONS,
            scenario.headers,
            scenario.paths,
        )

    def measure(
        self, server: Server, scenario: Scenario, receipts_port: int = 0
    ) -> tuple[Result, float | None]:
        """The scenario's figures after a 1 s warm-up; with `receipts`, also the receipts the
        store durably holds per second of the measured run (the warm-up's are not counted)."""
        load = self.load(server, scenario)
        self.runner(load, 1.0, self.work)  # warm-up: caches and connections
        server.rss_start = rss(server)[1]
        stored = redis_receipts(receipts_port) if scenario.receipts else 0
        result = self.runner(load, SECONDS, self.work)
        if not scenario.receipts:
            return result, None
        # Every request of the run got its answer once its receipt was durable: count them all.
        stored = redis_receipts(receipts_port) - stored
        return result, stored / (result.requests / result.rps)

    def profile(self, server: Server, scenario: Scenario) -> str:
        if PROFILE_SECONDS <= 0:
            return "skipped (BENCH_PROFILE_SECONDS=0)"
        output = self.work / "profile.txt"
        output.unlink(missing_ok=True)
        sampler = profiling.start(server.process.pid, PROFILE_SECONDS, output)
        self.runner(self.load(server, scenario), PROFILE_SECONDS, self.work)
        summary = profiling.finish(sampler, output)
        return summary if isinstance(summary, str) else summary.summary()

    def reference(self, server: Server, scenario: Scenario, role: str) -> Result:
        result, _ = self.measure(server, scenario)
        self.rows.append(Row(scenario.name, role, result, ratio=None, target=None, rss=rss(server)))
        return result

    def compared(
        self,
        server: Server,
        scenarios: list[Scenario],
        baseline: Server,
        baseline_scenario: Scenario,
        receipts_port: int,
    ) -> None:
        """Each scenario between two baseline measurements (B S1 B S2 B ...)."""
        before, _ = self.measure(baseline, baseline_scenario)
        baselines = [before.rps]
        for scenario in scenarios:
            result, receipts_rate = self.measure(server, scenario, receipts_port)
            profile = self.profile(server, scenario)
            if scenario.settle:
                time.sleep(scenario.settle)
            after, _ = self.measure(baseline, baseline_scenario)
            baselines.append(after.rps)
            ratio = result.rps / ((before.rps + after.rps) / 2)
            self.rows.append(
                Row(
                    scenario.name,
                    server.name,
                    result,
                    ratio=ratio,
                    target=scenario.target,
                    rss=rss(server),
                    profile=profile,
                    receipts_per_second=receipts_rate,
                    receipts_target=RECEIPTS_PER_SECOND * server.workers
                    if scenario.receipts
                    else None,
                )
            )
            print(self.rows[-1].line(), flush=True)
            before = after
        self.rows.append(
            Row(
                f"{baseline_scenario.name} (mean of {len(baselines)} alternated runs, "
                f"{min(baselines):,.0f}–{max(baselines):,.0f})",
                baseline.name,
                Result(sum(baselines) / len(baselines), before.p50_ms, before.p99_ms, 0, 0),
                ratio=1.0,
                target=None,
                rss=rss(baseline),
            )
        )


def rss(server: Server) -> tuple[float, float, float]:
    """(RSS at the start of the last measured run, RSS now, peak RSS) of the server, its
    workers included (the largest of them)."""
    now, peak = tree_rss_mib(server.process.pid)
    return server.rss_start or now, now, peak


def gateway_env(redis_url: str, rules: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        {
            "GATEWAY_SECRET_KEYS": SECRET,
            "GATEWAY_STORE": redis_url,
            "GATEWAY_RULES": str(rules),
            "GATEWAY_VENDORS": ",".join(p.stem for p in Path(rules).glob("*.toml")),
            "GATEWAY_ALLOW_INSECURE_UPSTREAMS": "true",
            "GATEWAY_DATA_DIR": str(data),
            # Its own state folder: the bench's throwaway data directories must not be
            # remembered as the user's gateway (gateway/data_dir.py), or `make run` refuses.
            "XDG_STATE_HOME": str(data.parent / "state"),
            "GATEWAY_LOG_LEVEL": "warning",
            "GATEWAY_ADMIN_TOKEN_HASHES": token_hash(ADMIN_TOKEN),
            # The edge rows append hundreds of thousands of hits: none may be refused at a cap.
            "GATEWAY_DELIVERY_QUEUE_CAP": "50000000",
        }
    )
    return env


def main() -> int:
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    redis = RedisServer(
        work / "redis", extra=("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    )
    redis.start()
    bench = Bench(work)
    delivered = ""
    try:
        vendor = bench.app_server("stand-in vendor", "bench.vendor:app")
        rules = rules_pointing_at(REPO / "tag_rules", work / "rules", vendor.base)
        pixel = Scenario("bare GIF route", references.PATH)

        if references.NGINX:
            port = free_port()
            config = references.nginx_config(work / "nginx", port)
            nginx = bench.start(
                "nginx", [references.NGINX, "-c", str(config), "-p", str(work / "nginx")], {}, port
            )
            bench.reference(nginx, Scenario("nginx empty_gif", references.PATH), "reference")
            bench.stop(nginx)
        else:
            bench.notes.append(
                "nginx row skipped: nginx is not installed (Debian: apt-get install nginx-light)."
            )
        raw = bench.app_server("raw ASGI", "bench.references:raw_asgi")
        bench.reference(
            raw, Scenario(f"raw ASGI app on {servers.SERVER}", references.PATH), "reference"
        )
        bench.stop(raw)

        baseline = bench.app_server("bare Starlette", "bench.references:bare_starlette")
        env = gateway_env(redis.url, rules, work / "var")
        gateway = bench.gateway("gateway", env, 1)
        scenarios, receipts_port = gateway_scenarios(gateway), redis.port
        bench.compared(gateway, scenarios, baseline, pixel, receipts_port)
        figures = httpx.get(gateway.base + "/readyz").json()
        bench.notes.append(
            f"Edge over the run (1 worker): {figures['forwarder'].get('queued', 0):,} hits appended "
            f"to the durable queue, {figures['forwarder'].get('overflowed', 0):,} refused at a cap, "
            f"{figures['forwarder'].get('dropped', 0):,} dropped."
        )
        bench.stop(gateway)

        bench.stop(baseline)

        # 1 vs 2 workers: the same routes, each side with two worker processes.
        baseline2 = bench.app_server("bare Starlette ×2", "bench.references:bare_starlette", 2)
        gateway2 = bench.gateway("gateway ×2", env, 2)
        two = [s for s in gateway_scenarios(gateway2) if s.name in TWO_WORKER_ROWS]
        bench.compared(gateway2, two, baseline2, pixel, receipts_port)
        bench.stop(gateway2)
        bench.stop(baseline2)
        bench.stop(vendor)
        # Delivery (issue 16): drain rows per forward process, the edge end to end and the
        # tracker-proxy peer; they start their own processes.
        delivered = ""
        if os.environ.get("BENCH_DELIVERY", "1") != "0":
            delivered, peer_target = delivery_section(redis, work)
        else:
            peer_target = Target(PEER_TARGET, PEER_WANTED, "not measured (BENCH_DELIVERY=0)", None)
    except BaseException:
        for log in work.glob("*.log"):  # what the servers said, before their folder goes
            print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-30:]))
        raise
    finally:
        bench.close(redis)

    targets = render_targets([*row_targets(bench.rows), peer_target])
    report = render(bench.rows, bench.notes, seconds=SECONDS, connections=CONNECTIONS)
    report += "\n" + delivered if delivered else ""
    report += "\n" + targets
    print(report)
    print(f"make bench took {(time.monotonic() - began) / 60:.1f} min", file=sys.stderr)
    write_results(REPO / "bench" / "RESULTS.md", report)
    missed = [row.name for row in bench.rows if row.missed()]
    missed += [peer_target.name] if peer_target.met is False else []
    if missed:
        print("targets missed: " + "; ".join(missed), file=sys.stderr)
    return 1 if missed else 0


PEER_TARGET = "end to end vs the peer, `serve --workers 2`, fast upstream"
PEER_WANTED = "≥ 2.0× tracker-proxy's delivered hits/s, none lost or duplicated"


def row_targets(rows: list[Row]) -> list[Target]:
    """The issue's targets for the routes, each read from its one-worker row."""
    return [
        row_target(name, rows, scenario, "gateway")
        for name, scenario in (
            ("/t blocked", BLOCKED),
            ("/t consented forward (enqueue)", CONSENTED),
            ("/o email open", EMAIL_OPEN),
            ("/c email click", EMAIL_CLICK),
            ("POST /consent, one worker", RECEIPT),
        )
    ]


def delivery_section(redis: RedisServer, work: Path) -> tuple[str, Target]:
    """The delivery rows, and the end-to-end target: the gateway with two workers against
    tracker-proxy (each row starts its own processes)."""
    from bench import delivery, peer

    rows: list[delivery.Row] = []
    cookie = consent_cookie("analytics")
    redis_bytes = 0.0
    checkout = peer.find()
    if isinstance(checkout, str):
        notes = [f"**Peer rows skipped**: {checkout}."]
        print(f"peer rows skipped: {checkout}", file=sys.stderr)
    else:
        notes = [f"Peer: {peer.UPSTREAM} at commit {checkout.commit}; {peer.versions()}."]
    for delay in (0, delivery.SLOW_MS):
        print(f"delivery rows, upstream delay {delay} ms…", file=sys.stderr)
        drain, memory = delivery.drain_row(redis, work, delay)
        redis_bytes = redis_bytes or memory
        rows.append(drain)
        for workers in (1, 2):
            # The target's row is profiled: where the time goes if it is missed.
            profile = PROFILE_SECONDS if workers == 2 and not delay else 0
            rows.append(
                delivery.edge_row(
                    redis, work, delay, cookie, SECONDS, CONNECTIONS, workers, profile
                )
            )
        if not isinstance(checkout, str):
            try:
                rows.append(delivery.peer_row(checkout, work, delay, SECONDS, CONNECTIONS))
            except (TimeoutError, OSError, subprocess.SubprocessError) as error:
                # The peer's failure is reported, never the end of the gateway's figures.
                checkout = f"tracker-proxy did not run ({error})"
                notes.append(f"**Peer rows skipped**: {checkout}.")
                print(f"peer rows skipped: {checkout}", file=sys.stderr)
    text = delivery.render(rows, notes, redis_bytes, delivery.sqlite_bytes_per_hit(work))
    edge = next(r for r in rows if r.kind == "edge" and r.workers == 2 and not r.delay_ms)
    ratio = delivery.peer_ratio(rows, edge)
    if ratio is None:
        why = checkout if isinstance(checkout, str) else "the peer delivered nothing"
        return text, Target(PEER_TARGET, PEER_WANTED, f"not measured: {why}", None)
    measured = (
        f"{ratio:.2f}× ({edge.delivered:,.0f} vs {edge.delivered / ratio:,.0f} hits/s), "
        f"{edge.lost:,} lost, {edge.counted.duplicated:,} duplicated"
    )
    met = ratio >= 2.0 and not edge.lost and not edge.counted.duplicated
    return text, Target(PEER_TARGET, PEER_WANTED, measured, met)


BLOCKED = "/t blocked (meta_pixel, no consent)"
CONSENTED = "/t consented forward = enqueue (ga4)"
RECEIPT = "POST /consent (durable receipt)"
TWO_WORKER_ROWS = {BLOCKED, RECEIPT}


def gateway_scenarios(gateway: Server) -> list[Scenario]:
    everyone = consent_cookie("analytics", "marketing")
    ga4 = (
        "/t/ga4?v=2&tid=G-BENCH&cid=555.666&sid=1700000000"
        "&dl=https%3A%2F%2Fwww.example.com%2F&en=page_view"
    )
    # Email links of many recipients, as a campaign's opens and clicks arrive; 1 in 10 of the
    # recipients granted email tracking (their events are stored, the others only counted).
    signer = EmailSigner((SECRET,), gateway.base)
    sent = time.time() - 3600
    target = "https://www.example.com/spring/collection?utm_source=email&c=1"
    opens, clicks = [], []
    for number in range(RECIPIENTS):
        message = signer.message(campaign="bench", recipient=f"esp-{number}", sent_at=sent)
        opens.append(urlsplit(message.open_url).path)
        clicks.append(urlsplit(message.click_url(target, 1 + number % 5)).path)
    with httpx.Client(base_url=gateway.base) as admin:
        for number in range(0, RECIPIENTS, 10):
            admin.put(
                f"/api/subjects/esp-{number}/consent",
                json={"granted": ["email_tracking"], "source": "bench"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            ).raise_for_status()
    gzip = (("Accept-Encoding", "gzip, deflate, br"),)
    return [
        Scenario("/healthz", "/healthz"),
        Scenario(BLOCKED, "/t/meta_pixel?id=1&ev=PageView", target=1.0),
        Scenario("/t anonymous forward (ga4, no consent)", ga4),
        Scenario(CONSENTED, ga4, cookie=everyone, target=0.8),
        Scenario(
            "/t consented redirect (meta_pixel)", "/t/meta_pixel?id=1&ev=PageView", cookie=everyone
        ),
        Scenario(EMAIL_OPEN, opens[0], paths=tuple(opens), target=1.0, settle=EMAIL_SETTLE_SECONDS),
        Scenario(
            EMAIL_CLICK, clicks[0], paths=tuple(clicks), target=1.0, settle=EMAIL_SETTLE_SECONDS
        ),
        Scenario("GET /consent (with a cookie)", "/consent", cookie=everyone),
        Scenario("/consent.js (gzip)", "/consent.js", headers=gzip),
        Scenario(
            RECEIPT,
            "/consent",
            method="POST",
            body='{"action":"accept_all"}',
            receipts=True,
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
