"""The bench's table: one row per measurement, rendered into bench/RESULTS.md.

The file's text below `MARKER` is written by hand (what each change bought) and kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from bench.load import Result
from bench.servers import server_text
from bench.setup import machine

MARKER = "<!-- written by hand below this line; make bench keeps it -->"


@dataclass(frozen=True)
class Row:
    name: str
    server: str
    result: Result
    ratio: float | None  # to the baseline's mean around it; None for references
    target: float | None
    rss: tuple[float, float, float]  # at the start of the measured run, at its end, peak (MiB)
    profile: str = ""
    receipts_per_second: float | None = None
    receipts_target: float | None = None

    def missed(self) -> bool:
        if self.result.errors:
            return True
        if self.target is not None and (self.ratio is None or self.ratio < self.target):
            return True
        return (
            self.receipts_target is not None
            and (self.receipts_per_second or 0) < self.receipts_target
        )

    def target_text(self) -> str:
        if self.receipts_target is not None:
            return f"≥ {self.receipts_target:,.0f} receipts/s"
        return f"≥ {self.target}×" if self.target is not None else "—"

    def line(self) -> str:
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}"
        receipts = "" if self.receipts_per_second is None else f"{self.receipts_per_second:,.0f}"
        met = (
            ""
            if self.target is None and self.receipts_target is None
            else ("no" if self.missed() else "yes")
        )
        p50 = "—" if math.isnan(self.result.p50_ms) else f"{self.result.p50_ms:.2f}"
        p99 = "—" if math.isnan(self.result.p99_ms) else f"{self.result.p99_ms:.2f}"
        return (
            f"| {self.name} | {self.server} | {self.result.rps:,.0f} | {p50} | {p99} | {ratio} "
            f"| {receipts} | {self.target_text()} | {met} | {self.result.errors} "
            f"| {self.rss[0]:.0f} → {self.rss[1]:.0f} ({self.rss[2]:.0f}) |"
        )


@dataclass(frozen=True)
class Target:
    """One of the bench's targets, with what this run measured."""

    name: str
    wanted: str
    measured: str
    met: bool | None  # None: not measured (`measured` says why)

    def line(self) -> str:
        met = "not measured" if self.met is None else ("met" if self.met else "NOT MET")
        return f"| {self.name} | {self.wanted} | {self.measured} | {met} |"


def row_target(name: str, rows: list[Row], scenario: str, server: str) -> Target:
    """The target of the row measuring `scenario` on `server`."""
    row = next((r for r in rows if r.name == scenario and r.server == server), None)
    if row is None:
        return Target(name, "", "not measured in this run", None)
    errors = f", {row.result.errors:,} errors" if row.result.errors else ""
    if row.receipts_target is not None:
        measured = f"{row.receipts_per_second or 0:,.0f} receipts/s{errors}"
    else:
        measured = f"{row.ratio or 0:.2f}× ({row.result.rps:,.0f} req/s){errors}"
    return Target(name, row.target_text(), measured, not row.missed())


def render_targets(targets: list[Target]) -> str:
    return "\n".join(
        [
            "## Targets",
            "",
            "| target | wanted | measured | met |",
            "|---|---|---|---|",
            *(target.line() for target in targets),
            "",
        ]
    )


def render(rows: list[Row], notes: list[str], *, seconds: float, connections: int) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        f"Load: wrk, 1 thread, {connections} connections, {seconds:.0f} s per measurement after "
        "a 1 s warm-up, user agents sampled by weight from the real browser corpus. Servers: "
        f"{server_text()}; the gateway is `consent-gateway serve --no-forwarder` "
        "on redis-server (appendonly yes, appendfsync everysec). Each gateway row is measured "
        "between two runs of the bare Starlette baseline and its ratio uses their mean.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | × baseline | durable receipts/s "
        "| target | met | non-2xx/3xx + socket errors | RSS start → end (peak), MiB |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
        *(row.line() for row in rows),
        "",
        *notes,
        "",
        "## Where the time goes (py-spy, self time while the route is under load)",
        "",
        *(f"- **{row.name}** ({row.server}): {row.profile}" for row in rows if row.profile),
        "",
        "Ratios compare measurements of one run only: on a shared 2-core VM the baseline "
        "itself moves by tens of percent between runs, and wrk shares the cores.",
        "",
        "Run it: `make bench` (BENCH_SECONDS, BENCH_CONNECTIONS and BENCH_PROFILE_SECONDS "
        "override the defaults; BENCH_DELIVERY=0 skips the delivery rows, BENCH_TRACKER_PROXY "
        "names a tracker-proxy checkout for the peer rows, BENCH_SERVER=granian runs every "
        "Python server on granian instead of uvicorn).",
        "",
    ]
    return "\n".join(lines)


def write_results(path: Path, report: str) -> None:
    """Replace the generated part of `path`, keeping what is written by hand below MARKER."""
    kept = ""
    if path.exists() and MARKER in (text := path.read_text()):
        kept = text[text.index(MARKER) :]
    path.write_text(report + ("\n" + kept if kept else "\n" + MARKER + "\n"))
