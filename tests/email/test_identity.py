"""Subjects: an ESP id as it is, an address only as its keyed hash."""

from __future__ import annotations

import pytest

from gateway.email import recipient_id, recipient_key
from gateway.email.identity import checked_campaign, subject_for
from gateway.errors import Unprocessable

KEY = recipient_key(("k" * 40,))


def test_the_same_address_however_written_is_one_subject() -> None:
    subject = recipient_id("ada@example.com", KEY)
    assert recipient_id("  Ada@EXAMPLE.com\n", KEY) == subject
    assert subject_for("ADA@example.com", KEY) == subject
    assert len(subject) == 22
    assert "@" not in subject
    assert "ada" not in subject.lower()


def test_the_hash_depends_on_the_oldest_key_only() -> None:
    rotated = recipient_key(("k" * 40, "n" * 40))
    assert recipient_id("ada@example.com", rotated) == recipient_id("ada@example.com", KEY)
    other = recipient_key(("x" * 40,))
    assert recipient_id("ada@example.com", other) != recipient_id("ada@example.com", KEY)


def test_different_addresses_are_different_subjects() -> None:
    subjects = {recipient_id(f"user{n}@example.com", KEY) for n in range(2000)}
    assert len(subjects) == 2000


@pytest.mark.parametrize("esp_id", ["esp-42", "42", "a.b_c:d-e", "x" * 64])
def test_esp_ids_are_kept(esp_id: str) -> None:
    assert subject_for(esp_id, KEY) == esp_id


@pytest.mark.parametrize(
    "bad", ["", "x" * 65, "has space", "{slot}", "a|b", "@example.com", "ada@", "ada@localhost", 42]
)
def test_anything_else_is_refused(bad: object) -> None:
    with pytest.raises(Unprocessable):
        subject_for(bad, KEY)


@pytest.mark.parametrize("bad", ["", "a|b", "x" * 65, "spring 26", None])
def test_campaign_names_are_label_safe(bad: object) -> None:
    with pytest.raises(Unprocessable):
        checked_campaign(bad)
    assert checked_campaign("spring-2026.v2") == "spring-2026.v2"
