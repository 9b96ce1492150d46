"""uvicorn or granian? The bare app and the gateway's rows on both servers, in alternation.

`python -m bench.server_compare` (after `make bench` has installed granian): both servers of
each pair run at once (the idle one costs nothing) and every row is measured BENCH_ROUNDS (3)
times on each, alternating which goes first, so a shared machine's drift moves both sides
alike; the figure is the median. One worker for every row, two for the bare app, `/t` blocked
and POST /consent. The gateway on granian is the factory `serve` hands uvicorn
(bench/servers.py). Prints a Markdown table of req/s (durable receipts/s for POST /consent)
and granian / uvicorn; it does not touch bench/RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import references
from bench.__main__ import (
    CONNECTIONS,
    REPO,
    SECONDS,
    TWO_WORKER_ROWS,
    Bench,
    Scenario,
    Server,
    gateway_env,
    gateway_scenarios,
)
from tests.servers import RedisServer
from tests.vendors import rules_pointing_at

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SERVERS = ("uvicorn", "granian")
Pairs = list[tuple[Scenario, dict[str, Server]]]


def measure_pairs(bench: Bench, pairs: Pairs, receipts_port: int) -> list[str]:
    lines = []
    for scenario, on in pairs:
        figures: dict[str, list[float]] = {name: [] for name in SERVERS}
        for round_ in range(ROUNDS):
            order = SERVERS if round_ % 2 == 0 else tuple(reversed(SERVERS))
            for name in order:
                result, receipts = bench.measure(on[name], scenario, receipts_port)
                figures[name].append(receipts if receipts is not None else result.rps)
                if result.errors:
                    print(f"{scenario.name} on {name}: {result.errors} errors", file=sys.stderr)
                time.sleep(scenario.settle)
        uvicorn, granian = (statistics.median(figures[name]) for name in SERVERS)
        runs = "; ".join(
            f"{name} " + ", ".join(f"{v:,.0f}" for v in figures[name]) for name in SERVERS
        )
        line = (
            f"| {scenario.name} | {on['uvicorn'].workers} | {uvicorn:,.0f} | {granian:,.0f} "
            f"| {granian / max(uvicorn, 1e-9):.2f} | {runs} |"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="cg-servers-"))
    redis = RedisServer(
        work / "redis", extra=("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    )
    redis.start()
    bench = Bench(work)
    lines = [
        f"uvicorn vs granian, {SECONDS:.0f} s per run, median of {ROUNDS} alternated runs "
        "(req/s; durable receipts/s for POST /consent):",
        "",
        "| row | workers | uvicorn | granian | granian / uvicorn | runs |",
        "|---|---:|---:|---:|---:|---|",
    ]
    try:
        vendor = bench.app_server("stand-in vendor", "bench.vendor:app", server="uvicorn")
        rules = rules_pointing_at(REPO / "tag_rules", work / "rules", vendor.base)
        for workers in (1, 2):
            bare = {
                name: bench.app_server(
                    f"bare {name} {workers}", "bench.references:bare_starlette", workers, name
                )
                for name in SERVERS
            }
            gateways = {}
            for name in SERVERS:
                env = gateway_env(redis.url, rules, work / f"{name}-{workers}" / "var")
                gateways[name] = bench.gateway(f"gateway {name} {workers}", env, workers, name)
            scenarios = gateway_scenarios(gateways["uvicorn"])
            if workers > 1:
                scenarios = [s for s in scenarios if s.name in TWO_WORKER_ROWS]
            pairs: Pairs = [(Scenario("bare Starlette GIF route", references.PATH), bare)]
            pairs += [(scenario, gateways) for scenario in scenarios]
            lines += measure_pairs(bench, pairs, redis.port)
            for server in [*bare.values(), *gateways.values()]:
                bench.stop(server)
    finally:
        bench.close(redis)
    if os.environ.get("BENCH_DELIVERY", "1") != "0":
        lines += end_to_end(work)
    print("\n".join(lines))
    return 0


def end_to_end(work: Path) -> list[str]:
    """Matomo hits through the gateway with its delivery in-process (bench/delivery.py's edge
    row) on each server: delivered hits/s at a fast stand-in vendor, and what was lost."""
    from bench.delivery import edge_row
    from bench.setup import consent_cookie

    redis = RedisServer(
        work / "redis-e2e", extra=("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")
    )
    redis.start()
    cookie, lines = consent_cookie("analytics"), []
    try:
        for workers in (1, 2):
            figures: dict[str, list[float]] = {name: [] for name in SERVERS}
            lost: dict[str, int] = dict.fromkeys(SERVERS, 0)
            for round_ in range(ROUNDS):
                order = SERVERS if round_ % 2 == 0 else tuple(reversed(SERVERS))
                for name in order:
                    row = edge_row(
                        redis, work, 0, cookie, SECONDS, CONNECTIONS, workers, server=name
                    )
                    figures[name].append(row.delivered)
                    lost[name] += row.lost + row.counted.duplicated
            uvicorn, granian = (statistics.median(figures[name]) for name in SERVERS)
            runs = "; ".join(
                f"{name} "
                + ", ".join(f"{v:,.0f}" for v in figures[name])
                + f" ({lost[name]} lost+dup.)"
                for name in SERVERS
            )
            line = (
                f"| end to end, delivered hits/s (delivery in-process) | {workers} "
                f"| {uvicorn:,.0f} | {granian:,.0f} | {granian / max(uvicorn, 1e-9):.2f} | {runs} |"
            )
            print(line, flush=True)
            lines.append(line)
    finally:
        redis.stop()
    return lines


if __name__ == "__main__":
    sys.exit(main())
