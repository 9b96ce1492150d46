"""The audit's reports: a terminal summary, JSON, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gateway.audit.config import AuditConfig
from gateway.audit.judge import Item
from gateway.audit.record import AuditRun
from gateway.audit.reports.extras import NO_EXTRAS, ReportExtras
from gateway.audit.reports.html import html_report
from gateway.audit.reports.json_report import json_report
from gateway.audit.reports.junit import junit_report
from gateway.audit.scrub import scrubbed

__all__ = ["ReportExtras", "write_reports"]


def write_reports(
    directory: Path,
    audit: AuditRun,
    config: AuditConfig,
    items: Sequence[Item],
    extras: ReportExtras = NO_EXTRAS,
) -> dict[str, Path]:
    """Write report.json, report.xml, report.html and one banner-STATE.png per state.

    Whatever the site stored, the files get text safe for JSON, XML 1.0 and HTML, and no URL
    credentials (`gateway.audit.scrub`).
    """
    audit, config, items, extras = scrubbed((audit, config, items, extras))
    directory.mkdir(parents=True, exist_ok=True)
    written = {
        "json": directory / "report.json",
        "junit": directory / "report.xml",
        "html": directory / "report.html",
    }
    written["json"].write_text(json_report(audit, config, items, extras), encoding="utf-8")
    written["junit"].write_text(junit_report(audit, items), encoding="utf-8")
    written["html"].write_text(html_report(audit, config, items, extras), encoding="utf-8")
    for run in audit.runs:
        if run.banner_png:
            (directory / f"banner-{run.state.name}.png").write_bytes(run.banner_png)
    return written
