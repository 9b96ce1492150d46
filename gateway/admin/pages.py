"""The dashboard's HTML: Jinja2 templates, one inline stylesheet admitted by its hash.

Self-contained like the recipients' pages: no scripts, no external assets; charts are inline
SVG. The Content-Security-Policy allows nothing else, forms post only to the gateway, and the
pages are never framed, cached or indexed.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["thousands"] = lambda number: f"{number:,}"
    environment.filters["utc_time"] = lambda moment: datetime.fromtimestamp(moment, UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    return environment


@cache
def _stylesheet() -> str:
    return (TEMPLATES / "admin.css").read_text(encoding="utf-8")


@cache
def page_headers() -> dict[str, str]:
    digest = hashlib.sha256(_stylesheet().encode()).digest()
    style = "'sha256-" + base64.b64encode(digest).decode() + "'"
    policy = (
        f"default-src 'none'; style-src {style}; img-src 'self' data:; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
        "Vary": "Cookie",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "X-Robots-Tag": "noindex",
    }


def render(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    """`template` rendered with `context`, as a response with the dashboard's headers."""
    html = (
        _environment().get_template(template).render(css=Markup(_stylesheet()), **context)  # noqa: S704 - our own file, hashed into the CSP
    )
    return HTMLResponse(html, status_code=status, headers={**page_headers(), **(headers or {})})
