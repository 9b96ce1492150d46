"""Reading the dashboard's HTML in tests: form tokens, tiles, and tables by caption."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def tile(html: str, name: str) -> str:
    match = re.search(rf'id="tile-{name}">.*?<dd class="value">([^<]*)</dd>', html, re.S)
    assert match, f"no tile {name}"
    return match.group(1)


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption or f"table {len(self.tables)}"] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data.strip()
        elif self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """Every table on the page: caption → rows of cell texts (the head row first)."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def row(html: str, caption: str, first_cell: str) -> list[str]:
    for cells in tables(html)[caption]:
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in {caption!r}")


async def log_in(http: httpx.AsyncClient, token: str, origin: str = "http://gateway.test") -> None:
    page = await http.get("/admin/login")
    answer = await http.post(
        "/admin/login",
        data={"csrf_token": form_token(page.text), "token": token},
        headers={"Origin": origin},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/admin"
