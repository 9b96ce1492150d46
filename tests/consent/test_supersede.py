"""The latest stored choice wins over an older token of the same consent id (a pure table)."""

from __future__ import annotations

import pytest

from gateway.consent.model import Consent
from gateway.consent.supersede import LatestChoice, supersede, withdrawn

ALL = frozenset({"necessary", "analytics", "marketing", "preferences"})
ANALYTICS = frozenset({"necessary", "analytics"})
TOKEN = Consent("a-random-consent-id", 3, ALL, 100, gpc=True)


def latest(at: int, granted=ANALYTICS, *, refused=(), withdrawn=False, revision=3):
    return LatestChoice(at, revision, frozenset(granted), frozenset(refused), withdrawn)


def test_no_later_choice_leaves_the_token_as_it_is() -> None:
    assert supersede(TOKEN, None) is TOKEN
    assert supersede(TOKEN, latest(99)) is TOKEN  # the registry knows an older choice only
    assert supersede(TOKEN, latest(100, ALL)) is TOKEN  # the token's own choice


def test_an_older_token_reads_as_the_later_choice_keeping_its_gpc_flag() -> None:
    now = supersede(TOKEN, latest(101, refused=("ga4",)))
    assert now == Consent(
        "a-random-consent-id", 3, ANALYTICS, 101, gpc=True, refused_vendors=frozenset({"ga4"})
    )


def test_a_later_choice_of_another_revision_carries_that_revision() -> None:
    assert supersede(TOKEN, latest(101, revision=4)).revision == 4


@pytest.mark.parametrize("at", [100, 101, 10_000])
def test_a_withdrawal_at_or_after_the_token_grants_nothing_under_the_same_id(at: int) -> None:
    now = supersede(TOKEN, latest(at, (), withdrawn=True))
    assert withdrawn(now)
    assert now.consent_id == TOKEN.consent_id  # objections and erasure still find the person


def test_two_different_choices_in_one_second_allow_only_what_both_allow() -> None:
    same_second = supersede(TOKEN, latest(100, {"necessary", "analytics"}, refused=("ga4",)))
    assert same_second is not None
    assert same_second.granted == ANALYTICS
    assert same_second.refused_vendors == {"ga4"}
    assert same_second.chosen_at == 100
    narrower = Consent("a-random-consent-id", 3, ANALYTICS, 100)
    wider = supersede(narrower, latest(100, ALL))
    assert wider is not None
    assert wider.granted == ANALYTICS


def test_a_registry_that_forgot_old_choices_grants_nothing_older_than_them() -> None:
    assert withdrawn(supersede(TOKEN, None, forgotten_before=101))
    assert supersede(TOKEN, None, forgotten_before=100) is TOKEN
    assert supersede(TOKEN, latest(101), forgotten_before=200) is not None  # known: it decides
