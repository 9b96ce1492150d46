"""What a person has agreed to, as the gateway holds it in memory."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

NECESSARY = "necessary"
MARKETING = "marketing"  # GPC opts out of it; an objection to it stops email tracking too
DEFAULT_CATEGORIES: tuple[str, ...] = (NECESSARY, "preferences", "analytics", MARKETING)
EMAIL_TRACKING = "email_tracking"
# Google Consent Mode v2: the category that grants each signal, for the page (the banner's
# `gtag('consent', 'update')`) and for hits forwarded server-side (`gateway.decision`) alike.
# `security_storage` is not here: it is always granted.
CONSENT_MODE_CATEGORY: dict[str, str] = {
    "ad_storage": MARKETING,
    "ad_user_data": MARKETING,
    "ad_personalization": MARKETING,
    "analytics_storage": "analytics",
    "functionality_storage": "preferences",
    "personalization_storage": "preferences",
}


_FIRST = string.ascii_letters + string.digits


def new_consent_id() -> str:
    """A random consent id (134 bits): 23 URL-safe characters, the first a letter or digit so
    that no spreadsheet ever takes an exported id for a formula (`-…`).

    >>> len(new_consent_id()), new_consent_id()[0].isalnum()
    (23, True)
    """
    return secrets.choice(_FIRST) + secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Consent:
    """One recorded choice, as carried by the `cg_consent` cookie.

    `revision` is the policy revision the choice was made under; a choice made under an
    older revision than the current one counts as no consent (see `is_current`).
    `refused_vendors` are vendor ids refused inside a granted category: a category grant
    covers all its vendors except these (so a cookie written before vendor choices existed
    reads as "no vendor refused").
    """

    consent_id: str
    revision: int
    granted: frozenset[str]
    chosen_at: int  # unix seconds
    gpc: bool = False
    refused_vendors: frozenset[str] = frozenset()

    def is_current(self, policy_revision: int) -> bool:
        return self.revision == policy_revision

    def allows(self, category: str) -> bool:
        return category == NECESSARY or category in self.granted

    def allows_vendor(self, vendor: str, category: str) -> bool:
        """Whether this choice lets `vendor` (of `category`) run: its category, not refused."""
        return category == NECESSARY or (
            self.allows(category) and vendor not in self.refused_vendors
        )
