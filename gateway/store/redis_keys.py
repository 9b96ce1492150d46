"""Redis key names. Every key of one subject shares the hash tag `{subject}`, so one subject's
keys live in one cluster slot; the key layout is drawn in `gateway.store.redis`.

The tombstone of an erased subject must not hold the subject's id, yet must live in the
subject's slot, so that a script can check it in the same operation as every write under that
subject. Its hash tag is therefore a short stand-in that hashes to the same slot as the id
(`slot_tag`), and its name carries the SHA-256 of the id.
"""

from __future__ import annotations

import binascii
import functools

from gateway.model.tombstones import tombstone_id

SLOTS = 16384

DAYS_KEY = "cg:receipt-days"
OBJECTIONS_KEY = "cg:objections"
SUPPRESSIONS_KEY = "cg:suppressions"
CHOICE_CHANGES_KEY = "cg:choice-changes"  # zset: consent ids that chose again, by time


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
    """The tombstone: in the subject's slot, without the subject's id."""
    return f"cg:suppressed:{{{slot_tag(subject_id)}}}:{tombstone_id(subject_id)}"


def key_slot(hash_tag: str) -> int:
    """The Redis Cluster slot of a key whose hash tag is `hash_tag` (CRC16-XMODEM mod 16384)."""
    return binascii.crc_hqx(hash_tag.encode(), 0) % SLOTS


def slot_tag(subject_id: str) -> str:
    """A hash tag in the same cluster slot as `subject_id`'s, that says nothing about it."""
    return _slot_tags()[key_slot(subject_id)]


@functools.cache
def _slot_tags() -> tuple[str, ...]:
    """The shortest hex number in each slot (about 0.3 s, once a process; up to 5 digits)."""
    tags: list[str | None] = [None] * SLOTS
    missing, number = SLOTS, 0
    while missing:
        tag = format(number, "x")
        slot = key_slot(tag)
        if tags[slot] is None:
            tags[slot] = tag
            missing -= 1
        number += 1
    return tuple(tag for tag in tags if tag is not None)


def lease_key(name: str) -> str:
    return f"cg:lease:{{{name}}}"
