"""Self-contained server-rendered pages (the dashboard, the recipients' pages): Jinja2 templates
from one folder, one inline stylesheet admitted by its hash, no scripts, no external assets.

The Content-Security-Policy allows nothing else, forms post only to the gateway, and the pages
are never cached or indexed. The referrer policy is `same-origin`, not `no-referrer`: with the
latter, browsers send `Origin: null` on a page's own form posts, and the Origin check needs the
real one; a page's URL (a capability on the recipients' pages) never goes to another site.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup


class StrictPages:
    """Templates in `templates`, styled by the file `stylesheet` there; read on first use."""

    def __init__(
        self,
        templates: Path,
        stylesheet: str,
        *,
        img_src: str = "",  # e.g. "'self' data:" for inline SVG charts; nothing by default
        extra_headers: Mapping[str, str] | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        trim_blocks: bool = False,
    ) -> None:
        self.templates, self.stylesheet = templates, stylesheet
        self._img_src, self._extra_headers = img_src, dict(extra_headers or {})
        self._filters, self._trim_blocks = dict(filters or {}), trim_blocks
        self._environment: Environment | None = None
        self._css: str | None = None
        self._headers: dict[str, str] | None = None

    def css(self) -> str:
        if self._css is None:
            self._css = (self.templates / self.stylesheet).read_text(encoding="utf-8")
        return self._css

    def headers(self) -> dict[str, str]:
        """The headers of every page: the strict CSP and its companions."""
        if self._headers is None:
            digest = hashlib.sha256(self.css().encode()).digest()
            style = "'sha256-" + base64.b64encode(digest).decode() + "'"
            images = f" img-src {self._img_src};" if self._img_src else ""
            policy = (
                f"default-src 'none'; style-src {style};{images} form-action 'self';"
                " base-uri 'none'; frame-ancestors 'none'"
            )
            self._headers = {
                "Content-Security-Policy": policy,
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "X-Robots-Tag": "noindex",
                **self._extra_headers,
            }
        return dict(self._headers)

    def render(self, template: str, **context: Any) -> str:
        """`template` with `context` and the stylesheet as `css`."""
        css = Markup(self.css())  # noqa: S704 - our own file, hashed into the CSP
        return self._jinja().get_template(template).render(css=css, **context)

    def _jinja(self) -> Environment:
        if self._environment is None:
            environment = Environment(
                loader=FileSystemLoader(self.templates),
                autoescape=select_autoescape(["html"]),
                auto_reload=False,
                trim_blocks=self._trim_blocks,
                lstrip_blocks=self._trim_blocks,
            )
            environment.filters.update(self._filters)
            self._environment = environment
        return self._environment
