"""The bench's table: one row per measurement, rendered into bench/RESULTS.md.

The file's text below `MARKER` is written by hand (what each change bought) and kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from bench.load import Result
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


def render(rows: list[Row], notes: list[str], *, seconds: float, connections: int) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.",
        f"Load: wrk, 1 thread, {connections} connections, {seconds:.0f} s per measurement after "
        "a 1 s warm-up, user agents sampled by weight from the real browser corpus. Servers: "
        "uvicorn (uvloop, httptools); the gateway is `consent-gateway serve --no-forwarder` "
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
        "override the defaults).",
        "",
    ]
    return "\n".join(lines)


def write_results(path: Path, report: str) -> None:
    """Replace the generated part of `path`, keeping what is written by hand below MARKER."""
    kept = ""
    if path.exists() and MARKER in (text := path.read_text()):
        kept = text[text.index(MARKER) :]
    path.write_text(report + ("\n" + kept if kept else "\n" + MARKER + "\n"))
