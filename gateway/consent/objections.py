"""Objections: a person's standing "no" to categories of processing — the value only.

An objection is stored per subject (the store is the truth); the in-memory mirror every
instance enforces on the hot path is `gateway.objection_registry.ObjectionRegistry`, on the
runtime side: this module does no I/O.

    >>> Objection("esp-42", ("marketing",), 1_800_000_000.0).to_dict()["categories"]
    ['marketing']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Objection:
    """The categories a subject objected to (cumulative), and the receipt of the latest one."""

    subject_id: str
    categories: tuple[str, ...]  # sorted
    updated_at: float
    receipt_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "categories": list(self.categories),
            "updated_at": self.updated_at,
            "receipt_id": self.receipt_id,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Objection:
        record = json.loads(text)
        return cls(
            record["subject_id"],
            tuple(record["categories"]),
            record["updated_at"],
            record["receipt_id"],
        )
