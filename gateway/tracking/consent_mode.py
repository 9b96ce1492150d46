"""Google Consent Mode v2 as the `gcs` and `gcd` hit parameters, from `decide()`'s state.

`gcs` is `G1` + ad_storage + analytics_storage (1 granted, 0 denied). `gcd` is `11`, then one
letter per signal (ad_storage, analytics_storage, ad_user_data, ad_personalization) joined by
`1`, then `5`. The banner sets every signal to denied by default and updates it after a choice,
so the letters used are: `p` denied by default with no update (no choice yet), `q` denied by
default and on update, `r` denied by default then granted, `t` granted by default (an opt-out
region before any choice).

This module only encodes: what is granted is decided by `gateway.decision.decide`.

>>> consent_mode_params(ConsentModeState(False, True, False, False, updated=True))
(('gcs', 'G101'), ('gcd', '11q1r1q1q5'))
"""

from __future__ import annotations

from functools import lru_cache

from gateway.decision import ConsentModeState


@lru_cache(maxsize=64)  # 2⁵ states at most
def consent_mode_params(state: ConsentModeState) -> tuple[tuple[str, str], ...]:
    """`gcs`/`gcd` saying exactly `state`."""
    gcs = f"G1{int(state.ad_storage)}{int(state.analytics_storage)}"
    order = (
        state.ad_storage,
        state.analytics_storage,
        state.ad_user_data,
        state.ad_personalization,
    )
    if state.updated:
        letters = ["r" if granted else "q" for granted in order]
    else:
        letters = ["t" if granted else "p" for granted in order]
    return (("gcs", gcs), ("gcd", "11" + "1".join(letters) + "5"))
