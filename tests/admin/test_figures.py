"""The dashboard's figures, shaped from daily counters (the labels the gateway writes)."""

from __future__ import annotations

from datetime import date

from gateway.admin import figures
from gateway.admin.panels import Window
from gateway.store.base import CountKey

WINDOW = Window.ending(date(2026, 11, 25), 3)  # 23, 24, 25 Nov


def counts(metric: str, **by_day: dict[str, int]) -> dict[CountKey, int]:
    """`counts("pixel", d25={"ga4:forward": 2})` → the store's shape."""
    return {
        CountKey(f"2026-11-{day[1:]}", metric, label): value
        for day, labels in by_day.items()
        for label, value in labels.items()
    }


def test_a_window_ends_today_and_labels_its_days() -> None:
    assert WINDOW.days == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert WINDOW.labels == ["23 Nov", "24 Nov", "25 Nov"]


def test_consent_actions_count_visitors_per_day_and_gather_rarer_actions() -> None:
    actions = counts(
        "consent_action",
        d23={"visitor:accept_all": 2, "visitor:reject_all": 1, "recipient:api": 9},
        d25={"visitor:custom": 1, "visitor:withdraw": 1, "visitor:objection": 3},
    )
    panel = figures.consent_actions(actions, WINDOW)
    assert panel.table.head == (
        "Day",
        "Accept all",
        "Custom",
        "Reject all",
        "Withdrawn",
        "Other",
        "Total",
    )
    assert panel.table.rows == [
        ("23 Nov", 2, 0, 1, 0, 0, 3),
        ("24 Nov", 0, 0, 0, 0, 0, 0),
        ("25 Nov", 0, 1, 0, 1, 3, 5),
    ]  # recipients' API choices are email, not banner, choices


def test_opt_in_rate_is_granted_over_asked_per_category_and_day() -> None:
    categories = counts(
        "consent_category",
        d23={
            "visitor:analytics:granted": 3,
            "visitor:analytics:denied": 1,
            "visitor:necessary:granted": 4,
        },
        d25={"visitor:marketing:denied": 2},
    )
    panel = figures.opt_in_rates(categories, WINDOW, ("necessary", "analytics", "marketing"))
    assert panel.table.head == ("Day", "Analytics", "Marketing")  # necessary is never a choice
    assert panel.table.rows == [("23 Nov", "75%", "—"), ("24 Nov", "—", "—"), ("25 Nov", "—", "0%")]


def test_refusal_and_gpc_shares_add_up_over_the_period() -> None:
    actions = counts(
        "consent_action",
        d23={"visitor:accept_all": 3, "visitor:reject_all": 1},
        d24={"visitor:reject_all": 4, "visitor:withdraw": 2},
    )
    refusal = figures.refusal_and_acceptance(actions)
    assert refusal.table.rows == [
        ("Accept all", 3, "38%"),
        ("Custom", 0, "0%"),
        ("Reject all", 5, "62%"),
    ]
    assert refusal.note == "Withdrawals in the period: 2."
    gpc = figures.gpc_share(counts("consent_gpc", d25={"visitor:on": 1, "visitor:off": 3}))
    assert gpc.table.rows == [("GPC on", 1, "25%"), ("GPC off", 3, "75%")]


def test_pixel_decisions_list_every_vendor_with_a_rule_even_without_hits() -> None:
    pixels = counts(
        "pixel",
        d23={"ga4:forward": 2, "ga4:block": 1},
        d25={"ga4:anonymous": 4, "meta_pixel:block": 5},
    )
    panel = figures.pixel_decisions(pixels, ["ga4", "matomo", "meta_pixel"])
    assert panel.table.rows == [
        ("ga4", 2, 4, 0, 1, 7),
        ("matomo", 0, 0, 0, 0, 0),
        ("meta_pixel", 0, 0, 0, 5, 5),
    ]


def test_email_opens_and_clicks_split_by_verdict_busiest_campaigns_first() -> None:
    opens = counts(
        "email_open", d23={"spring|human": 2, "spring|proxied": 5}, d25={"autumn|machine": 1}
    )
    clicks = counts(
        "email_click", d24={"spring|1|human": 1, "spring|2|human": 2, "spring|2|machine": 4}
    )
    assert figures.email_by_campaign(opens, "opens").table.rows == [
        ("spring", 2, 5, 0, 7),
        ("autumn", 0, 0, 1, 1),
    ]
    assert figures.email_by_campaign(clicks, "clicks").table.rows == [("spring", 3, 0, 4, 7)]


def test_only_the_busiest_campaigns_are_drawn() -> None:
    opens = counts("email_open", d25={f"c{n:02d}|human": n for n in range(1, 13)})
    panel = figures.email_by_campaign(opens, "opens")
    assert [row[0] for row in panel.table.rows] == [f"c{n:02d}" for n in range(12, 4, -1)]
    assert panel.note == "The 8 busiest of 12 campaigns."


def test_overview_tiles() -> None:
    tiles = figures.overview(
        counts(
            "consent_action",
            d23={"visitor:accept_all": 3, "visitor:reject_all": 1, "visitor:withdraw": 1},
        ),
        counts("consent_gpc", d23={"visitor:on": 1, "visitor:off": 4}),
        counts("pixel", d23={"ga4:forward": 3, "ga4:block": 1}),
        counts("email_open", d23={"s|human": 1, "s|machine": 1}),
    )
    assert {t.id: (t.value, t.detail) for t in tiles} == {
        "choices": ("4", "1 withdrawn"),
        "accepted": ("75%", "of 4 choices"),
        "rejected": ("25%", "of 4 choices"),
        "gpc": ("20%", "of 5 receipts"),
        "hits": ("4", "75% let through"),
        "opens": ("1", "of 2 email opens"),
    }


def test_an_empty_period_shows_dashes_not_errors() -> None:
    tiles = figures.overview({}, {}, {}, {})
    assert [t.value for t in tiles] == ["0", "—", "—", "—", "0", "0"]
