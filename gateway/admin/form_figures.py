"""The dashboard's form figures ("statistics on feedback forms"): per form and purpose, the boxes
ticked and left unticked, the confirmations and the unsubscribes; the refusals in a note.
A pure function of counts, like `gateway.admin.figures`."""

from __future__ import annotations

from collections import Counter, defaultdict

from gateway.admin import charts
from gateway.admin.panels import Cell, Counts, Panel, Table, svg_markup
from gateway.model.counts import FormEvent, FormRefusal

FORM_EVENTS = (
    ("ticked", "Ticked", "accept"),
    ("unticked", "Unticked", "reject"),
    ("confirmed", "Confirmed", "custom"),
    ("unsubscribed", "Unsubscribed", "withdraw"),
)
MAX_ROWS = 12
ANY_FORM = "(any form)"  # an unsubscribe link names the person, not the form


def form_figures(events: Counts, refusals: Counts) -> Panel:
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for key, value in events.items():
        event = FormEvent.of(key)
        totals[f"{event.form or ANY_FORM} · {event.purpose}"][event.what] += value
    busiest = sorted(totals, key=lambda row: (-sum(totals[row].values()), row))[:MAX_ROWS]
    rows = [(row, [float(totals[row][what]) for what, _, _ in FORM_EVENTS]) for row in busiest]
    series = [(name, tone) for _, name, tone in FORM_EVENTS]
    heading = "Consent forms"
    description = (
        "Per form and purpose in the period: boxes ticked and left unticked on submission,"
        " double opt-ins confirmed, and unsubscribes."
    )
    table_rows: list[tuple[Cell, ...]] = [(row, *(int(v) for v in values)) for row, values in rows]
    refused: Counter[str] = Counter()
    for key, value in refusals.items():
        refused[FormRefusal.of(key).reason] += value
    note = "Refused: " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(refused.items()))
    return Panel(
        "forms",
        heading,
        svg_markup(charts.bar_rows("chart-forms", heading, description, rows, series)),
        Table(heading, ("Form · purpose", *(name for name, _ in series)), table_rows),
        note=note if refused else "No submission or confirmation was refused.",
    )
