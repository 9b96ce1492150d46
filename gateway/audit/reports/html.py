"""The HTML report: one self-contained file (inline CSS, screenshots as data URIs)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.audit.config import AuditConfig
from gateway.audit.judge import Item, counts, grouped, incomplete
from gateway.audit.record import AuditRun
from gateway.audit.reports.extras import NO_EXTRAS, ReportExtras

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def html_report(
    audit: AuditRun,
    config: AuditConfig,
    items: Sequence[Item],
    extras: ReportExtras = NO_EXTRAS,
) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["expiry"] = lambda moment: _expiry(moment, audit.started)
    environment.filters["short"] = _short
    marked = {(i.state, i.page, i.subject): i.level for i in items if i.state}
    loaded = _loaded(audit, config)
    return environment.get_template("report.html").render(
        audit=audit,
        config=config,
        groups=grouped(items),
        found=counts(items),
        unloaded=incomplete(items),
        extras=extras,
        show_values=audit.show_values,
        marked=marked,
        loaded=loaded,
        started=datetime.fromtimestamp(audit.started, UTC).strftime("%d %B %Y, %H:%M UTC"),
        duration=max(0.0, (audit.finished or audit.started) - audit.started),
        pages=list(dict.fromkeys(v.url for run in audit.runs for v in run.pages)),
        screenshots={
            run.state.name: "data:image/png;base64," + base64.b64encode(run.banner_png).decode()
            for run in audit.runs
            if run.banner_png
        },
        matrix=_matrix(audit, items),
        requests=sum(len(v.requests) for run in audit.runs for v in run.pages),
        cookies=sum(len(v.cookies) for run in audit.runs for v in run.pages),
    )


def _matrix(audit: AuditRun, items: Sequence[Item]) -> dict[tuple[str, str], dict[str, int]]:
    """(page, state) → counts of violations, findings, requests and new cookies."""
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for run in audit.runs:
        for visit in run.pages:
            mine = [i for i in items if i.state == run.state.name and i.page == visit.url]
            cells[(visit.url, run.state.name)] = {
                "violation": sum(i.level == "violation" for i in mine),
                "finding": sum(i.level == "finding" for i in mine),
                "requests": len(visit.requests),
                "cookies": len(visit.cookies),
            }
    return cells


def _loaded(audit: AuditRun, config: AuditConfig) -> dict[str, list[str]]:
    """Vendor id → the states in which it loaded (a request to it, a hit, or its cookie)."""
    seen: dict[str, list[str]] = {vendor.id: [] for vendor in config.vendors}
    for run in audit.runs:
        for visit in run.pages:
            ids = {v.id for r in visit.requests for v in config.vendors_at(r.host)}
            ids |= {r.path.split("/")[2] for r in visit.requests if r.path.startswith("/t/")}
            ids |= {v.id for c in visit.cookies for v in config.cookie_vendors(c.name, c.domain)}
            for vendor_id in ids:
                states = seen.setdefault(vendor_id, [])
                if run.state.name not in states:
                    states.append(run.state.name)
    return seen


def _expiry(moment: float, now: float) -> str:
    if moment < 0:
        return "session"
    days = (moment - now) / 86400
    when = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")
    return f"{when} ({days:.0f} d)" if days >= 1 else f"{when} (< 1 d)"


def _short(url: str, limit: int = 70) -> str:
    """A URL without scheme and query, shortened in the middle: what a reader scans for."""
    if not url:
        return ""
    parts = urlsplit(url)
    text = f"{parts.netloc}{parts.path}" if parts.netloc else url
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2) :]
