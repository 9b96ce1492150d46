"""The dashboard's figures, shaped from the store's daily counters: pure functions, no I/O.

Each panel is a chart and the table of the numbers it draws (the chart's text alternative).
The counters are the ones the gateway keeps as it works (`gateway.receipts.ledger`,
`gateway.endpoints.tracking`, `gateway.email.recorder`); their kinds are the types of
`gateway.model.counts`, which read each stored label back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from gateway.admin import charts
from gateway.admin.charts import Series, percent
from gateway.admin.panels import Cell, Counts, Panel, Table, Tile, Window, svg_markup
from gateway.consent.model import NECESSARY
from gateway.model.counts import (
    ConsentAction,
    ConsentCategory,
    ConsentGpc,
    EmailClick,
    EmailOpen,
    PixelCount,
)

ACTIONS = (
    ("accept_all", "Accept all", "accept"),
    ("custom", "Custom", "custom"),
    ("reject_all", "Reject all", "reject"),
    ("withdraw", "Withdrawn", "withdraw"),
)
OUTCOMES = (
    ("forward", "Forwarded", "forward"),
    ("anonymous", "Anonymous", "anonymous"),
    ("redirect", "Redirected", "redirect"),
    ("block", "Blocked", "block"),
)
VERDICTS = (
    ("human", "Human", "human"),
    ("proxied", "Proxied", "proxied"),
    ("machine", "Machine", "machine"),
)
MAX_CAMPAIGNS = 8


def _actions_per_day(counts: Counts) -> dict[str, Counter[str]]:
    """`{day: Counter(action)}` of visitors' receipts (`ConsentAction` counts)."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for key, value in counts.items():
        count = ConsentAction.of(key)
        if count.kind == "visitor":
            table[key.day][count.action] += value
    return table


def _choices_per_day(counts: Counts) -> dict[str, Counter[tuple[str, bool]]]:
    """`{day: Counter((category, granted))}` of visitors' receipts (`ConsentCategory` counts)."""
    table: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
    for key, value in counts.items():
        count = ConsentCategory.of(key)
        if count.kind == "visitor":
            table[key.day][count.category, count.granted] += value
    return table


def _action_totals(counts: Counts) -> Counter[str]:
    total: Counter[str] = Counter()
    for day in _actions_per_day(counts).values():
        total.update(day)
    return total


def _gpc_totals(counts: Counts) -> Counter[str]:
    """Visitors' receipts with GPC (`on`) and without (`off`)."""
    total: Counter[str] = Counter()
    for key, value in counts.items():
        count = ConsentGpc.of(key)
        if count.kind == "visitor":
            total["on" if count.gpc else "off"] += value
    return total


def consent_actions(counts: Counts, window: Window) -> Panel:
    per_day = _actions_per_day(counts)
    known = {action for action, _, _ in ACTIONS}
    series = [
        Series(name, [per_day[day][action] for day in window.days], tone)
        for action, name, tone in ACTIONS
    ]
    other = [sum(v for a, v in per_day[day].items() if a not in known) for day in window.days]
    if any(other):
        series.append(Series("Other", other, "other"))
    rows: list[tuple[Cell, ...]] = [
        (
            label,
            *(int(s.values[i] or 0) for s in series),
            sum(int(s.values[i] or 0) for s in series),
        )
        for i, label in enumerate(window.labels)
    ]
    description = "Visitors' consent choices per day, stacked by kind of choice."
    return Panel(
        "choices",
        "Consent choices per day",
        svg_markup(
            charts.columns(
                "chart-choices", "Consent choices per day", description, window.labels, series
            )
        ),
        Table("Consent choices per day", ("Day", *(s.name for s in series), "Total"), rows),
    )


def opt_in_rates(counts: Counts, window: Window, categories: Sequence[str]) -> Panel:
    per_day = _choices_per_day(counts)
    shown = [category for category in categories if category != NECESSARY]
    series, rows = [], []
    for index, category in enumerate(shown):
        rates: list[float | None] = []
        for day in window.days:
            granted = per_day[day][category, True]
            asked = granted + per_day[day][category, False]
            rates.append(granted / asked if asked else None)
        series.append(Series(category.capitalize(), rates, f"cat{index % 6 + 1}"))
    for i, label in enumerate(window.labels):
        cells = tuple("—" if s.values[i] is None else percent(s.values[i] or 0.0) for s in series)
        rows.append((label, *cells))
    description = "Share of visitors' choices that granted each category, per day."
    return Panel(
        "opt-in",
        "Opt-in rate per category",
        svg_markup(
            charts.lines(
                "chart-opt-in", "Opt-in rate per category", description, window.labels, series
            )
        ),
        Table("Opt-in rate per category and day", ("Day", *(s.name for s in series)), rows),
        note="Days without a choice are left out of the line.",
    )


def _share_table(caption: str, head: str, parts: Sequence[tuple[str, float, str]]) -> Table:
    whole = sum(value for _, value, _ in parts)
    rows: list[tuple[Cell, ...]] = [
        (name, int(value), percent(value / whole) if whole else "—") for name, value, _ in parts
    ]
    return Table(caption, (head, "Choices", "Share"), rows)


def refusal_and_acceptance(action_counts: Counts) -> Panel:
    totals = _action_totals(action_counts)
    parts = [(name, float(totals[action]), tone) for action, name, tone in ACTIONS[:3]]
    description = "How visitors answered the banner: accept all, a custom choice, or reject all."
    return Panel(
        "refusal",
        "Refusal and acceptance",
        svg_markup(charts.share_bar("chart-refusal", "Refusal and acceptance", description, parts)),
        _share_table("Refusal and acceptance", "Choice", parts),
        note=f"Withdrawals in the period: {totals['withdraw']:,}.",
    )


def gpc_share(gpc_counts: Counts) -> Panel:
    totals = _gpc_totals(gpc_counts)
    parts = [("GPC on", float(totals["on"]), "gpc"), ("GPC off", float(totals["off"]), "neutral")]
    description = "Share of visitors' choices made with Global Privacy Control switched on."
    return Panel(
        "gpc",
        "Global Privacy Control",
        svg_markup(charts.share_bar("chart-gpc", "Global Privacy Control", description, parts)),
        _share_table("Global Privacy Control", "Signal", parts),
        note="GPC is an opt-out of marketing that no default overrides.",
    )


def pixel_decisions(counts: Counts, vendors: Sequence[str]) -> Panel:
    totals: dict[str, Counter[str]] = {vendor: Counter() for vendor in vendors}
    for key, value in counts.items():
        count = PixelCount.of(key)
        totals.setdefault(count.vendor, Counter())[count.outcome] += value
    rows = [(vendor, [float(t[o]) for o, _, _ in OUTCOMES]) for vendor, t in sorted(totals.items())]
    series = [(name, tone) for _, name, tone in OUTCOMES]
    description = "Analytics hits per vendor in the period, by what the gateway decided."
    table_rows: list[tuple[Cell, ...]] = [
        (vendor, *(int(v) for v in values), int(sum(values))) for vendor, values in rows
    ]
    return Panel(
        "pixels",
        "Hit decisions per vendor",
        svg_markup(
            charts.bar_rows("chart-pixels", "Hit decisions per vendor", description, rows, series)
        ),
        Table("Hit decisions per vendor", ("Vendor", *(n for n, _ in series), "Total"), table_rows),
    )


def email_by_campaign(counts: Counts, kind: str) -> Panel:
    """Opens (`kind="opens"`) or clicks per campaign, by verdict; the busiest campaigns first."""
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for key, value in counts.items():
        count = EmailClick.of(key) if key.metric == EmailClick.metric else EmailOpen.of(key)
        totals[count.campaign][count.verdict] += value
    busiest = sorted(totals, key=lambda c: (-sum(totals[c].values()), c))[:MAX_CAMPAIGNS]
    rows = [
        (campaign, [float(totals[campaign][v]) for v, _, _ in VERDICTS]) for campaign in busiest
    ]
    series = [(name, tone) for _, name, tone in VERDICTS]
    heading = f"Email {kind} per campaign"
    description = f"Email {kind} per campaign in the period, split into human, proxied and machine."
    table_rows: list[tuple[Cell, ...]] = [
        (campaign, *(int(v) for v in values), int(sum(values))) for campaign, values in rows
    ]
    note = (
        f"The {MAX_CAMPAIGNS} busiest of {len(totals)} campaigns."
        if len(totals) > MAX_CAMPAIGNS
        else ""
    )
    return Panel(
        f"email-{kind}",
        heading,
        svg_markup(charts.bar_rows(f"chart-email-{kind}", heading, description, rows, series)),
        Table(heading, ("Campaign", *(n for n, _ in series), "Total"), table_rows),
        note=note,
    )


def overview(actions: Counts, gpc: Counts, pixels: Counts, opens: Counts) -> list[Tile]:
    """The headline numbers of the period."""
    chosen = _action_totals(actions)
    answered = chosen["accept_all"] + chosen["custom"] + chosen["reject_all"]
    gpc_totals = _gpc_totals(gpc)
    with_gpc = gpc_totals["on"] + gpc_totals["off"]
    hits = sum(pixels.values())
    let_through = sum(
        v
        for k, v in pixels.items()
        if PixelCount.of(k).outcome in ("forward", "anonymous", "redirect")
    )
    human = sum(v for k, v in opens.items() if EmailOpen.of(k).verdict == "human")
    opened = sum(opens.values())

    def share(part: int, whole: int) -> str:
        return percent(part / whole) if whole else "—"

    return [
        Tile("choices", "Banner choices", f"{answered:,}", f"{chosen['withdraw']:,} withdrawn"),
        Tile(
            "accepted",
            "Accepted all",
            share(chosen["accept_all"], answered),
            f"of {answered:,} choices",
        ),
        Tile(
            "rejected",
            "Rejected all",
            share(chosen["reject_all"], answered),
            f"of {answered:,} choices",
        ),
        Tile("gpc", "With GPC", share(gpc_totals["on"], with_gpc), f"of {with_gpc:,} receipts"),
        Tile(
            "hits",
            "Hits decided",
            f"{hits:,}",
            f"{share(let_through, hits)} let through" if hits else "no hits yet",
        ),
        Tile("opens", "Human opens", f"{human:,}", f"of {opened:,} email opens"),
    ]
