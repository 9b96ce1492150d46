"""What a dashboard panel is made of: a chart and the table of its numbers, a headline tile,
and the window of days shown. Shapes only; `figures` and `form_figures` fill them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup

from gateway.model.counts import CountKey

Counts = Mapping[CountKey, int]
Cell = str | int


@dataclass(frozen=True, slots=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


@dataclass(frozen=True, slots=True)
class Panel:
    id: str
    heading: str
    chart: Markup
    table: Table
    note: str = ""


@dataclass(frozen=True, slots=True)
class Tile:
    id: str
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    """The days shown: `days` ISO dates, oldest first, ending with `last`."""

    days: list[str] = field(default_factory=list)

    @classmethod
    def ending(cls, last: date, length: int) -> Window:
        return cls([(last - timedelta(days=n)).isoformat() for n in range(length - 1, -1, -1)])

    @property
    def labels(self) -> list[str]:
        return [f"{day.day} {day:%b}" for day in map(date.fromisoformat, self.days)]


def svg_markup(svg: str) -> Markup:
    """A chart from `charts`, which escapes every text it draws."""
    return Markup(svg)  # noqa: S704
