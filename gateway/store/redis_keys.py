"""Redis key names. Every key of one subject shares the hash tag `{subject}`, so one subject's
keys live in one cluster slot; the key layout is drawn in `gateway.store.redis`."""

from __future__ import annotations

from gateway.email.records import tombstone_id

DAYS_KEY = "cg:receipt-days"
OBJECTIONS_KEY = "cg:objections"
SUPPRESSIONS_KEY = "cg:suppressions"


def subject_receipts_key(subject_id: str) -> str:
    return f"cg:subject:{{{subject_id}}}:receipts"


def day_receipts_key(day: str) -> str:
    return f"cg:receipts:{{{day}}}"


def day_counts_key(day: str) -> str:
    return f"cg:counts:{{{day}}}"


def recipient_consent_key(subject_id: str) -> str:
    return f"cg:subject:{{{subject_id}}}:email-consent"


def email_events_key(subject_id: str) -> str:
    return f"cg:subject:{{{subject_id}}}:email-events"


def objection_key(subject_id: str) -> str:
    return f"cg:subject:{{{subject_id}}}:objection"


def suppression_key(subject_id: str) -> str:
    return f"cg:suppressed:{{{tombstone_id(subject_id)}}}"


def lease_key(name: str) -> str:
    return f"cg:lease:{{{name}}}"
