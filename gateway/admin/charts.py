"""Server-rendered SVG charts: pure functions, data in, an SVG string out.

Every chart is an `<svg role="img">` named by its `<title>` and `<desc>`, every mark carries a
`<title>` with its exact value (a hover tooltip, and text for assistive technology), and every
piece of text that came from data is escaped. Colours are CSS classes (`tone-*`) themed by the
page's stylesheet, so one chart reads well in light and dark mode; no `style` attributes, so
the page's Content-Security-Policy needs no `unsafe-inline`.

    >>> svg = columns("c1", "Choices", "Per day", ["1 Nov"], [Series("Accept", [3], "accept")])
    >>> svg.startswith("<svg") and "<title>1 Nov · Accept: 3</title>" in svg
    True
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
_CHAR_WIDTH = 7.2  # of the 13-unit sans-serif text, to lay out legends without a font engine
_TONE = re.compile(r"[a-z0-9-]{1,32}")


@dataclass(frozen=True, slots=True)
class Series:
    """One named series; `tone` picks its colour (`tone-<tone>` in the stylesheet)."""

    name: str
    values: Sequence[float | None]
    tone: str


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def compact(value: float) -> str:
    """`1234` → `1.2k`, `12.0` → `12`: numbers short enough for an axis."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.1f}".removesuffix(".0")


def percent(share: float) -> str:
    return f"{share * 100:.0f}%" if share >= 0.01 or share == 0 else "<1%"


def nice_scale(maximum: float, ticks: int = 4) -> tuple[float, float]:
    """A rounded top of the axis and the step between gridlines, for counts (steps ≥ 1)."""
    if maximum <= 0:
        return float(ticks), 1.0
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 2.5, 5, 10) if magnitude >= 10 else (1, 2, 5, 10)  # no 2.5 of a count
    step = next(m * magnitude for m in steps if raw <= m * magnitude)
    step = max(step, 1.0)
    return math.ceil(maximum / step - 1e-9) * step, step


def _tone(tone: str) -> str:
    return f"tone-{tone}" if _TONE.fullmatch(tone) else "tone-other"


def _open(chart_id: str, title: str, description: str, height: float) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:g}"'
        f' role="img" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
    ]


def _legend(entries: Sequence[tuple[str, str]], y: float) -> list[str]:
    parts, x = ['<g class="legend">'], 0.0
    for name, tone in entries:
        parts.append(
            f'<rect class="{_tone(tone)}" x="{x:g}" y="{y - 9:g}" width="10" height="10" rx="2"/>'
            f'<text x="{x + 14:g}" y="{y:g}">{escape(name)}</text>'
        )
        x += 14 + len(name) * _CHAR_WIDTH + 16
    parts.append("</g>")
    return parts


def _empty(parts: list[str], x: float, y: float) -> None:
    parts.append(f'<text class="empty" x="{x:g}" y="{y:g}" text-anchor="middle">No data yet</text>')


def _plot_frame(
    parts: list[str],
    top: float,
    bottom: float,
    left: float,
    scale: tuple[float, float],
    as_percent: bool,
) -> None:
    highest, step = scale
    value = 0.0
    while value <= highest + 1e-9:
        y = bottom - (bottom - top) * value / highest
        label = percent(value) if as_percent else compact(value)
        parts.append(
            f'<line class="gridline" x1="{left:g}" x2="{WIDTH:g}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6:g}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
        value += step


def _x_labels(parts: list[str], labels: Sequence[str], left: float, band: float, y: float) -> None:
    """At most about eight labels, counted back from the last (today is always labelled)."""
    every = max(1, math.ceil(len(labels) / 8))
    last = len(labels) - 1
    for index, label in enumerate(labels):
        if (last - index) % every == 0:
            x = left + band * (index + 0.5)
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{y:g}" text-anchor="middle">{escape(label)}</text>'
            )


def columns(
    chart_id: str, title: str, description: str, labels: Sequence[str], series: Sequence[Series]
) -> str:
    """Stacked columns, one per label (a day), one segment per series."""
    height, top, bottom, left = 250.0, 34.0, 222.0, 44.0
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    scale = nice_scale(max(totals, default=0))
    parts = _open(chart_id, title, description, height)
    parts += _legend([(s.name, s.tone) for s in series], 12)
    _plot_frame(parts, top, bottom, left, scale, as_percent=False)
    band = (WIDTH - left) / max(len(labels), 1)
    for index, label in enumerate(labels):
        base = bottom
        for each in series:
            value = each.values[index] or 0
            if value <= 0:
                continue
            tall = (bottom - top) * value / scale[0]
            base -= tall
            parts.append(
                f'<rect class="{_tone(each.tone)}" x="{left + band * (index + 0.15):.1f}"'
                f' y="{base:.1f}" width="{band * 0.7:.1f}" height="{tall:.1f}">'
                f"<title>{escape(label)} · {escape(each.name)}: {compact(value)}</title></rect>"
            )
    if not any(totals):
        _empty(parts, left + (WIDTH - left) / 2, (top + bottom) / 2)
    _x_labels(parts, labels, left, band, height - 8)
    parts.append("</svg>")
    return "".join(parts)


def lines(
    chart_id: str, title: str, description: str, labels: Sequence[str], series: Sequence[Series]
) -> str:
    """Shares (0 to 1) per label, one line per series; `None` (nothing to divide) breaks a line."""
    height, top, bottom, left = 250.0, 34.0, 222.0, 44.0
    parts = _open(chart_id, title, description, height)
    parts += _legend([(s.name, s.tone) for s in series], 12)
    _plot_frame(parts, top, bottom, left, (1.0, 0.25), as_percent=True)
    band = (WIDTH - left) / max(len(labels), 1)
    seen = False
    for rank, each in enumerate(series):
        radius = 3.5 + 1.5 * (len(series) - 1 - rank)  # equal shares show as concentric rings
        runs: list[list[str]] = [[]]
        points = []
        for index, (label, share) in enumerate(zip(labels, each.values, strict=True)):
            if share is None:
                runs.append([])
                continue
            share = min(max(share, 0.0), 1.0)
            x, y = left + band * (index + 0.5), bottom - (bottom - top) * share
            runs[-1].append(f"{x:.1f},{y:.1f}")
            points.append(
                f'<circle class="{_tone(each.tone)}" cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}">'
                f"<title>{escape(label)} · {escape(each.name)}: {percent(share)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline class="line {_tone(each.tone)}" points="{" ".join(run)}"/>'
                )
        parts += points
        seen = seen or bool(points)
    if not seen:
        _empty(parts, left + (WIDTH - left) / 2, (top + bottom) / 2)
    _x_labels(parts, labels, left, band, height - 8)
    parts.append("</svg>")
    return "".join(parts)


def bar_rows(
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[tuple[str, str]],
) -> str:
    """Horizontal stacked bars, one row per label; `series` names (and tones) each segment."""
    left, row_height, top = 150.0, 28.0, 30.0
    height = top + row_height * max(len(rows), 1) + 6
    totals = [sum(values) for _, values in rows]
    highest = max(totals, default=0) or 1
    parts = _open(chart_id, title, description, height)
    parts += _legend(series, 12)
    for index, (label, values) in enumerate(rows):
        y = top + row_height * index
        shown = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<text class="axis" x="{left - 8:g}" y="{y + 17:g}" text-anchor="end">{escape(shown)}'
            f"<title>{escape(label)}</title></text>"
        )
        x = left
        for (name, tone), value in zip(series, values, strict=True):
            if value <= 0:
                continue
            wide = (WIDTH - left - 56) * value / highest
            parts.append(
                f'<rect class="{_tone(tone)}" x="{x:.1f}" y="{y + 4:g}" width="{wide:.1f}" height="18">'
                f"<title>{escape(label)} · {escape(name)}: {compact(value)}</title></rect>"
            )
            x += wide
        parts.append(
            f'<text class="total" x="{x + 6:.1f}" y="{y + 17:g}">{compact(totals[index])}</text>'
        )
    if not any(totals):
        _empty(parts, left + (WIDTH - left) / 2, top + row_height * max(len(rows), 1) / 2 + 4)
    parts.append("</svg>")
    return "".join(parts)


def share_bar(
    chart_id: str, title: str, description: str, parts_of_whole: Sequence[tuple[str, float, str]]
) -> str:
    """One bar split into the shares of its parts, each labelled with its percentage."""
    height, y = 74.0, 22.0
    whole = sum(value for _, value, _ in parts_of_whole)
    parts = _open(chart_id, title, description, height)
    x = 0.0
    legend: list[tuple[str, str]] = []
    for name, value, tone in parts_of_whole:
        share = value / whole if whole else 0.0
        legend.append((f"{name} {percent(share)} ({compact(value)})", tone))
        if share <= 0:
            continue
        wide = WIDTH * share
        parts.append(
            f'<rect class="{_tone(tone)}" x="{x:.1f}" y="{y:g}" width="{wide:.1f}" height="22">'
            f"<title>{escape(name)}: {percent(share)} ({compact(value)})</title></rect>"
        )
        x += wide
    if not whole:
        parts.append(f'<rect class="track" x="0" y="{y:g}" width="{WIDTH}" height="22"/>')
        _empty(parts, WIDTH / 2, y + 15)
    parts += _legend(legend, 66)
    parts.append("</svg>")
    return "".join(parts)
