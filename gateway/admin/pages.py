"""The dashboard's HTML: Jinja2 templates, one inline stylesheet admitted by its hash.

Self-contained like the recipients' pages (`gateway.html_pages`): no scripts, no external
assets; charts are inline SVG. The pages are never framed, cached or indexed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

from gateway.html_pages import StrictPages

TEMPLATES = Path(__file__).resolve().parent / "templates"

PAGES = StrictPages(
    TEMPLATES,
    "admin.css",
    img_src="'self' data:",
    extra_headers={"Vary": "Cookie", "X-Frame-Options": "DENY"},
    filters={
        "thousands": lambda number: f"{number:,}",
        "utc_time": lambda moment: datetime.fromtimestamp(moment, UTC).strftime(
            "%Y-%m-%d %H:%M:%S UTC"
        ),
    },
    trim_blocks=True,
)


def page_headers() -> dict[str, str]:
    return PAGES.headers()


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """`template` rendered with `context`, as a response with the dashboard's headers."""
    html = PAGES.render(template, **context)
    return HTMLResponse(html, status_code=status, headers={**PAGES.headers(), **(headers or {})})
