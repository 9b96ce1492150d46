"""The audit as JSON: every state, page, request, cookie and storage key, and every item."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from gateway.audit.config import AuditConfig
from gateway.audit.judge import Item, counts, incomplete
from gateway.audit.record import AuditRun
from gateway.audit.reports.extras import NO_EXTRAS, ReportExtras


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def report_data(
    audit: AuditRun,
    config: AuditConfig,
    items: Sequence[Item],
    extras: ReportExtras = NO_EXTRAS,
) -> dict[str, Any]:
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
        "format": 2,  # bumped when a field changes meaning or goes away (2: `passed` needs `complete`)
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
                "storage": list(v.storage.patterns),
            }
            for v in config.vendors
        ],
        "banner_vendors": list(config.named_by_banner()),
        "summary": counts(items),
        # Complete: every page of every state loaded and was judged; passed needs that too.
        "complete": not incomplete(items),
        "passed": counts(items)["violation"] == 0 and not incomplete(items),
        "items": [asdict(item) for item in items],
        "cookie_database": extras.database,
        "undeclared": [asdict(known) for known in extras.known],
        "suggested_rules": [
            {"id": d.id, "platform": d.platform, "category": d.category, "toml": d.text}
            for d in extras.drafts
        ],
        "states": states,
    }


def json_report(
    audit: AuditRun,
    config: AuditConfig,
    items: Sequence[Item],
    extras: ReportExtras = NO_EXTRAS,
) -> str:
    data = report_data(audit, config, items, extras)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
