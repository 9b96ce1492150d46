"""What a person has agreed to, as the gateway holds it in memory."""

from __future__ import annotations

from dataclasses import dataclass

NECESSARY = "necessary"
MARKETING = "marketing"  # GPC opts out of it; an objection to it stops email tracking too
DEFAULT_CATEGORIES: tuple[str, ...] = (NECESSARY, "preferences", "analytics", MARKETING)
EMAIL_TRACKING = "email_tracking"


@dataclass(frozen=True, slots=True)
class Consent:
    """One recorded choice, as carried by the `cg_consent` cookie.

    `revision` is the policy revision the choice was made under; a choice made under an
    older revision than the current one counts as no consent (see `is_current`).
    """

    consent_id: str
    revision: int
    granted: frozenset[str]
    chosen_at: int  # unix seconds
    gpc: bool = False

    def is_current(self, policy_revision: int) -> bool:
        return self.revision == policy_revision

    def allows(self, category: str) -> bool:
        return category == NECESSARY or category in self.granted
