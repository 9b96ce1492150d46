"""The latest stored choice wins: what an older token of the same consent id still says.

A cookie or an app token carries the choice it was signed with (`Consent`, its time `t` in
whole seconds). When the same consent id chose again later — narrower, wider, a vendor refused,
withdrawn — every token signed before that reads as the later choice, wherever it is replayed
(another tab, a copied cookie jar, an app's offline queue). `supersede` is that rule, as a pure
function; `gateway.objection_registry` keeps the latest choices in memory on every instance.

===========================================  ==========================================
the token's time `t` against the latest       the token reads as
===========================================  ==========================================
no later choice known                         itself
later than the latest known choice            itself (the store has not caught up)
the same second, the same choice              itself
the same second, another choice               only what both allow: granted ∩, refused ∪
                                              (which came last cannot be told)
earlier, the latest is a withdrawal           nothing granted
earlier                                       the latest choice (the token's GPC flag stays)
earlier than `forgotten_before`, not known    nothing granted (a full registry forgot
                                              choices that old: in doubt, nothing)
===========================================  ==========================================

"Nothing granted" is a consent that grants no category at all, not even `necessary` (a choice
never does that), under the token's own consent id: the person's objections, erasure and
refusals are still found by that id. `GET /consent` shows it as no consent (`withdrawn`).

    >>> old = Consent("a-random-consent-id", 1, frozenset({"analytics", "marketing"}), 100)
    >>> narrower = LatestChoice(200, 1, frozenset({"analytics"}), frozenset(), withdrawn=False)
    >>> sorted(supersede(old, narrower).granted)
    ['analytics']
    >>> withdrawn(supersede(old, LatestChoice(200, 1, frozenset(), frozenset(), withdrawn=True)))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.consent.model import Consent


@dataclass(frozen=True, slots=True)
class LatestChoice:
    """A consent id's newest stored choice, as far as tokens are concerned."""

    chosen_at: int  # whole unix seconds, as a token's `t`
    revision: int
    granted: frozenset[str]
    refused_vendors: frozenset[str]
    withdrawn: bool


def takes_away(previous: Consent, chosen: Consent, revision: int) -> bool:
    """Whether `chosen` allows less than a current `previous` token of the same id did — a
    category no longer granted, or a vendor newly refused: only then must older tokens read
    as it. (A token of another revision grants nothing already.)

    >>> old = Consent("a-random-consent-id", 1, frozenset({"analytics", "marketing"}), 100)
    >>> takes_away(old, Consent(old.consent_id, 1, frozenset({"analytics"}), 200), revision=1)
    True
    >>> takes_away(old, Consent(old.consent_id, 1, old.granted | {"preferences"}, 200), 1)
    False
    """
    if not previous.is_current(revision):
        return False
    return not (
        chosen.granted >= previous.granted and chosen.refused_vendors <= previous.refused_vendors
    )


def withdrawn(consent: Consent) -> bool:
    """Whether `consent` grants nothing at all: a withdrawal, or a choice forgotten in doubt."""
    return not consent.granted


def _nothing(token: Consent, revision: int, chosen_at: int) -> Consent:
    return Consent(token.consent_id, revision, frozenset(), chosen_at, token.gpc)


def supersede(token: Consent, latest: LatestChoice | None, *, forgotten_before: int = 0) -> Consent:
    """What `token` means given its id's latest stored choice (see the module's table)."""
    if latest is None:
        if token.chosen_at < forgotten_before:
            return _nothing(token, token.revision, token.chosen_at)
        return token
    if token.chosen_at > latest.chosen_at:
        return token
    if token.chosen_at == latest.chosen_at:
        if not latest.withdrawn and (token.granted, token.refused_vendors) == (
            latest.granted,
            latest.refused_vendors,
        ):
            return token
        if latest.withdrawn:
            return _nothing(token, latest.revision, token.chosen_at)
        return Consent(
            token.consent_id,
            min(token.revision, latest.revision),
            token.granted & latest.granted,
            token.chosen_at,
            token.gpc,
            token.refused_vendors | latest.refused_vendors,
        )
    if latest.withdrawn:
        return _nothing(token, latest.revision, latest.chosen_at)
    return Consent(
        token.consent_id,
        latest.revision,
        latest.granted,
        latest.chosen_at,
        token.gpc,
        latest.refused_vendors,
    )
