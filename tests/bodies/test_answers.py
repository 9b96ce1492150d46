"""Every JSON answer is the struct `/openapi.json` shows for it: read back strictly as that
struct (types, required fields), for the routes that still build their answer by hand as well
as those that encode the struct itself."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from gateway.app import create_app
from gateway.bodies.answers import (
    ChoiceRecorded,
    ConsentState,
    Erasure,
    Health,
    ObjectionRecorded,
    OwnReceipts,
    Readiness,
    RecipientConsentRecorded,
    SignedLinks,
    SubjectExport,
    Withdrawal,
    recipient_consent_recorded,
)
from gateway.bodies.forms import FormRecorded
from gateway.settings import Settings
from tests.conftest import serving

ADMIN = "answers-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
JSON = {"Origin": "http://gateway.test"}


def answered(response: httpx.Response, shape: type[msgspec.Struct], status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return msgspec.json.decode(response.content, type=shape, strict=True)


async def test_every_answer_reads_back_as_its_declared_struct(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
        public_url="http://gateway.test",
        allowed_origins=("http://gateway.test",),
    )
    async with serving(create_app(settings)) as http:
        assert answered(await http.get("/consent"), ConsentState).consent is None
        chosen = answered(
            await http.post("/consent", json={"granted": ["analytics"]}, headers=JSON),
            ChoiceRecorded,
        )
        assert chosen.consent.granted == ["analytics", "necessary"]
        state = answered(await http.get("/consent"), ConsentState)
        assert state.consent is not None
        subject = state.consent.id
        receipts = answered(await http.get("/consent/receipts"), OwnReceipts)
        assert len(receipts.receipts) == 1
        objected = answered(
            await http.post(
                f"/api/subjects/{subject}/objection",
                json={"categories": ["analytics"]},
                headers=AUTH,
            ),
            ObjectionRecorded,
        )
        assert objected.objected == ["analytics"]
        links = answered(
            await http.post(
                "/api/links",
                json={"campaign": "c1", "recipient": "esp-1", "url": "https://gateway.test/"},
                headers=AUTH,
            ),
            SignedLinks,
        )
        assert links.click_url == links.click_urls[0]
        export = answered(await http.get(f"/api/subjects/{subject}", headers=AUTH), SubjectExport)
        assert export.subject_id == subject
        withdrawn = answered(await http.delete("/consent", headers=JSON), Withdrawal)
        assert withdrawn.withdrawn is True
        erased = answered(await http.delete(f"/api/subjects/{subject}", headers=AUTH), Erasure)
        assert erased.erased.receipts >= 1
        assert answered(await http.get("/healthz"), Health).status == "ok"
        assert answered(await http.get("/readyz"), Readiness).status == "ready"
        form = {
            "form": "contact", "page": "/contact", "policy_revision": settings.consent.revision,
            "language": "en", "purposes": [{"purpose": "analytics", "label": "Stats",
            "language": "en", "ticked": True, "initially_checked": False}],
        }  # fmt: skip
        recorded = answered(
            await http.post("/consent/forms", json=form, headers=JSON), FormRecorded, 201
        )
        assert recorded.granted == ["analytics"]


def test_a_recipients_choice_is_sent_under_the_configured_category_name() -> None:
    shape = recipient_consent_recorded("newsletter")
    assert shape is recipient_consent_recorded("newsletter")  # built once per name
    recorded = shape(subject="esp-1", email_tracking="granted", receipt_id="r-1")
    assert isinstance(recorded, RecipientConsentRecorded)
    body = msgspec.json.encode(recorded)
    assert body == b'{"subject":"esp-1","newsletter":"granted","receipt_id":"r-1"}'
    assert msgspec.json.decode(body, type=shape, strict=True) == recorded
    other = msgspec.json.encode(
        recipient_consent_recorded("mail")(*msgspec.structs.astuple(recorded))
    )
    assert b'"mail":"granted"' in other
    assert b"newsletter" not in other
