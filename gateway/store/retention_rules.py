"""What the store keeps and for how long, written once for every backend.

The SQLite and Redis modules hold only storage operations; the rules they apply are here:

- **Retention**: receipts are kept `receipt_retention_days`, email events and the daily
  counters `event_retention_days`, tombstones for good (`receipts_cutoff`, `events_cutoff`).
- **Tombstone wins**: once a subject is erased, its tombstone is checked in the same store
  operation as every write under that subject (receipt, email event, recipient consent,
  objection), and a write behind a tombstone is refused, not stored. A read of an erased
  subject's email consent answers `erased` whatever else is stored (`erased_consent`).
- **The erasure map**: what erasing a subject deletes, by the name of its count
  (`ERASED_KINDS`); the admin API, the CLI and both backends use these names.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from gateway.model.days import day_of
from gateway.model.email_events import RecipientConsent
from gateway.store.store_settings import StoreSettings

DAY_SECONDS = 86400

# What `Rights.erase_subject` deletes and counts: a subject's receipts, email events, email
# consent and objection. Only the tombstone (a hash of the id, and the date) stays.
ERASED_KINDS = ("receipts", "email_events", "email_consent", "objections")


def receipt_retention_seconds(settings: StoreSettings) -> int:
    return settings.retention.receipt_days * DAY_SECONDS


def event_retention_seconds(settings: StoreSettings) -> int:
    return settings.retention.event_days * DAY_SECONDS


def receipts_cutoff(settings: StoreSettings, now: float) -> float:
    """Receipts created before this moment have outlived their retention."""
    return now - receipt_retention_seconds(settings)


def events_cutoff(settings: StoreSettings, now: float) -> float:
    """Email events created before this moment have outlived their retention."""
    return now - event_retention_seconds(settings)


def tokens_cutoff(settings: StoreSettings, now: float) -> float:
    """Consent tokens signed before this moment have expired (the cookie's lifetime)."""
    return now - settings.consent_days * DAY_SECONDS


def counts_first_kept_day(settings: StoreSettings, now: float) -> str:
    """The oldest day whose counters are kept (YYYY-MM-DD); older days are purged."""
    return day_of(events_cutoff(settings, now))


@functools.lru_cache(maxsize=64)
def day_start(day: str) -> float:
    """The first moment of `day` (YYYY-MM-DD, UTC)."""
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()


def day_expires_at(day: str, keep_seconds: int) -> int:
    """When what was recorded on `day` and is kept `keep_seconds` has all expired: the end of
    the day plus the retention (a store's per-day key expires then)."""
    return int(day_start(day) + DAY_SECONDS + keep_seconds)


def erased_consent(subject_id: str, erased_at: float) -> RecipientConsent:
    """How an erased subject's email consent reads: its tombstone, whatever else is stored."""
    return RecipientConsent(subject_id, "erased", erased_at)
