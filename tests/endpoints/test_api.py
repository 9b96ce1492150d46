"""The ESP-facing admin API: signing links and recording recipients' consent."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import app_for, create_app
from gateway.email import recipient_id, recipient_key
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import SECRET, serving

ADMIN, SECOND_ADMIN = "admin-token-one", "admin-token-two"
HASHES = tuple(hashlib.sha256(t.encode()).hexdigest() for t in (ADMIN, SECOND_ADMIN))
AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def gateway(make_settings: Callable[..., Settings]) -> Gateway:
    return Gateway.build(
        make_settings(admin_token_hashes=HASHES, public_url="https://consent.example.com")
    )


@pytest.fixture
async def app(gateway: Gateway) -> Starlette:
    return app_for(gateway)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client


async def test_sign_links_for_an_address_returns_urls_and_the_hashed_subject(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    body = {
        "campaign": "spring-26",
        "recipient": "Ada@Example.com",
        "urls": ["https://www.example.com/a", "https://www.example.com/b?x=1&y=2"],
        "sent_at": "2026-01-01T09:00:00Z",
    }
    response = await http.post("/api/links", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    data = response.json()
    subject = recipient_id("ada@example.com", recipient_key((SECRET,)))
    assert data["subject"] == subject
    assert data["sent_at"] == 1_767_258_000
    assert "ada" not in response.text.lower()
    assert response.headers["cache-control"] == "no-store"
    for link, (url, target) in enumerate(zip(data["click_urls"], body["urls"], strict=True), 1):
        assert url.startswith("https://consent.example.com/c/")
        click = gateway.email.tokens.read_click(urlsplit(url).path.rsplit("/", 1)[1])
        assert click is not None
        assert (click.subject, click.link, click.target, click.sent_at) == (
            subject,
            link,
            target,
            1_767_258_000,
        )
    assert data["open_url"].startswith("https://consent.example.com/o/")
    assert data["preferences_url"].startswith("https://consent.example.com/p/")
    assert "click_url" not in data


async def test_one_url_gets_a_click_url_too(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/links",
        json={"campaign": "c1", "recipient": "esp-1", "url": "https://www.example.com/"},
        headers={"Authorization": f"Bearer {SECOND_ADMIN}"},
    )
    assert response.status_code == 200
    assert response.json()["click_url"] == response.json()["click_urls"][0]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Basic {ADMIN}"}, 401),
        ({"Authorization": f"Bearer {ADMIN}x"}, 401),
        ({"Authorization": "Bearer " + "x" * 5000}, 401),
        ({"Authorization": f"bearer   {ADMIN}"}, 200),
    ],
)
async def test_the_admin_token_is_required(
    http: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    body = {"campaign": "c1", "recipient": "esp-1", "url": "https://www.example.com/"}
    links = await http.post("/api/links", json=body, headers=headers)
    assert links.status_code == status
    consent = await http.put(
        "/api/subjects/esp-1/consent", json={"granted": ["email_tracking"]}, headers=headers
    )
    assert consent.status_code == status
    if status == 401:
        assert links.json()["error"] == "unauthorized"


async def test_without_configured_tokens_the_admin_api_is_closed(
    make_settings: Callable[..., Settings],
) -> None:
    async with serving(create_app(make_settings())) as http:
        response = await http.post("/api/links", json={}, headers=AUTH)
        assert response.status_code == 403
        assert "admin API closed" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"campaign": "c1", "recipient": "esp-1"},
        {"campaign": "c1", "recipient": "esp-1", "url": "x", "urls": ["y"]},
        {"campaign": "c1", "recipient": "esp-1", "urls": "https://x.test/"},
        {"campaign": "c1", "recipient": "esp-1", "urls": [1]},
        {"campaign": "c 1", "recipient": "esp-1", "url": "https://x.test/"},
        {"campaign": "c1", "recipient": "not an id", "url": "https://x.test/"},
        {"campaign": "c1", "recipient": None, "url": "https://x.test/"},
        {"campaign": "c1", "recipient": "esp-1", "url": "javascript:alert(1)"},
        {"campaign": "c1", "recipient": "esp-1", "url": "https://x.test/", "sent_at": "soon"},
        {"campaign": "c1", "recipient": "esp-1", "url": "https://x.test/", "sent_at": True},
        {"campaign": "c1", "recipient": "esp-1", "url": "https://x.test/", "sent_at": -5},
        {"campaign": "c1", "recipient": "esp-1", "url": "https://x.test/", "extra": 1},
        {"campaign": "c1", "recipient": "esp-1", "urls": ["https://x.test/"] * 501},
    ],
)
async def test_bad_link_requests_are_422(http: httpx.AsyncClient, body: object) -> None:
    response = await http.post("/api/links", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert set(response.json()) >= {"error", "detail"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"recipient": "esp-1", "url": "https://x.test/"}, '"campaign" must be 1 to 64'),
        ({"campaign": "c1", "recipient": "esp-1", "urls": [1]}, '"urls" must be a list of URLs'),
        ({"campaign": "c1", "recipient": "esp-1", "urls": ["https://x.test/" + "p" * 3000]},
         "at most 2048 characters"),
        ({"campaign": "c1", "recipient": "esp-1", "urls": ["https://x.test/"] * 501},
         "at most 500 links"),
        ({"campaign": "c1", "recipient": "esp-1", "url": "https://x.test/", "b": 1, "a": 2},
         "unknown field(s): a, b"),
    ],
)  # fmt: skip
async def test_a_bad_link_request_is_told_what_is_wrong(
    http: httpx.AsyncClient, body: object, detail: str
) -> None:
    response = await http.post("/api/links", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"campaign":"c1"}', "text/plain", 415),
        (b"[" + b'"https://x.test/",' * 20000 + b"0]", "application/json", 413),
    ],
)
async def test_malformed_bodies_are_4xx(
    http: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await http.post(
        "/api/links", content=content, headers={**AUTH, "Content-Type": content_type}
    )
    assert response.status_code == status


async def test_allowed_target_hosts_are_enforced(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(admin_token_hashes=HASHES, email_target_hosts=("example.com",))
    async with serving(create_app(settings)) as http:
        body = {"campaign": "c1", "recipient": "esp-1"}
        ok = await http.post(
            "/api/links", json={**body, "url": "https://shop.example.com/"}, headers=AUTH
        )
        assert ok.status_code == 200
        refused = await http.post(
            "/api/links", json={**body, "url": "https://example.org/"}, headers=AUTH
        )
        assert refused.status_code == 422
        assert "not in the allowed target hosts" in refused.json()["detail"]


async def test_record_a_recipients_consent_with_a_receipt(
    http: httpx.AsyncClient, gateway: Gateway
) -> None:
    granted = await http.put(
        "/api/subjects/esp-42/consent",
        json={"granted": ["email_tracking"], "source": "signup-form", "language": "ru"},
        headers={**AUTH, "User-Agent": "esp-sync/1.0"},
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["email_tracking"] == "granted"
    state = await gateway.email.consents.state_of("esp-42")
    assert state is not None
    assert state.granted
    withdrawn = await http.put(
        "/api/subjects/esp-42/consent", json={"action": "reject_all"}, headers=AUTH
    )
    assert withdrawn.json()["email_tracking"] == "withdrawn"
    receipts = await gateway.store.receipts.subject_receipts("esp-42")
    assert [(r.action, r.granted, r.denied, r.collection_point) for r in receipts] == [
        ("api", ("email_tracking",), (), "signup-form"),
        ("api", (), ("email_tracking",), "api"),
    ]
    first = receipts[0]
    assert (first.subject_kind, first.receipt_id) == ("recipient", granted.json()["receipt_id"])
    assert (first.ip, first.browser, first.language) == ("", "", "ru")  # not the ESP's server


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("ada@example.com", {"granted": ["email_tracking"]}),
        ("esp-1", {"granted": ["analytics"]}),
        ("esp-1", {"action": "maybe"}),
        ("esp-1", {"granted": ["email_tracking"], "source": "x" * 100}),
        ("esp-1", {}),
        ("esp-1", []),
        ("x" * 65, {"granted": []}),
    ],
)
async def test_bad_consent_requests_are_422(
    http: httpx.AsyncClient, subject: str, body: object
) -> None:
    response = await http.put(f"/api/subjects/{subject}/consent", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
