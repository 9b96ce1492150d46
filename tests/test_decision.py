"""`decide` over every combination of consent, GPC, region, bot, rule shape and category.

The expectations are written out below, row by row, from the product rules — not computed
by a second copy of `decide`. Invariants are then checked over an even larger product.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal, cast, get_args

import pytest

from gateway.consent.model import Consent
from gateway.decision import ConsentModeState, Decision, Reason, Signals, decide
from gateway.rules.model import HitRule, Rule

REVISION = 7
Region = Literal["opt_in", "opt_out"]
REGIONS: tuple[Region, ...] = ("opt_in", "opt_out")

CONSENTS: dict[str, Consent | None] = {
    "none": None,
    "granted": Consent("c1", REVISION, frozenset({"analytics", "marketing"}), chosen_at=1),
    "denied": Consent("c2", REVISION, frozenset(), chosen_at=1),
    "stale": Consent("c3", REVISION - 1, frozenset({"analytics", "marketing"}), chosen_at=1),
    # Both categories granted, but this rule's vendor ("vendor") refused in the banner...
    "refused": Consent(
        "c4",
        REVISION,
        frozenset({"analytics", "marketing"}),
        1,
        refused_vendors=frozenset({"vendor"}),
    ),
    # ... or another vendor refused, which changes nothing for this one.
    "other_refused": Consent(
        "c5",
        REVISION,
        frozenset({"analytics", "marketing"}),
        1,
        refused_vendors=frozenset({"other"}),
    ),
}

UPSTREAM = "https://vendor.example/collect"
SHAPES: dict[str, HitRule] = {
    "forward": HitRule(mode="forward", upstream=UPSTREAM),
    "forward_anon": HitRule(mode="forward", upstream=UPSTREAM, without_consent="anonymous"),
    "redirect": HitRule(mode="redirect", upstream=UPSTREAM),
    "mode_block": HitRule(mode="block"),
}
# Shapes the loader refuses, but which `decide` must still handle safely.
ODD_SHAPES: dict[str, HitRule] = {
    "redirect_anon": HitRule(mode="redirect", upstream=UPSTREAM, without_consent="anonymous"),
    "mode_block_anon": HitRule(mode="block", without_consent="anonymous"),
}


def make_rule(shape: str, category: str) -> Rule:
    hit = {**SHAPES, **ODD_SHAPES}[shape]
    return Rule("vendor", "Vendor", category, "https://vendor.example/privacy", hit)


# For a human visitor and a rule whose mode is not "block" (that is always block/rule_blocks,
# and a bot always block/bot). "granted" grants analytics and marketing; "denied" grants
# nothing; "stale" grants both under the previous policy revision; "refused" grants both but
# refuses this vendor, "other_refused" refuses another one.
#
# consent  gpc  region   category   reason          forward  forward_anon  redirect
EXPECTED = """
none       off  opt_in   analytics  no_consent      block    anonymous     block
none       on   opt_in   analytics  no_consent      block    anonymous     block
none       off  opt_out  analytics  opt_out_region  forward  forward       redirect
none       on   opt_out  analytics  opt_out_region  forward  forward       redirect
none       off  opt_in   marketing  no_consent      block    anonymous     block
none       on   opt_in   marketing  gpc             block    block         block
none       off  opt_out  marketing  opt_out_region  forward  forward       redirect
none       on   opt_out  marketing  gpc             block    block         block
granted    off  opt_in   analytics  consented       forward  forward       redirect
granted    on   opt_in   analytics  consented       forward  forward       redirect
granted    off  opt_out  analytics  consented       forward  forward       redirect
granted    on   opt_out  analytics  consented       forward  forward       redirect
granted    off  opt_in   marketing  consented       forward  forward       redirect
granted    on   opt_in   marketing  gpc             block    block         block
granted    off  opt_out  marketing  consented       forward  forward       redirect
granted    on   opt_out  marketing  gpc             block    block         block
denied     off  opt_in   analytics  denied          block    anonymous     block
denied     on   opt_in   analytics  denied          block    anonymous     block
denied     off  opt_out  analytics  denied          block    anonymous     block
denied     on   opt_out  analytics  denied          block    anonymous     block
denied     off  opt_in   marketing  denied          block    anonymous     block
denied     on   opt_in   marketing  gpc             block    block         block
denied     off  opt_out  marketing  denied          block    anonymous     block
denied     on   opt_out  marketing  gpc             block    block         block
stale      off  opt_in   analytics  stale_revision  block    anonymous     block
stale      on   opt_in   analytics  stale_revision  block    anonymous     block
stale      off  opt_out  analytics  opt_out_region  forward  forward       redirect
stale      on   opt_out  analytics  opt_out_region  forward  forward       redirect
stale      off  opt_in   marketing  stale_revision  block    anonymous     block
stale      on   opt_in   marketing  gpc             block    block         block
stale      off  opt_out  marketing  opt_out_region  forward  forward       redirect
stale      on   opt_out  marketing  gpc             block    block         block
refused    off  opt_in   analytics  vendor_refused  block    anonymous     block
refused    on   opt_in   analytics  vendor_refused  block    anonymous     block
refused    off  opt_out  analytics  vendor_refused  block    anonymous     block
refused    on   opt_out  analytics  vendor_refused  block    anonymous     block
refused    off  opt_in   marketing  vendor_refused  block    anonymous     block
refused    on   opt_in   marketing  gpc             block    block         block
refused    off  opt_out  marketing  vendor_refused  block    anonymous     block
refused    on   opt_out  marketing  gpc             block    block         block
other_refused  off  opt_in   analytics  consented   forward  forward       redirect
other_refused  on   opt_in   analytics  consented   forward  forward       redirect
other_refused  off  opt_out  analytics  consented   forward  forward       redirect
other_refused  on   opt_out  analytics  consented   forward  forward       redirect
other_refused  off  opt_in   marketing  consented   forward  forward       redirect
other_refused  on   opt_in   marketing  gpc         block    block         block
other_refused  off  opt_out  marketing  consented   forward  forward       redirect
other_refused  on   opt_out  marketing  gpc         block    block         block
"""


@dataclass(frozen=True)
class Case:
    consent: str
    gpc: bool
    region: Region
    category: str
    shape: str
    bot: bool

    def run(self, objected: frozenset[str] = frozenset()) -> Decision:
        signals = Signals(REVISION, self.gpc, self.region, self.bot, objected)
        return decide(make_rule(self.shape, self.category), CONSENTS[self.consent], signals)


def table_cases() -> list[object]:
    params: list[object] = []
    for line in EXPECTED.strip().splitlines():
        consent, gpc, region, category, reason, *outcomes = line.split()
        expected_by_shape = dict(
            zip(("forward", "forward_anon", "redirect"), outcomes, strict=True)
        )
        for shape, bot in itertools.product(SHAPES, (False, True)):
            if bot:
                expected = Decision("block", "bot")
            elif shape == "mode_block":
                expected = Decision("block", "rule_blocks")
            else:
                expected = Decision(expected_by_shape[shape], reason)  # type: ignore[arg-type]
            case = Case(consent, gpc == "on", cast(Region, region), category, shape, bot)
            case_id = f"{consent}-gpc_{gpc}-{region}-{category}-{shape}-{'bot' if bot else 'human'}"
            params.append(pytest.param(case, expected, id=case_id))
    return params


def test_table_covers_every_combination() -> None:
    rows = {tuple(line.split()[:4]) for line in EXPECTED.strip().splitlines()}
    every = itertools.product(
        CONSENTS, ("off", "on"), ("opt_in", "opt_out"), ("analytics", "marketing")
    )
    assert rows == set(every)
    assert len(table_cases()) == len(CONSENTS) * 2 * 2 * 2 * 4 * 2


@pytest.mark.parametrize(("case", "expected"), table_cases())
def test_decide_table(case: Case, expected: Decision) -> None:
    decision = case.run()
    assert (decision.outcome, decision.reason) == (expected.outcome, expected.reason)


# Invariants over the full product, odd shapes and objections included.

EVERY_CASE = [
    Case(consent, gpc, region, category, shape, bot)
    for consent, gpc, region, category, shape, bot in itertools.product(
        CONSENTS,
        (False, True),
        REGIONS,
        ("analytics", "marketing"),
        [*SHAPES, *ODD_SHAPES],
        (False, True),
    )
]
OBJECTIONS: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset({"analytics"}),
    frozenset({"marketing"}),
)
EVERY_RUN = [(case, objected, case.run(objected)) for case in EVERY_CASE for objected in OBJECTIONS]


def test_every_reason_is_a_known_code() -> None:
    known = set(get_args(Reason))
    app_refused = Signals(REVISION, app_tracking="refused")
    from_apps = decide(make_rule("forward", "marketing"), None, app_refused).reason
    # `not_allowed_value` is the edge's, not decide()'s: a hit naming a property not the site's.
    assert {decision.reason for _, _, decision in EVERY_RUN} | {from_apps} == known - {
        "not_allowed_value"
    }


def test_bots_never_reach_a_vendor() -> None:
    for case, _, decision in EVERY_RUN:
        if case.bot:
            assert decision == Decision("block", "bot"), case


def test_gpc_blocks_marketing_whatever_the_consent_or_region() -> None:
    for case, _, decision in EVERY_RUN:
        if case.gpc and case.category == "marketing":
            assert decision.outcome == "block", case


def test_objection_blocks_its_category_and_never_pings() -> None:
    for case, objected, decision in EVERY_RUN:
        if case.category in objected:
            assert decision.outcome == "block", (case, objected)
            if not case.bot and not case.shape.startswith("mode_block"):
                assert decision.reason == "objection", (case, objected)


def test_a_refused_vendor_never_sees_a_browser() -> None:
    for case, _, decision in EVERY_RUN:
        if case.consent == "refused":
            assert decision.outcome in {"block", "anonymous"}, case


def test_mode_block_always_blocks() -> None:
    for case, _, decision in EVERY_RUN:
        if case.shape.startswith("mode_block"):
            assert decision.outcome == "block", case


def test_outcome_matches_the_rule_mode() -> None:
    possible = {"forward": {"forward", "anonymous", "block"}, "redirect": {"redirect", "block"}}
    for case, _, decision in EVERY_RUN:
        mode = make_rule(case.shape, case.category).hit.mode
        assert decision.outcome in possible.get(mode, {"block"}), case


def test_anonymous_only_where_the_rule_allows_it_and_consent_is_missing() -> None:
    for case, _, decision in EVERY_RUN:
        if decision.outcome == "anonymous":
            assert case.shape == "forward_anon", case
            assert decision.reason in {
                "denied",
                "vendor_refused",
                "no_consent",
                "stale_revision",
            }, case


def test_vendor_sees_a_browser_only_with_consent_or_an_opt_out_default() -> None:
    for case, objected, decision in EVERY_RUN:
        if decision.outcome in {"forward", "redirect"}:
            granted_now = case.consent in {"granted", "other_refused"}
            opt_out_default = case.region == "opt_out" and case.consent in {"none", "stale"}
            assert granted_now or opt_out_default, case
            assert not case.bot, case
            assert case.category not in objected, case
            assert not (case.gpc and case.category == "marketing"), case


# Single cases the table does not spell out.


def test_gpc_recorded_in_the_cookie_counts_even_without_the_header() -> None:
    consent = Consent("c4", REVISION, frozenset({"marketing"}), chosen_at=1, gpc=True)
    rule = make_rule("forward", "marketing")
    assert decide(rule, consent, Signals(REVISION)) == Decision("block", "gpc")
    assert decide(make_rule("forward", "analytics"), consent, Signals(REVISION)).outcome == "block"


def test_gpc_does_not_touch_analytics() -> None:
    rule = make_rule("forward", "analytics")
    decision = decide(rule, CONSENTS["granted"], Signals(REVISION, gpc=True))
    assert decision == Decision("forward", "consented", frozenset({"analytics"}))


def test_objection_beats_an_explicit_consent_and_the_opt_out_default() -> None:
    rule = make_rule("forward_anon", "analytics")
    objected = frozenset({"analytics"})
    for consent in CONSENTS.values():
        for region in REGIONS:
            signals = Signals(REVISION, region_policy=region, objected=objected)
            assert decide(rule, consent, signals) == Decision("block", "objection")


def test_objection_to_another_category_changes_nothing() -> None:
    rule = make_rule("redirect", "marketing")
    signals = Signals(REVISION, objected=frozenset({"analytics"}))
    assert decide(rule, CONSENTS["granted"], signals) == Decision(
        "redirect", "consented", frozenset({"marketing"})
    )


def test_consent_granting_only_necessary_is_a_denial() -> None:
    consent = Consent("c5", REVISION, frozenset({"necessary"}), chosen_at=1)
    rule = make_rule("forward_anon", "analytics")
    assert decide(rule, consent, Signals(REVISION)) == Decision("anonymous", "denied")


def test_a_newer_revision_than_current_also_counts_as_none() -> None:
    consent = Consent("c6", REVISION + 1, frozenset({"analytics"}), chosen_at=1)
    rule = make_rule("forward", "analytics")
    assert decide(rule, consent, Signals(REVISION)) == Decision("block", "stale_revision")


@pytest.mark.parametrize(
    ("signals", "reason"),
    [
        pytest.param(Signals(REVISION, gpc=True, is_bot=True), "bot", id="bot-before-gpc"),
        pytest.param(
            Signals(REVISION, gpc=True, objected=frozenset({"marketing"})),
            "objection",
            id="objection-before-gpc",
        ),
    ],
)
def test_precedence_of_reasons(signals: Signals, reason: str) -> None:
    rule = make_rule("forward", "marketing")
    assert decide(rule, CONSENTS["granted"], signals) == Decision("block", reason)  # type: ignore[arg-type]


# An app's platform signal (iOS ATT not authorized, Android ad-ID opt-out) is GPC for apps:
# over every case above, it decides exactly as GPC does — outcome, signalled categories and
# Consent Mode state — and only the reason names the platform.


@pytest.mark.parametrize("objected", OBJECTIONS)
def test_an_app_tracking_refusal_decides_exactly_like_gpc(objected: frozenset[str]) -> None:
    for case in EVERY_CASE:
        if case.gpc:
            continue
        rule = make_rule(case.shape, case.category)
        consent = CONSENTS[case.consent]
        as_gpc = decide(rule, consent, Signals(REVISION, True, case.region, case.bot, objected))
        refused = Signals(REVISION, False, case.region, case.bot, objected, app_tracking="refused")
        as_app = decide(rule, consent, refused)
        expected_reason = "app_tracking" if as_gpc.reason == "gpc" else as_gpc.reason
        assert as_app.reason == expected_reason, case
        assert (as_app.outcome, as_app.signalled, as_app.consent_mode) == (
            as_gpc.outcome,
            as_gpc.signalled,
            as_gpc.consent_mode,
        ), case


def test_under_an_app_tracking_refusal_marketing_is_never_signalled() -> None:
    for case in EVERY_CASE:
        signals = Signals(REVISION, case.gpc, case.region, case.bot, app_tracking="refused")
        decision = decide(make_rule(case.shape, case.category), CONSENTS[case.consent], signals)
        assert "marketing" not in decision.signalled, case
        if case.category == "marketing":
            assert decision.outcome == "block", case


# Exact rows for what the tables above check only loosely (found by `make mutate`).

CM_RULE = Rule(
    "ads",
    "Ads",
    "marketing",
    "https://a.example/p",
    HitRule(mode="forward", upstream=UPSTREAM, without_consent="anonymous", consent_mode=True),
)
SIBLINGS = {"ads": "marketing", "other_ads": "marketing", "stats": "analytics"}


def test_a_refused_sibling_vendor_does_not_withhold_this_vendors_own_category() -> None:
    """Refusing one marketing vendor leaves another marketing vendor told `marketing`; only
    the refused vendor's category is partial for vendors of *other* categories."""
    consent = Consent(
        "c6",
        REVISION,
        frozenset({"analytics", "marketing"}),
        1,
        refused_vendors=frozenset({"other_ads"}),
    )
    signals = Signals(REVISION, vendor_categories=SIBLINGS)
    own = decide(CM_RULE, consent, signals)
    assert (own.outcome, own.signalled) == ("forward", frozenset({"analytics", "marketing"}))
    stats = Rule("stats", "Stats", "analytics", "https://s.example/p", SHAPES["forward"])
    assert decide(stats, consent, signals).signalled == frozenset({"analytics"})
    unknown = Consent(
        "c7",
        REVISION,
        frozenset({"analytics", "marketing"}),
        1,
        refused_vendors=frozenset({"gone"}),  # a vendor no rule names any more
    )
    assert decide(CM_RULE, unknown, signals).signalled == frozenset({"analytics", "marketing"})


@pytest.mark.parametrize(
    ("consent", "region", "expected"),
    [
        (
            None,
            "opt_out",
            Decision(
                "forward",
                "opt_out_region",
                frozenset({"analytics", "marketing", "preferences"}),
                ConsentModeState(True, True, True, True, updated=False),
            ),
        ),
        (
            None,
            "opt_in",
            Decision(
                "anonymous",
                "no_consent",
                frozenset(),
                ConsentModeState(False, False, False, False, updated=False),
            ),
        ),
        (
            CONSENTS["stale"],
            "opt_in",
            Decision(
                "anonymous",
                "stale_revision",
                frozenset(),
                ConsentModeState(False, False, False, False, updated=False),
            ),
        ),
        (
            CONSENTS["denied"],
            "opt_in",
            Decision(
                "anonymous",
                "denied",
                frozenset(),
                ConsentModeState(False, False, False, False, updated=True),
            ),
        ),
        (
            CONSENTS["granted"],
            "opt_in",
            Decision(
                "forward",
                "consented",
                frozenset({"analytics", "marketing"}),
                ConsentModeState(True, True, True, True, updated=True),
            ),
        ),
    ],
)
def test_consent_mode_says_updated_only_after_a_current_choice(
    consent: Consent | None, region: Region, expected: Decision
) -> None:
    decision = decide(CM_RULE, consent, Signals(REVISION, region_policy=region))
    assert decision == expected
    assert decision.consent_mode is not None
    assert expected.consent_mode is not None
    assert decision.consent_mode.updated is expected.consent_mode.updated  # a bool, not None


@pytest.mark.parametrize(
    ("app_tracking", "outcome", "reason"),
    [
        ("authorized", "forward", "consented"),
        ("absent", "block", "app_tracking"),
        ("refused", "block", "app_tracking"),
    ],
)
def test_an_app_rule_for_marketing_needs_an_explicit_authorized(
    app_tracking: str, outcome: str, reason: str
) -> None:
    app_rule = Rule(
        "ads_app", "Ads app", "marketing", "https://a.example/p", SHAPES["forward"], platform="app"
    )
    decision = decide(app_rule, CONSENTS["granted"], Signals(REVISION, app_tracking=app_tracking))  # type: ignore[arg-type]
    assert (decision.outcome, decision.reason) == (outcome, reason)
