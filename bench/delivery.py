"""Delivery rows of `make bench`: hits delivered per second, counted at a stand-in Matomo.

- **drain**: a queue pre-filled with N hits, emptied by one `consent-gateway forward`
  process — delivered hits/s per forwarder process;
- **end to end**: wrk sends Matomo hits to `/t/matomo` of one `serve` process (its in-process
  worker delivering) for the bench period; delivered/s runs from the first request to the
  last hit's arrival at the vendor;
- **peer**: the same wrk load on matomo-org/tracker-proxy (nginx + php-fpm, `bench.peer`).

Each with a fast upstream and one that answers after 50 ms. Every hit carries its own
`rand`, so the vendor counts lost hits (never arrived) and duplicates (arrived twice).
Also measured: memory per queued hit, Redis (MEMORY USAGE of the stream) and SQLite (bytes).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import peer, profiling, servers
from bench.setup import tree_rss_mib
from gateway.delivery.queue import QueuedHit, open_hit_queue
from gateway.model.outbound_hits import OutboundHit
from gateway.settings import load_settings
from gateway.store import open_store
from tests.servers import RedisServer, free_port, wait_until
from tests.vendors import rules_pointing_at

REPO = Path(__file__).resolve().parents[1]
DRAIN_HITS = int(os.environ.get("BENCH_DELIVERY_HITS", "20000"))
SLOW_MS = 50
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
HIT = "idsite=1&rec=1&action_name=Bench%20page&url=https%3A%2F%2Fwww.example.com%2F"


@dataclass(frozen=True)
class Counted:
    """What the stand-in recorded for one row's ids (`prefix`1 … `prefix`N)."""

    arrived: int  # distinct ids that arrived
    missing: int  # ids that never arrived
    duplicated: int  # ids that arrived more than once
    extra: int  # arrivals beyond each id's first


@dataclass(frozen=True)
class Row:
    name: str
    answered: float | None  # req/s the clients got (None: no clients, a drain)
    delivered: float  # distinct hits/s that reached the vendor
    sent: int  # requests answered (a drain: hits queued)
    counted: Counted
    in_flight: int = 0  # ids wrk had sent, but not seen answered, when it stopped
    note: str = ""
    kind: str = "drain"  # drain, edge or peer
    delay_ms: int = 0
    workers: int = 0  # the edge's `serve --workers`
    profile: str = ""  # py-spy's summary (edge rows, when asked)
    rss: tuple[float, float, float] | None = None  # edge: start, after the backlog, peak (MiB)

    @property
    def lost(self) -> int:
        # An id in flight when wrk stopped may never have reached the server: not counted lost.
        return max(0, self.counted.missing - self.in_flight)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


@contextmanager
def stand_in_matomo(work: Path, delay_ms: int) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "BENCH_VENDOR_DELAY_MS": str(delay_ms)}
    command = [sys.executable, "-m", "uvicorn", "bench.vendor:app", "--port", str(port)]
    command += ["--http", "httptools"]
    command += ["--log-level", "warning", "--no-access-log", "--loop", "uvloop"]
    process = _start(command, env, work / f"matomo-{delay_ms}.log")
    try:
        wait_until(lambda: _stats(port) is not None, "the stand-in Matomo", timeout=30)
        yield port
    finally:
        process.terminate()
        process.wait(15)


def _stats(port: int, prefix: str = "", upto: int = 0) -> dict[str, int] | None:
    query = {"prefix": prefix, "upto": str(upto)} if prefix else {}
    try:
        stats: dict[str, int] = httpx.get(
            f"http://127.0.0.1:{port}/stats", params=query, timeout=30
        ).json()
    except httpx.TransportError:
        return None
    return stats


def counted(port: int, prefix: str, upto: int) -> Counted:
    figures = _stats(port, prefix, upto) or {}
    return Counted(
        figures.get("arrived", 0),
        figures.get("missing", upto),
        figures.get("duplicated", 0),
        figures.get("extra", 0),
    )


def _env(redis_url: str, rules: Path, work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        {
            "GATEWAY_SECRET_KEYS": "bench-secret-key-0123456789abcdefghijklmnopq",
            "GATEWAY_STORE": redis_url,
            "GATEWAY_RULES": str(rules),
            "GATEWAY_VENDORS": ",".join(p.stem for p in Path(rules).glob("*.toml")),
            "GATEWAY_ALLOW_INSECURE_UPSTREAMS": "true",
            "GATEWAY_DATA_DIR": str(work / "var"),
            "GATEWAY_LOG_LEVEL": "warning",
            # Its own state folder: the throwaway data directory is not the user's gateway.
            "XDG_STATE_HOME": str(work / "state"),
            "GATEWAY_DELIVERY_QUEUE_CAP": "50000000",
            **{f"GATEWAY_{k.upper()}": v for k, v in extra.items()},
        }
    )
    return env


def _flush_queue(redis: RedisServer) -> None:
    import redis as redis_client

    client = redis_client.Redis(port=redis.port)
    try:
        keys = list(client.scan_iter("cg:hits*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


async def _prefill(env: dict[str, str], vendor_port: int, count: int, prefix: str) -> None:
    settings = load_settings(environ=env)
    queue_store = open_store(settings)
    await queue_store.open()
    queue = open_hit_queue(queue_store, settings.delivery.shards)
    url = f"http://127.0.0.1:{vendor_port}/matomo.php?{HIT}"
    now = time.time()
    batch: list[QueuedHit] = []
    for n in range(1, count + 1):
        hit = OutboundHit("matomo", "GET", f"{url}&rand={prefix}{n}", (("User-Agent", "bench"),))
        batch.append(QueuedHit(hit, None, now))
        if len(batch) == 1000:
            await queue.append(batch, cap=10_000_000)
            batch = []
    if batch:
        await queue.append(batch, cap=10_000_000)
    await queue_store.close()


def _wait_for(vendor_port: int, expected: int, limit: float) -> tuple[float | None, float]:
    """Until `expected` distinct hits arrived or the vendor stops moving; returns (first
    arrival, last arrival) in monotonic time."""
    first: float | None = None
    last_count, last_change = -1, time.monotonic()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        stats = _stats(vendor_port) or {"unique": 0, "received": 0}
        now = time.monotonic()
        if stats["received"] and first is None:
            first = now
        if stats["received"] != last_count:
            last_count, last_change = stats["received"], now
        if stats["unique"] >= expected or now - last_change > 15:
            return first, last_change
        time.sleep(0.05)
    return first, last_change


def drain_row(redis: RedisServer, work: Path, delay_ms: int) -> tuple[Row, float]:
    """One forwarder process empties a pre-filled queue; also returns bytes per queued hit."""
    with stand_in_matomo(work, delay_ms) as vendor_port:
        rules = rules_pointing_at(
            REPO / "tag_rules", work / f"rules-{delay_ms}", f"http://127.0.0.1:{vendor_port}"
        )
        env = _env(redis.url, rules, work)
        _flush_queue(redis)
        prefix = f"d{delay_ms}-"
        asyncio.run(_prefill(env, vendor_port, DRAIN_HITS, prefix))
        memory = _stream_bytes(redis) / DRAIN_HITS
        command = [sys.executable, "-m", "gateway.cli", "forward"]
        forward = _start(command, env, work / f"forward-{delay_ms}.log")
        try:
            first, last = _wait_for(vendor_port, DRAIN_HITS, limit=600)
        finally:
            forward.terminate()
            forward.wait(15)
        figures = counted(vendor_port, prefix, DRAIN_HITS)
    seconds = max(1e-6, last - (first or last))
    name = f"drain: 1 `forward` process, {_upstream(delay_ms)}"
    row = Row(name, None, figures.arrived / seconds, DRAIN_HITS, figures, delay_ms=delay_ms)
    return row, memory


def _upstream(delay_ms: int) -> str:
    return "fast upstream" if not delay_ms else f"{delay_ms} ms upstream"


def _stream_bytes(redis: RedisServer) -> int:
    import redis as redis_client

    client = redis_client.Redis(port=redis.port)
    try:
        return sum(
            int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter("cg:hits:*")
        )
    finally:
        client.close()


@dataclass(frozen=True)
class Sent:
    rps: float
    answered: int  # responses wrk counted
    generated: int  # ids wrk's script handed out (answered + those in flight at the stop)
    errors: int  # non-2xx answers


def _wrk(base: str, path: str, cookie: str, seconds: float, connections: int, work: Path) -> Sent:
    """wrk sending `path` + 1, 2, 3 … (each hit its own id)."""
    script = work / "delivery.lua"
    agent = f'["User-Agent"] = [==[{BROWSER}]==]'  # no agent at all is a bot's: blocked
    headers = f'{{["Cookie"] = [==[{cookie}]==], {agent}}}' if cookie else f"{{{agent}}}"
    script.write_text(
        "local threads = {}\n"
        "function setup(thread) table.insert(threads, thread) end\n"
        "sent = 0\n"
        "request = function()\n"
        "  sent = sent + 1\n"
        f'  return wrk.format("GET", [==[{path}]==] .. sent, {headers})\n'
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local total = 0\n"
        '  for _, thread in ipairs(threads) do total = total + thread:get("sent") end\n'
        '  io.write(string.format("generated %d\\n", total))\n'
        "end\n"
    )
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    generated = int(re.search(r"generated (\d+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Sent(rps, requests, generated, int(errors.group(1)) if errors else 0)


def edge_row(
    redis: RedisServer,
    work: Path,
    delay_ms: int,
    cookie: str,
    seconds: float,
    connections: int,
    workers: int,
    profile_seconds: float = 0,
    server: str = servers.SERVER,
) -> Row:
    """`serve --workers N` (delivery in-process, as a site runs it) under wrk, then until the
    queue is empty; with `profile_seconds`, then py-spy's summary of the same load (its own
    hits, not counted) in the row's `profile`."""
    prefix = f"e{workers}w{delay_ms}-"
    profile = ""
    with stand_in_matomo(work, delay_ms) as vendor_port:
        rules = rules_pointing_at(
            REPO / "tag_rules", work / f"rules-{prefix}", f"http://127.0.0.1:{vendor_port}"
        )
        _flush_queue(redis)
        port = free_port()
        command, extra = servers.gateway_command(
            port, workers, work / prefix, forwarder=True, server=server
        )
        env = {**_env(redis.url, rules, work / prefix), **extra}
        gateway = _start(command, env, work / f"serve-{prefix}.log")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ready(base), "the gateway", timeout=60)
            rss_start, _ = tree_rss_mib(gateway.pid)
            started = time.monotonic()
            sent = _wrk(base, f"/t/matomo?{HIT}&rand={prefix}", cookie, seconds, connections, work)
            _, last = _wait_for(vendor_port, sent.answered, limit=600)
            figures = counted(vendor_port, prefix, sent.generated)
            rss = (rss_start, *tree_rss_mib(gateway.pid))
            if profile_seconds > 0:  # after the counts: its hits are not the row's
                profile = _profile(gateway.pid, base, cookie, profile_seconds, connections, work)
        finally:
            gateway.terminate()
            gateway.wait(20)
    name = f"edge + in-process delivery ({servers.gateway_text(workers, server)})"
    return _loaded_row(name, "edge", sent, figures, last - started, delay_ms, workers, profile, rss)


def _profile(pid: int, base: str, cookie: str, seconds: float, connections: int, work: Path) -> str:
    """Where the gateway's processes spend their time under the row's load."""
    output = work / "edge-profile.txt"
    output.unlink(missing_ok=True)
    sampler = profiling.start(pid, seconds, output)
    _wrk(base, f"/t/matomo?{HIT}&rand=profile-", cookie, seconds, connections, work)
    summary = profiling.finish(sampler, output)
    return summary if isinstance(summary, str) else summary.summary()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def peer_row(
    checkout: peer.Checkout, work: Path, delay_ms: int, seconds: float, connections: int
) -> Row:
    prefix = f"p{delay_ms}-"
    with stand_in_matomo(work, delay_ms) as vendor_port:
        with peer.tracker_proxy(
            checkout, work / f"peer-{delay_ms}", f"http://127.0.0.1:{vendor_port}"
        ) as base:
            started = time.monotonic()
            sent = _wrk(base, f"/matomo.php?{HIT}&rand={prefix}", "", seconds, connections, work)
            _, last = _wait_for(vendor_port, sent.answered, limit=60)
        figures = counted(vendor_port, prefix, sent.generated)
    name = f"peer: tracker-proxy (nginx + php-fpm, {peer.PHP_CHILDREN} workers)"
    return _loaded_row(name, "peer", sent, figures, last - started, delay_ms)


def _loaded_row(
    name: str,
    kind: str,
    sent: Sent,
    figures: Counted,
    seconds: float,
    delay_ms: int,
    workers: int = 0,
    profile: str = "",
    rss: tuple[float, float, float] | None = None,
) -> Row:
    """A row whose hits came from wrk: delivered over the `seconds` from the load's start to
    the last arrival; ids wrk handed out but saw no answer for are in flight, not lost."""
    return Row(
        f"{name}, {_upstream(delay_ms)}",
        sent.rps,
        figures.arrived / max(1e-6, seconds),
        sent.answered,
        figures,
        sent.generated - sent.answered,
        f"{sent.errors} non-2xx" if sent.errors else "",
        kind,
        delay_ms,
        workers,
        profile,
        rss,
    )


def peer_ratio(rows: list[Row], row: Row) -> float | None:
    """An edge row's delivered hits/s over the peer's, against the same upstream."""
    peers = [r for r in rows if r.kind == "peer" and r.delay_ms == row.delay_ms]
    if row.kind != "edge" or not peers or not peers[0].delivered:
        return None
    return row.delivered / peers[0].delivered


def sqlite_bytes_per_hit(work: Path, count: int = 10_000) -> float:
    """Bytes the SQLite file grows by per queued hit (pages after a checkpoint)."""
    import sqlite3

    path = work / "queue-size.sqlite3"
    env = {"GATEWAY_STORE": f"sqlite:///{path}", "GATEWAY_SECRET_KEYS": "x" * 40}
    url = f"https://matomo.example.com/matomo.php?{HIT}"

    def pages() -> int:
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return int(connection.execute("PRAGMA page_count").fetchone()[0]) * int(
                connection.execute("PRAGMA page_size").fetchone()[0]
            )
        finally:
            connection.close()

    async def fill() -> int:
        settings = load_settings(environ=env)
        queue_store = open_store(settings)
        await queue_store.open()
        queue = open_hit_queue(queue_store, settings.delivery.shards)
        before = pages()
        for start in range(0, count, 1000):
            hits = [
                QueuedHit(
                    OutboundHit("matomo", "GET", f"{url}&rand={n}", (("User-Agent", "bench"),)),
                    f"{n:032x}",  # a consented hit: its consent id, and the subject hash
                    0.0,
                    frozenset({"analytics"}),
                )
                for n in range(start, min(count, start + 1000))
            ]
            await queue.append(hits, cap=10_000_000)
        await queue_store.close()
        return before

    before = asyncio.run(fill())
    return (pages() - before) / count


def render(rows: list[Row], notes: list[str], redis_bytes: float, sqlite_bytes: float) -> str:
    lines = [
        "## Hit delivery",
        "",
        "Matomo hits counted per hit id at the stand-in Matomo (a raw ASGI app; every hit "
        "carries its own id in `rand`): *lost* were answered but never arrived, *dup.* arrived "
        "more than once (extra arrivals in brackets), *in flight* were sent by wrk but not yet "
        "answered when it stopped (not counted lost whether they arrived or not). Delivered/s "
        "for the edge and peer rows runs from wrk's start to the last arrival (the backlog "
        "included); the peer forwards inside the request. The edge rows are the gateway as a "
        "site runs it: `consent-gateway serve --workers N`, delivery in-process. The drain "
        "rows are one `forward` process emptying a pre-filled queue.",
        "",
        "| row | answered req/s | delivered hits/s | × peer | sent | arrived | lost | dup. "
        "| in flight | RSS start → end (peak), MiB | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        answered = f"{row.answered:,.0f}" if row.answered is not None else "—"
        rss = "—" if row.rss is None else f"{row.rss[0]:.0f} → {row.rss[1]:.0f} ({row.rss[2]:.0f})"
        ratio = peer_ratio(rows, row)
        duplicates = f"{row.counted.duplicated:,}" + (
            f" ({row.counted.extra:,})" if row.counted.extra else ""
        )
        lines.append(
            f"| {row.name} | {answered} | {row.delivered:,.0f} "
            f"| {'—' if ratio is None else f'{ratio:.2f}'} | {row.sent:,} "
            f"| {row.counted.arrived:,} | {row.lost:,} | {duplicates} | {row.in_flight:,} "
            f"| {rss} | {row.note} |"
        )
    profiles = [f"- **{row.name}**: {row.profile}" for row in rows if row.profile]
    if profiles:
        lines += [
            "",
            "Where the gateway's time goes end to end (py-spy, self time; answering "
            "and delivering share the processes):",
            "",
            *profiles,
        ]
    lines += [
        "",
        *notes,
        "",
        f"Memory per queued hit (a Matomo page view, ~300 bytes of JSON): Redis {redis_bytes:,.0f} bytes "
        f"(MEMORY USAGE of the stream / entries), SQLite {sqlite_bytes:,.0f} bytes (pages / rows).",
        "",
    ]
    return "\n".join(lines)
