"""What the terminal shows: a progress bar while crawling, a summary when done (on stderr)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from gateway.audit.judge import Item, counts, grouped, incomplete
from gateway.audit.record import AuditRun
from gateway.audit.scrub import safe_text

WIDTH = 24


class ProgressBar:
    """`[#####-----] 3/8 reject http://…`, redrawn in place on a terminal, a line each otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = max(total, 1), 0, stream
        self.live = stream.isatty()

    def resize(self, total: int) -> None:
        """The real number of steps, once known (a site may have fewer pages than asked)."""
        self.total = max(total, self.done, 1)

    def step(self, state: str, page: str) -> None:
        self.done += 1
        filled = min(WIDTH, WIDTH * self.done // self.total)
        bar = "#" * filled + "-" * (WIDTH - filled)
        line = safe_text(f"[{bar}] {self.done}/{self.total} {state:<12} {page}")
        if self.live:
            self.stream.write("\r\x1b[K" + line[:120])
        else:
            self.stream.write(f"audit: {line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def summary(audit: AuditRun, items: Sequence[Item], written: Mapping[str, Path]) -> str:
    found = counts(items)
    lines = [
        f"Consent audit of {audit.url} ({audit.browser})",
        "",
        f"  {'state':<14}{'pages':>6}{'requests':>10}{'cookies':>9}{'violations':>12}{'findings':>10}",
    ]
    for run in audit.runs:
        mine = [i for i in items if i.state == run.state.name]
        lines.append(
            f"  {run.state.name:<14}{len(run.pages):>6}"
            f"{sum(len(p.requests) for p in run.pages):>10}"
            f"{sum(len(p.cookies) for p in run.pages):>9}"
            f"{sum(i.level == 'violation' for i in mine):>12}"
            f"{sum(i.level == 'finding' for i in mine):>10}"
        )
    for group in grouped(items):
        item = group.item
        where = f"states {', '.join(group.states)}" if group.states else "all states"
        pages = f"; {len(group.pages)} page(s)" if len(group.pages) > 1 else ""
        lines.append("")
        lines.append(f"  {item.level.upper():<9} {item.message}")
        lines.append(f"            {item.subject} — {where}{pages}")
        if item.cause:
            lines.append(f"            caused by {item.cause}")
        if item.rule:
            lines.append(f"            rule: {item.rule}")
        if item.known:
            lines.append(f"            known: {item.known}")
    unloaded = incomplete(items)
    verdict = "INCOMPLETE" if unloaded else "FAIL" if found["violation"] else "PASS"
    lines.append("")
    lines.append(
        f"{verdict}: {found['violation']} violation(s), {found['finding']} finding(s),"
        f" {found['note']} note(s)"
    )
    if unloaded:
        lines.append(
            f"{len(unloaded)} page visit(s) could not be loaded: nothing of them was judged"
        )
    if written:
        lines.append("Reports: " + ", ".join(str(path) for path in written.values()))
    return safe_text("\n".join(lines)) + "\n"
