"""The audit as JSON: every state, page, request, cookie and storage key, and every item."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from gateway.audit.config import AuditConfig
from gateway.audit.judge import Item, counts
from gateway.audit.record import AuditRun


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def report_data(audit: AuditRun, config: AuditConfig, items: Sequence[Item]) -> dict[str, Any]:
    states = []
    for run in audit.runs:
        states.append(
            {
                "name": run.state.name,
                "label": run.state.label,
                "granted": sorted(run.state.granted),
                "gpc": run.state.gpc,
                # What this state lets leave the home region: vendor, country, safeguard.
                "transfers": config.transfers_allowed(run.state.granted),
                "error": run.error,
                "banner_screenshot": f"banner-{run.state.name}.png" if run.banner_png else None,
                "pages": [asdict(visit) for visit in run.pages],
            }
        )
    return {
        "tool": "consent-gateway audit",
        "format": 1,  # bumped when a field changes meaning or goes away
        "url": audit.url,
        "started": iso(audit.started),
        "finished": iso(audit.finished or audit.started),
        "browser": audit.browser,
        "banner_script": audit.banner_script,
        "rules": config.source,
        "vendors": [
            {
                "id": v.id,
                "name": v.name,
                "category": v.category,
                "hosts": list(v.hosts),
                "cookies": list(v.cookies.patterns),
            }
            for v in config.vendors
        ],
        "banner_vendors": list(config.named_by_banner()),
        "summary": counts(items),
        "passed": counts(items)["violation"] == 0,
        "items": [asdict(item) for item in items],
        "states": states,
    }


def json_report(audit: AuditRun, config: AuditConfig, items: Sequence[Item]) -> str:
    return json.dumps(report_data(audit, config, items), indent=2, ensure_ascii=False) + "\n"
