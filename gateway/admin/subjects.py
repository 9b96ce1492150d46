"""Subject lookup for the dashboard: what `gateway.rights` exports about a subject, summarised.

The export itself is `SubjectRights.export` (the same document as
`GET /api/subjects/{id}`); this module only turns it into what a page can show: what kinds
of records are held and how many, and the receipts as table rows, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.inputs import is_subject

RECEIPT_COLUMNS = (
    "created_at",
    "action",
    "granted",
    "denied",
    "policy_revision",
    "collection_point",
)
_ABOUT_THE_EXPORT = {"format", "subject_id", "exported_at", "erased_at"}


@dataclass(frozen=True, slots=True)
class SubjectSummary:
    subject: str
    held: list[tuple[str, str]]  # (what, how much or which), in the export's order
    receipts: list[tuple[str, ...]]  # RECEIPT_COLUMNS, newest first
    erased_at: str  # "" unless the subject was erased (only its tombstone is left)
    nothing_held: bool


def clean_subject(text: str | None) -> str | None:
    """The subject id typed into the lookup form, or None if it cannot be one."""
    subject = (text or "").strip()
    return subject if is_subject(subject) else None


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value):,}"
    if isinstance(value, Mapping):  # a state or a set of categories, and since when
        what = value.get("state") or ", ".join(map(str, value.get("categories") or ())) or "—"
        since = str(value.get("updated_at") or "")[:19].replace("T", " ")
        return f"{what} (since {since} UTC)" if since else str(what)
    return "—" if value in (None, "") else str(value)


def _cell(column: str, value: Any) -> str:
    if column == "created_at":
        return str(value or "")[:19].replace("T", " ")
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "—"
    return "—" if value in (None, "") else str(value)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list | Mapping) and not value)


def summarize(subject: str, export: Mapping[str, Any]) -> SubjectSummary:
    held = [
        (_label(key), _describe(value))
        for key, value in export.items()
        if key not in _ABOUT_THE_EXPORT
    ]
    held_receipts = [r for r in export.get("receipts") or () if isinstance(r, Mapping)][::-1]
    held_receipts.sort(key=lambda r: str(r.get("created_at")), reverse=True)  # ISO sorts as text
    receipts = [
        tuple(_cell(column, receipt.get(column)) for column in RECEIPT_COLUMNS)
        for receipt in held_receipts
    ]
    return SubjectSummary(
        subject=subject,
        held=held,
        receipts=receipts,
        erased_at=_cell("created_at", export.get("erased_at")),
        nothing_held=all(
            _is_empty(value) for key, value in export.items() if key not in _ABOUT_THE_EXPORT
        ),
    )


def erased_summary(erased: Mapping[str, int]) -> list[tuple[str, str]]:
    return [(_label(key), f"{count:,}") for key, count in erased.items()]
