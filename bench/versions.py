"""`python -m bench.versions REV [ROUNDS] [ROUTE...]`: this checkout's hot routes against those of an earlier
commit, in one run on one machine, so "no hot route got slower" rests on a same-run figure and
not on two runs of different days (the baseline alone moves ±20 % between days).

The earlier commit is checked out in a throwaway worktree and set up with its own `make setup`
(or BENCH_OLD_TREE names a checkout that is already set up). Both gateways run as `make bench`
runs one (`serve --no-forwarder`, one worker, each on its own redis-server) next to the bare
Starlette baseline. For every scenario each round measures bare, then the two gateways in
alternating order, then bare again; a gateway's ratio uses the mean of the bare runs around it.
The figure that answers the question is the median of `now ÷ then` over the rounds (each
round's is printed too). ROUTE arguments keep the scenarios whose name starts with one of them
(`/healthz`, `/o`, `GET /consent`…).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import references
from bench.__main__ import (
    REPO,
    SECONDS,
    Bench,
    Scenario,
    Server,
    gateway_env,
    gateway_scenarios,
)
from tests.servers import RedisServer, free_port
from tests.vendors import rules_pointing_at


def old_tree(revision: str, work: Path) -> Path:
    given = os.environ.get("BENCH_OLD_TREE")
    if given:
        return Path(given)
    tree = work / "then"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision], check=True
    )
    subprocess.run(["make", "-C", str(tree), "setup"], check=True)
    return tree


def start_old(bench: Bench, tree: Path, env: dict[str, str]) -> Server:
    """The earlier commit's gateway, run from its own tree and virtualenv."""
    port = free_port()
    command = [str(tree / ".venv/bin/consent-gateway"), "serve", "--port", str(port)]
    return bench.start("then", [*command, "--no-forwarder"], env, port, cwd=tree)


def main() -> int:
    revision = sys.argv[1] if len(sys.argv) > 1 else "651a5a0"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    wanted = tuple(sys.argv[3:])
    work = Path(tempfile.mkdtemp(prefix="cg-versions-"))
    bench = Bench(work)
    stores = [RedisServer(work / f"redis-{n}", extra=("--appendonly", "yes")) for n in (0, 1)]
    tree = None
    try:
        tree = old_tree(revision, work)
        for store in stores:
            store.start()
        vendor = bench.app_server("stand-in vendor", "bench.vendor:app")
        rules = rules_pointing_at(REPO / "tag_rules", work / "rules", vendor.base)
        bare = bench.app_server("bare Starlette", "bench.references:bare_starlette")
        pixel = Scenario("bare GIF route", references.PATH)
        now = bench.gateway("now", gateway_env(stores[0].url, rules, work / "now"), 1)
        then = start_old(bench, tree, gateway_env(stores[1].url, rules, work / "then-var"))
        pairs = zip(gateway_scenarios(now), gateway_scenarios(then), strict=True)
        print(f"{revision} (then) against this checkout (now), {rounds} rounds of {SECONDS:.0f} s")
        print(f"{'route':<58} {'then':>6} {'now':>6} {'now ÷ then':>10}  errors", flush=True)
        for ours, theirs in pairs:
            if wanted and not ours.name.startswith(wanted):
                continue
            ratios: dict[str, list[float]] = {"now": [], "then": []}
            errors = 0
            for round_ in range(rounds):
                order = [(now, ours, stores[0]), (then, theirs, stores[1])]
                order = order if round_ % 2 == 0 else order[::-1]
                for server, scenario, store in order:
                    before, _ = bench.measure(bare, pixel)
                    result, _ = bench.measure(server, scenario, store.port)
                    after, _ = bench.measure(bare, pixel)
                    ratios[server.name].append(result.rps / ((before.rps + after.rps) / 2))
                    errors += result.errors
                    time.sleep(scenario.settle)
            then_ratio = statistics.median(ratios["then"])
            now_ratio = statistics.median(ratios["now"])
            changes = [n / t for n, t in zip(ratios["now"], ratios["then"], strict=True)]
            each = " ".join(f"{c:.2f}" for c in changes)
            print(
                f"{ours.name:<58} {then_ratio:>6.2f} {now_ratio:>6.2f} "
                f"{statistics.median(changes):>10.2f}  {errors}  (rounds: {each})",
                flush=True,
            )
    finally:
        if tree is not None and not os.environ.get("BENCH_OLD_TREE"):
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)])
        stores[1].stop()
        bench.close(stores[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
