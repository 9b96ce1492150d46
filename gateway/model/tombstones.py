"""Tombstone ids: what an erased subject leaves behind, so no later write can bring it back.

The store keeps the tombstone (and the date) in place of everything it erased; queued hits
carry their subject's tombstone id so erasure can find them without their subject id.

    >>> tombstone_id("v-123") == tombstone_id("v-123") != tombstone_id("v-124")
    True
    >>> len(tombstone_id("v-123"))
    64
"""

from __future__ import annotations

import hashlib


def tombstone_id(subject_id: str) -> str:
    """What an erased subject leaves behind: a hash of its id (and the date, in the store)."""
    return hashlib.sha256(subject_id.encode()).hexdigest()
