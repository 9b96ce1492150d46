"""The recipient-facing HTML: the preferences page and the bad-link page (Jinja2, en/ru).

Both are self-contained: one inline stylesheet admitted by its hash, no scripts, no external
assets, under a Content-Security-Policy that allows nothing else; forms post only to the page.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from gateway.email.page_texts import LANGUAGES, PAGE_TEXTS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )


@cache
def _stylesheet() -> str:
    return (TEMPLATES / "email_page.css").read_text(encoding="utf-8")


@cache
def page_headers() -> dict[str, str]:
    """Headers for every recipient page: strict CSP; the URL (a capability) is never sent to
    another site as a referrer. Not `no-referrer`: with it, browsers send `Origin: null` on the
    page's own form posts, and the Origin check needs the real one."""
    digest = hashlib.sha256(_stylesheet().encode()).digest()
    style = "'sha256-" + base64.b64encode(digest).decode() + "'"
    policy = (
        f"default-src 'none'; style-src {style}; form-action 'self'; base-uri 'none';"
        " frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex",
    }


def _render(template: str, language: str, **context: Any) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            language=language,
            t=PAGE_TEXTS[language],
            css=Markup(_stylesheet()),  # noqa: S704 - our own file, hashed into the CSP
            languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            **context,
        )
    )


def preferences_page(
    *, language: str, state: str, page_path: str, form_token: str, notice: str = ""
) -> str:
    return _render(
        "email_preferences.html",
        language,
        state=state,
        page_path=page_path,
        form_token=form_token,
        notice=notice,
    )


def link_not_found_page(language: str) -> str:
    return _render("email_link_not_found.html", language)
