"""People's rights over HTTP on a real app: export, erase, objection, self-service erasure, and
what the pixel proxy and email tracking do afterwards."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import app_for
from gateway.consent.cookie import COOKIE_NAME
from gateway.model.tombstones import tombstone_id
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import REPO, SITE, serving
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

ADMIN = "admin-token-for-rights"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Origin": SITE,
}


@dataclass
class Running:
    gateway: Gateway
    http: httpx.AsyncClient
    vendor: StandInVendor

    async def visitor(self, body: dict[str, object] | None = None) -> str:
        """A new visitor who chose (accept all by default); returns their consent id."""
        self.http.cookies.clear()
        answer = await self.http.post(
            "/consent", json=body or {"action": "accept_all"}, headers=BROWSER
        )
        assert answer.status_code == 200, answer.text
        consent_id: str = answer.json()["consent"]["id"]
        return consent_id

    async def decision(self, vendor: str) -> str:
        hit = await self.http.get(f"/t/{vendor}?v=2&tid=G-1&en=page_view", headers=BROWSER)
        assert hit.status_code in (200, 302), hit.text
        return hit.headers["x-consent-decision"]


@pytest.fixture
def vendor() -> Iterator[StandInVendor]:
    with stand_in_vendor() as server:
        yield server


@pytest.fixture
async def running(
    make_settings: Callable[..., Settings], vendor: StandInVendor, tmp_path: Path
) -> AsyncIterator[Running]:
    settings = make_settings(
        admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
        rules=rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin),
        allow_insecure_upstreams=True,
    )
    gateway = Gateway.build(settings)
    async with serving(app_for(gateway)) as http:
        yield Running(gateway, http, vendor)


# ---------------------------------------------------------------- export


async def test_export_holds_everything_about_a_visitor_as_a_download(running: Running) -> None:
    subject = await running.visitor()
    await running.http.post(
        f"/api/subjects/{subject}/objection", json={"categories": ["marketing"]}, headers=AUTH
    )
    answer = await running.http.get(f"/api/subjects/{subject}", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="subject-{subject}.json"'
    )
    assert answer.headers["cache-control"] == "no-store"
    data = answer.json()
    assert data["format"] == "consent-gateway.subject-export/1"
    assert (data["subject_id"], data["erased_at"], data["email_tracking"]) == (subject, None, None)
    assert [r["action"] for r in data["receipts"]] == ["accept_all", "objection"]
    assert data["receipts"][1]["denied"] == ["marketing"]
    # The DPO's API call showed the person nothing: the receipt proves no texts, not English.
    assert (data["receipts"][1]["language"], data["receipts"][1]["texts_hash"]) == ("", "")
    assert len(data["receipts"][0]["texts_hash"]) == 64  # the banner's, for the choice
    assert data["receipts"][0]["created_at"].endswith("+00:00")
    assert data["objection"]["categories"] == ["marketing"]
    assert data["email_events"] == []


async def test_a_recipients_export_holds_their_choice_and_events(running: Running) -> None:
    await running.http.put(
        "/api/subjects/esp-7/consent", json={"granted": ["email_tracking"]}, headers=AUTH
    )
    message = running.gateway.email.signer.message(
        campaign="c1", recipient="esp-7", sent_at=time.time() - 3600
    )
    await running.http.get(urlsplit(message.open_url).path, headers=BROWSER)
    await running.gateway.email.recorder.flush(settle=False)
    data = (await running.http.get("/api/subjects/esp-7", headers=AUTH)).json()
    assert data["email_tracking"]["state"] == "granted"
    assert [(e["kind"], e["verdict"]) for e in data["email_events"]] == [("open", "human")]
    assert [r["subject_kind"] for r in data["receipts"]] == ["recipient"]


# ---------------------------------------------------------------- objection


async def test_an_objection_blocks_its_category_at_once_and_for_good(running: Running) -> None:
    subject = await running.visitor()
    assert await running.decision("meta_pixel") == "redirect; reason=consented"
    objected = await running.http.post(
        f"/api/subjects/{subject}/objection",
        json={"categories": ["marketing"], "source": "dpo-ticket-12"},
        headers=AUTH,
    )
    assert objected.status_code == 200, objected.text
    assert objected.json()["objected"] == ["marketing"]
    assert await running.decision("meta_pixel") == "block; reason=objection"
    assert await running.decision("ga4") == "forward; reason=consented"  # only what was objected
    # Consenting again does not lift it: the objection is absolute.
    await running.http.post("/consent", json={"action": "accept_all"}, headers=BROWSER)
    assert running.http.cookies[COOKIE_NAME]  # the same visitor, same consent id
    assert await running.decision("meta_pixel") == "block; reason=objection"
    # Objections add up; the receipt records them all.
    again = await running.http.post(
        f"/api/subjects/{subject}/objection", json={"categories": ["analytics"]}, headers=AUTH
    )
    assert again.json()["objected"] == ["analytics", "marketing"]
    assert await running.decision("ga4") == "block; reason=objection"
    receipts = await running.gateway.store.receipts.subject_receipts(subject)
    objections = [r for r in receipts if r.action == "objection"]
    assert [(r.denied, r.granted, r.collection_point) for r in objections] == [
        (("marketing",), (), "dpo-ticket-12"),
        (("analytics", "marketing"), (), "api"),
    ]
    assert objections[0].subject_kind == "visitor"


async def test_an_objection_to_marketing_stops_email_tracking(running: Running) -> None:
    await running.http.put(
        "/api/subjects/esp-9/consent", json={"granted": ["email_tracking"]}, headers=AUTH
    )
    objected = await running.http.post(
        "/api/subjects/esp-9/objection", json={"categories": ["marketing"]}, headers=AUTH
    )
    assert objected.status_code == 200
    message = running.gateway.email.signer.message(
        campaign="c1", recipient="esp-9", sent_at=time.time() - 3600
    )
    await running.http.get(urlsplit(message.open_url).path, headers=BROWSER)
    await running.gateway.email.recorder.flush(settle=False)
    await running.gateway.counter.flush()
    assert await running.gateway.store.email.email_events("esp-9") == []
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert (
        await running.gateway.store.counts.counts("email_open", today, today) == {}
    )  # not even that
    receipts = await running.gateway.store.receipts.subject_receipts("esp-9")
    assert [(r.subject_kind, r.action) for r in receipts] == [
        ("recipient", "api"),
        ("recipient", "objection"),
    ]


@pytest.mark.parametrize(
    ("subject", "body", "status"),
    [
        ("esp-1", {"categories": ["necessary"]}, 422),
        ("esp-1", {"categories": ["nonsense"]}, 422),
        ("esp-1", {"categories": []}, 422),
        ("esp-1", {"categories": "marketing"}, 422),
        ("esp-1", {"categories": ["marketing"], "extra": 1}, 422),
        ("esp-1", {"categories": ["marketing"], "source": ""}, 422),
        ("esp-1", ["marketing"], 422),
        ("ada@example.com", {"categories": ["marketing"]}, 422),
    ],
)
async def test_bad_objections_are_422(
    running: Running, subject: str, body: object, status: int
) -> None:
    answer = await running.http.post(f"/api/subjects/{subject}/objection", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) >= {"error", "detail"}
    assert await running.gateway.store.rights.subject_objection("esp-1") is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/subjects/esp-1"),
        ("DELETE", "/api/subjects/esp-1"),
        ("POST", "/api/subjects/esp-1/objection"),
        ("GET", "/api/receipts"),
    ],
)
async def test_the_rights_api_needs_the_admin_token(
    running: Running, method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = await running.http.request(
            method, path, json={"categories": ["marketing"]}, headers=headers
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"


# ---------------------------------------------------------------- erasure


async def test_erasure_leaves_only_the_tombstone_and_tracking_stays_off(running: Running) -> None:
    subject = await running.visitor()
    await running.http.post(
        "/consent", json={"granted": ["analytics"]}, headers=BROWSER
    )  # a second receipt
    assert await running.decision("ga4") == "forward; reason=consented"
    erased = await running.http.delete(f"/api/subjects/{subject}", headers=AUTH)
    assert erased.status_code == 200
    assert erased.json() == {
        "subject_id": subject,
        "erased": {"receipts": 2, "email_events": 0, "email_consent": 0, "objections": 0},
    }
    store = running.gateway.store
    assert await store.receipts.subject_receipts(subject) == []
    assert [r async for r in store.receipts.iter_receipts()] == []
    assert tombstone_id(subject) in await store.rights.suppressions_since(0)
    data = (await running.http.get(f"/api/subjects/{subject}", headers=AUTH)).json()
    assert data["receipts"] == []
    assert data["erased_at"] is not None
    # The browser still holds the old cookie: no tracking, no consent, nothing recorded.
    assert await running.decision("ga4") == "block; reason=objection"
    assert (await running.http.get("/consent")).json()["consent"] is None
    fresh = await running.http.post("/consent", json={"action": "accept_all"}, headers=BROWSER)
    assert fresh.json()["consent"]["id"] != subject  # a new choice is a new subject
    assert await running.decision("ga4") == "forward; reason=consented"
    assert await store.receipts.subject_receipts(subject) == []


async def test_a_recipient_can_no_longer_be_tracked_after_erasure(running: Running) -> None:
    await running.http.put(
        "/api/subjects/esp-3/consent", json={"granted": ["email_tracking"]}, headers=AUTH
    )
    erased = await running.http.delete("/api/subjects/esp-3", headers=AUTH)
    assert erased.json()["erased"]["email_consent"] == 1
    regrant = await running.http.put(
        "/api/subjects/esp-3/consent", json={"granted": ["email_tracking"]}, headers=AUTH
    )
    assert regrant.status_code == 422
    objection = await running.http.post(
        "/api/subjects/esp-3/objection", json={"categories": ["marketing"]}, headers=AUTH
    )
    assert objection.status_code == 422
    assert "erased" in objection.json()["detail"]


async def test_a_visitor_withdraws_and_erases_their_own_data(running: Running) -> None:
    subject = await running.visitor()
    answer = await running.http.delete("/consent?erase=1", headers=BROWSER)
    assert answer.status_code == 200
    body = answer.json()
    assert body["withdrawn"] is True
    assert body["receipt_id"] is None  # nothing is recorded under an erased id
    assert body["erased"] == {"receipts": 1, "email_events": 0, "email_consent": 0, "objections": 0}
    assert "_ga" in body["delete_cookies"]
    assert 'cg_consent=""' in answer.headers["set-cookie"]
    assert await running.gateway.store.receipts.subject_receipts(subject) == []
    assert await running.gateway.store.rights.suppression(subject) is not None
    # Without a cookie there is nothing to erase; a bad flag is a 4xx.
    nothing = await running.http.delete("/consent?erase=1", headers=BROWSER)
    assert nothing.json()["erased"] is None
    bad = await running.http.delete("/consent?erase=yes-please", headers=BROWSER)
    assert bad.status_code == 422
    other_site = await running.http.delete(
        "/consent?erase=1", headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403


async def test_a_plain_withdrawal_keeps_the_receipts(running: Running) -> None:
    subject = await running.visitor()
    answer = await running.http.delete("/consent", headers=BROWSER)
    assert "erased" not in answer.json()
    receipts = await running.gateway.store.receipts.subject_receipts(subject)
    assert [r.action for r in receipts] == ["accept_all", "withdraw"]
