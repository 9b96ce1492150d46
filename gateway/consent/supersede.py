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
earlier, the latest is a withdrawal           no consent
earlier                                       the latest choice (the token's GPC flag stays)
earlier than `forgotten_before`, not known    no consent (a full registry forgot choices
                                              that old, so in doubt nothing is granted)
===========================================  ==========================================

    >>> old = Consent("a-random-consent-id", 1, frozenset({"analytics", "marketing"}), 100)
    >>> narrower = LatestChoice(200, 1, frozenset({"analytics"}), frozenset(), withdrawn=False)
    >>> sorted(supersede(old, narrower).granted)
    ['analytics']
    >>> supersede(old, LatestChoice(200, 1, frozenset(), frozenset(), withdrawn=True)) is None
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


def supersede(
    token: Consent, latest: LatestChoice | None, *, forgotten_before: int = 0
) -> Consent | None:
    """What `token` means given its id's latest stored choice (see the module's table)."""
    if latest is None:
        return None if token.chosen_at < forgotten_before else token
    if token.chosen_at > latest.chosen_at:
        return token
    if token.chosen_at == latest.chosen_at:
        if not latest.withdrawn and (token.granted, token.refused_vendors) == (
            latest.granted,
            latest.refused_vendors,
        ):
            return token
        if latest.withdrawn:
            return None
        return Consent(
            token.consent_id,
            min(token.revision, latest.revision),
            token.granted & latest.granted,
            token.chosen_at,
            token.gpc,
            token.refused_vendors | latest.refused_vendors,
        )
    if latest.withdrawn:
        return None
    return Consent(
        token.consent_id,
        latest.revision,
        latest.granted,
        latest.chosen_at,
        token.gpc,
        latest.refused_vendors,
    )
