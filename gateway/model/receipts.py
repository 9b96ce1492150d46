"""One receipt: who chose what, under which policy and texts, where and when.

Refusals and withdrawals are receipts too. Nothing here identifies a person beyond the random
subject id: the IP is truncated and the user agent is a summary.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import msgspec

from gateway.model.days import day_of

SubjectKind = Literal["visitor", "recipient"]
Action = Literal[
    "accept_all",
    "reject_all",
    "custom",
    "withdraw",
    "gpc",
    "api",
    "preferences_page",
    "objection",
    "form",  # a consent form was submitted (`gateway.forms`)
    "form_confirmed",  # the double opt-in link was followed
    "unsubscribe",  # a one-click (RFC 8058) or page unsubscribe
]


class LabelShown(NamedTuple):
    """One checkbox of a consent form as the person saw it: the purpose, the exact label text
    in its language, its SHA-256, and whether it was ticked when the form was sent."""

    purpose: str
    language: str
    text: str
    sha256: str
    ticked: bool

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


def new_receipt_id(now: float | None = None) -> str:
    """Time-ordered, unguessable: 12 hex digits of milliseconds, then 64 random bits."""
    millis = int((time.time() if now is None else now) * 1000)
    return f"{millis:012x}{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_id: str
    subject_id: str
    subject_kind: SubjectKind
    action: Action
    granted: tuple[str, ...]
    denied: tuple[str, ...]
    policy_revision: int
    policy_url: str
    texts_hash: str
    language: str
    region: str
    collection_point: str
    ip: str
    browser: str
    os: str
    device: str
    gpc: bool
    created_at: float  # unix seconds, millisecond precision
    # Vendors refused inside the granted categories; receipts written before vendor choices
    # existed have none, and read back that way.
    refused_vendors: tuple[str, ...] = ()
    # Form consent (`gateway.forms`): the form's id and each checkbox as shown; receipts from
    # anywhere else have none, and read back that way.
    form_id: str = ""
    labels: tuple[LabelShown, ...] = ()

    @property
    def day(self) -> str:
        return day_of(self.created_at)

    def to_dict(self) -> dict[str, Any]:
        record = {name: getattr(self, name) for name in FIELD_NAMES}
        record["granted"], record["denied"] = list(self.granted), list(self.denied)
        record["refused_vendors"] = list(self.refused_vendors)
        record["labels"] = [label.to_dict() for label in self.labels]
        return record

    def to_json(self) -> str:
        """Canonical JSON: the same receipt always serialises to the same text — keys sorted,
        no spaces, text as UTF-8 (the text `json.dumps(…, sort_keys=True, ensure_ascii=False)`
        writes, which older receipts were written with). A label is an object: a receipt
        without labels is encoded from its fields as they are."""
        return _CANONICAL.encode(self.to_dict() if self.labels else self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Receipt:
        record = json.loads(text)
        record["granted"], record["denied"] = tuple(record["granted"]), tuple(record["denied"])
        record["refused_vendors"] = tuple(record.get("refused_vendors", ()))
        record.setdefault("form_id", "")
        record["labels"] = tuple(LabelShown(**label) for label in record.get("labels", ()))
        return cls(**{f.name: record[f.name] for f in fields(cls)})

    def created_iso(self) -> str:
        return datetime.fromtimestamp(self.created_at, UTC).isoformat(timespec="milliseconds")


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Receipt))
_CANONICAL = msgspec.json.Encoder(order="sorted")
