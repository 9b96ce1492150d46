"""The recipient-facing HTML: the preferences page and the bad-link page (Jinja2, en/ru).

Both are self-contained: one inline stylesheet admitted by its hash, no scripts, no external
assets, under a Content-Security-Policy that allows nothing else; forms post only to the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.email.page_texts import LANGUAGES, PAGE_TEXTS
from gateway.html_pages import StrictPages

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
PAGES = StrictPages(TEMPLATES, "email_page.css")


def page_headers() -> dict[str, str]:
    """Headers for every recipient page (`StrictPages.headers`)."""
    return PAGES.headers()


def _render(template: str, language: str, **context: Any) -> str:
    return PAGES.render(
        template,
        language=language,
        t=PAGE_TEXTS[language],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        **context,
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
