"""What the gateway keeps about an email recipient: their tracking consent and their events.

Neither holds an address, an IP or a user agent: a subject is an ESP id or a keyed hash of an
address (`gateway.email.recipient_id`), and an event keeps only its verdict.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

ConsentState = Literal["granted", "withdrawn", "erased"]
EventKind = Literal["open", "click"]
Verdict = Literal["human", "proxied", "machine"]


@dataclass(frozen=True, slots=True)
class RecipientConsent:
    """A recipient's current email-tracking choice; `erased` is the suppression tombstone."""

    subject_id: str
    state: ConsentState
    updated_at: float
    receipt_id: str = ""

    @property
    def granted(self) -> bool:
        return self.state == "granted"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> RecipientConsent:
        record = json.loads(text)
        return cls(
            record["subject_id"], record["state"], record["updated_at"], record["receipt_id"]
        )


_sequence = itertools.count()


def new_event_id() -> str:
    """Time-ordered: milliseconds, then a per-process sequence (events of one millisecond keep
    the order they were recorded in), then randomness so instances never collide."""
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{next(_sequence) % 0x1000000:06x}{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One open or click of one recipient, kept only with their consent. `link` is 0 for opens
    and for the hidden honeypot link, the link's position (1, 2, …) in the email otherwise."""

    event_id: str
    subject_id: str
    campaign: str
    kind: EventKind
    link: int
    verdict: Verdict
    sent_at: int
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        # Spelled out: `asdict` deep-copies and costs ~25 µs an event on a busy writer.
        return {
            "event_id": self.event_id,
            "subject_id": self.subject_id,
            "campaign": self.campaign,
            "kind": self.kind,
            "link": self.link,
            "verdict": self.verdict,
            "sent_at": self.sent_at,
            "created_at": self.created_at,
        }

    def to_json(self) -> str:
        """Canonical JSON: the same event always serialises to the same text (idempotent writes)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> EmailEvent:
        record = json.loads(text)
        return cls(**record)
