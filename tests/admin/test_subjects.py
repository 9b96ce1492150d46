"""A subject's export, summarised for the lookup page."""

from __future__ import annotations

import pytest

from gateway.admin.subjects import clean_subject, erased_summary, summarize

EXPORT = {
    "format": "consent-gateway.subject-export/1",
    "subject_id": "esp-42",
    "exported_at": "2026-11-25T10:00:00.000+00:00",
    "erased_at": None,
    "receipts": [
        {"created_at": "2026-11-20T09:00:00.000+00:00", "action": "api", "granted": ["email_tracking"], "denied": [], "policy_revision": 1, "collection_point": "signup-form"},
        {"created_at": "2026-11-21T09:00:00.000+00:00", "action": "objection", "granted": [], "denied": ["marketing"], "policy_revision": 1, "collection_point": ""},
    ],
    "email_tracking": {"category": "email_tracking", "state": "granted", "updated_at": "2026-11-20T09:00:00.000+00:00", "receipt_id": "r1"},
    "email_events": [{"campaign": "spring"}],
    "objection": {"categories": ["marketing", "email_tracking"], "updated_at": "2026-11-21T09:00:00.000+00:00", "receipt_id": "r2"},
}  # fmt: skip


def test_what_is_held_is_listed_with_counts_and_states() -> None:
    summary = summarize("esp-42", EXPORT)
    assert summary.held == [
        ("Receipts", "2"),
        ("Email tracking", "granted (since 2026-11-20 09:00:00 UTC)"),
        ("Email events", "1"),
        ("Objection", "marketing, email_tracking (since 2026-11-21 09:00:00 UTC)"),
    ]
    assert summary.receipts == [
        ("2026-11-21 09:00:00", "objection", "—", "marketing", "1", "—"),
        ("2026-11-20 09:00:00", "api", "email_tracking", "—", "1", "signup-form"),
    ]
    assert not summary.nothing_held
    assert summary.erased_at == ""


def test_an_erased_subject_holds_nothing_but_its_tombstone() -> None:
    erased = {**EXPORT, "erased_at": "2026-11-25T10:00:00.000+00:00", "receipts": [],
              "email_tracking": None, "email_events": [], "objection": None}  # fmt: skip
    summary = summarize("esp-42", erased)
    assert summary.nothing_held
    assert summary.erased_at == "2026-11-25 10:00:00"
    assert summary.receipts == []


@pytest.mark.parametrize(
    ("typed", "subject"),
    [("esp-42", "esp-42"), ("  aV8k-u8WPJ_Xb ", "aV8k-u8WPJ_Xb"), ("", None), ("a@b.c", None),
     ("x" * 65, None), ("a b", None), (None, None)],
)  # fmt: skip
def test_only_what_can_be_a_subject_is_looked_up(typed: str | None, subject: str | None) -> None:
    assert clean_subject(typed) == subject


def test_erasure_counts_are_labelled() -> None:
    assert erased_summary({"receipts": 1200, "email_events": 0}) == [
        ("Receipts", "1,200"),
        ("Email events", "0"),
    ]
