"""Receipts say exactly what happened: `necessary` is never denied, a choice the gateway did
not show texts for proves none, and a sign-up's address is recorded in one call (issue 30)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from gateway.app import app_for
from gateway.email import recipient_id, recipient_key
from gateway.runtime import Gateway
from tests.conftest import SECRET, SITE, serving

ADMIN = "admin-token-first-hour"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


async def test_a_withdrawal_receipt_never_denies_necessary(make_settings) -> None:
    gateway = Gateway.build(make_settings())
    app = app_for(gateway)
    async with serving(app) as http:
        chosen = await http.post(
            "/consent", json={"action": "accept_all"}, headers={"Origin": SITE}
        )
        withdrawn = await http.delete("/consent", headers={"Origin": SITE})
        receipts = await gateway.store.receipts.subject_receipts(chosen.json()["consent"]["id"])
    assert withdrawn.status_code == 200
    assert [(r.action, r.granted, r.denied) for r in receipts] == [
        ("accept_all", ("analytics", "marketing", "necessary", "preferences"), ()),
        ("withdraw", ("necessary",), ("analytics", "marketing", "preferences")),
    ]


async def test_an_app_choice_proves_no_banner_texts(make_settings) -> None:
    gateway = Gateway.build(make_settings())
    app = app_for(gateway)
    body: dict[str, Any] = {
        "granted": ["analytics"],
        "language": "de",
        "app": {"id": "com.example.shop", "screen": "Onboarding"},
    }
    async with serving(app) as http:
        in_app = await http.post("/consent", json=body)
        in_banner = await http.post(
            "/consent", json={"granted": ["analytics"], "language": "de"}, headers={"Origin": SITE}
        )
        [app_receipt] = await gateway.store.receipts.subject_receipts(
            in_app.json()["consent"]["id"]
        )
        [banner_receipt] = await gateway.store.receipts.subject_receipts(
            in_banner.json()["consent"]["id"]
        )
    assert in_app.status_code == 200, in_app.text
    assert (app_receipt.language, app_receipt.texts_hash) == ("de", "")
    assert len(banner_receipt.texts_hash) == 64


@pytest.fixture
def admin_settings(make_settings):
    return make_settings(admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),))


async def test_a_sign_ups_address_is_recorded_in_one_call(admin_settings) -> None:
    gateway = Gateway.build(admin_settings)
    app = app_for(gateway)
    async with serving(app) as http:
        answer = await http.put(
            "/api/recipients/consent",
            json={"recipient": " Ada@Example.com", "granted": ["email_tracking"],
                  "source": "signup-form"},
            headers=AUTH,
        )  # fmt: skip
        unauthorised = await http.put(
            "/api/recipients/consent", json={"recipient": "a@example.com", "granted": []}
        )
        missing = await http.put("/api/recipients/consent", json={"granted": []}, headers=AUTH)
        bad = await http.put(
            "/api/recipients/consent", json={"recipient": "not an address", "granted": []},
            headers=AUTH,
        )  # fmt: skip
        subject = recipient_id("ada@example.com", recipient_key((SECRET,)))
        state = await gateway.email.consents.state_of(subject)
        [receipt] = await gateway.store.receipts.subject_receipts(subject)
    assert answer.status_code == 200, answer.text
    assert answer.json()["subject"] == subject
    assert answer.json()["email_tracking"] == "granted"
    assert state is not None
    assert state.granted
    assert (receipt.action, receipt.texts_hash, receipt.collection_point) == (
        "api", "", "signup-form"
    )  # fmt: skip
    assert "@" not in repr(receipt)
    assert unauthorised.status_code == 401
    assert missing.status_code == 422
    assert bad.status_code == 422
