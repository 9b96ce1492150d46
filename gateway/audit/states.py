"""The consent states an audit visits, and the banner clicks that reach each one.

    >>> [s.name for s in consent_states(("preferences", "analytics", "marketing"))]
    ['none', 'reject', 'preferences', 'analytics', 'marketing', 'accept', 'accept-gpc']
    >>> state = consent_state("accept-gpc", ("analytics", "marketing"))
    >>> sorted(state.granted), state.gpc
    (['analytics'], True)

A state is reached the way a visitor reaches it: by clicking the banner. `choice_steps` says
which buttons and switches, by their visible names in every language the banner speaks, so the
same plan drives the CLI's async browser and the pytest plugin's sync one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gateway.banner.texts import TEXTS
from gateway.errors import ConfigError

MARKETING = "marketing"
Choice = Literal["none", "accept", "reject", "only"]


@dataclass(frozen=True, slots=True)
class ConsentState:
    """One state: its name, what the visitor chose, and which categories that grants."""

    name: str
    label: str
    choice: Choice
    granted: frozenset[str]
    gpc: bool = False
    category: str | None = None


def consent_states(categories: Sequence[str]) -> list[ConsentState]:
    """Every state, in audit order: no choice, reject all, each category alone, accept all (+GPC)."""
    states = [
        ConsentState("none", "No choice yet", "none", frozenset()),
        ConsentState("reject", "Reject all", "reject", frozenset()),
    ]
    for category in categories:
        label = f"{category.capitalize()} only"
        states.append(ConsentState(category, label, "only", frozenset({category}), False, category))
    everything = frozenset(categories)
    states.append(ConsentState("accept", "Accept all", "accept", everything))
    # GPC is an opt-out of marketing that no choice overrides, "accept all" included.
    states.append(
        ConsentState("accept-gpc", "Accept all, GPC on", "accept", everything - {MARKETING}, True)
    )
    return states


def consent_state(name: str, categories: Sequence[str]) -> ConsentState:
    """The state called `name`; raises `ConfigError` listing the known names."""
    states = {state.name: state for state in consent_states(categories)}
    if name not in states:
        raise ConfigError("--state", name, f"expected one of {', '.join(states)}")
    return states[name]


@dataclass(frozen=True, slots=True)
class Step:
    """Click a button, or switch a category on, found by accessible name inside the banner."""

    action: Literal["click", "check"]
    name: re.Pattern[str]


def choice_steps(state: ConsentState, banner: Mapping[str, Any] | None) -> list[Step]:
    """The clicks that make `state`'s choice, named in any language the banner has texts for."""
    if state.choice == "none":
        return []
    if state.choice == "accept":
        return [Step("click", banner_names("accept_all", banner))]
    if state.choice == "reject":
        return [Step("click", banner_names("reject_all", banner))]
    return [
        Step("click", banner_names("customise", banner)),
        Step("check", banner_names(f"category_{state.category}", banner)),
        Step("click", banner_names("save", banner)),
    ]


def banner_names(key: str, banner: Mapping[str, Any] | None) -> re.Pattern[str]:
    """The banner text `key` in any language, as a pattern matching a whole accessible name."""
    texts: dict[str, dict[str, str]] = {lang: dict(t) for lang, t in TEXTS.items()}
    for lang, overrides in ((banner or {}).get("texts") or {}).items():
        if isinstance(overrides, dict):
            texts.setdefault(lang, {}).update(overrides)
    names = sorted({t[key] for t in texts.values() if isinstance(t.get(key), str)})
    if not names:  # an operator-added category without texts: the banner shows the key
        names = [key]
    return re.compile("^(" + "|".join(re.escape(n) for n in names) + ")$")
