"""Google Consent Mode v2 as the `gcs` and `gcd` hit parameters, from the visitor's real consent.

`gcs` is `G1` + ad_storage + analytics_storage (1 granted, 0 denied). `gcd` is `11`, then one
letter per signal (ad_storage, analytics_storage, ad_user_data, ad_personalization) joined by
`1`, then `5`. The banner sets every signal to denied by default and updates it after a choice,
so the letters used are: `p` denied by default with no update (no choice yet), `q` denied by
default and on update, `r` denied by default then granted, `t` granted by default (an opt-out
region before any choice).
"""

from __future__ import annotations

from collections.abc import Mapping

# Which consent category grants each signal (the banner uses the same mapping).
SIGNAL_CATEGORY: Mapping[str, str] = {
    "ad_storage": "marketing",
    "analytics_storage": "analytics",
    "ad_user_data": "marketing",
    "ad_personalization": "marketing",
}
_GCD_ORDER = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")


def consent_mode_params(granted: frozenset[str], chosen: bool) -> tuple[tuple[str, str], ...]:
    """`gcs`/`gcd` for a visitor who granted `granted`; `chosen` is False before any choice."""
    state = {signal: category in granted for signal, category in SIGNAL_CATEGORY.items()}
    gcs = f"G1{int(state['ad_storage'])}{int(state['analytics_storage'])}"
    if chosen:
        letters = ["r" if state[signal] else "q" for signal in _GCD_ORDER]
    else:
        letters = ["t" if state[signal] else "p" for signal in _GCD_ORDER]
    return (("gcs", gcs), ("gcd", "11" + "1".join(letters) + "5"))
