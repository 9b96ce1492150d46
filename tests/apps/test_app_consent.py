"""Consent without cookies: an app records a choice, gets the signed token in the answer and
carries it in `Authorization: Consent <token>` on every route that reads consent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.model.receipts import Receipt
from gateway.runtime import Gateway
from tests.conftest import serving
from tests.vendors import StandInVendor

IOS_APP = "ShopApp/3.2 (com.example.shop; build:41; iOS 17.5.0) Alamofire/5.9.1"
ANDROID_APP = "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UD1A.230803.041)"
APP = {"id": "com.example.shop", "screen": "Onboarding"}
GA4 = "/t/ga4?v=2&tid=G-TEST123&cid=555.666&en=page_view"
META = "/t/meta_pixel?id=1234&ev=PageView"


async def choose(http: httpx.AsyncClient, agent: str = IOS_APP, **body: Any) -> dict[str, Any]:
    response = await http.post("/consent", json={"app": APP, **body}, headers={"User-Agent": agent})
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers  # an app keeps no cookie jar
    answer: dict[str, Any] = response.json()
    return answer


def bearing(token: str, agent: str = IOS_APP) -> dict[str, str]:
    return {"Authorization": f"Consent {token}", "User-Agent": agent}


async def stored_receipts(gateway: Gateway, subject: str) -> list[Receipt]:
    # POST /consent answers once its receipt is durable: no waiting here.
    return await gateway.store.receipts.subject_receipts(subject)


async def arrived(vendor: StandInVendor, count: int, seconds: float = 10.0) -> list[Any]:
    deadline = time.monotonic() + seconds
    while len(vendor.received) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return vendor.received


async def test_an_app_choice_answers_with_the_token_and_records_the_app(http, gateway) -> None:
    answer = await choose(http, granted=["analytics"])
    assert answer["expires_in"] == 180 * 86400
    assert answer["consent"]["granted"] == ["analytics", "necessary"]
    [receipt] = await stored_receipts(gateway, answer["consent"]["id"])
    assert receipt.collection_point == "app://com.example.shop/Onboarding"
    assert (receipt.browser, receipt.os, receipt.device) == ("ShopApp", "iOS", "mobile")
    assert receipt.action == "custom"


async def test_the_header_token_is_read_like_the_cookie(http) -> None:
    answer = await choose(http, action="accept_all")
    token = answer["token"]
    read = (await http.get("/consent", headers=bearing(token))).json()
    assert read["consent"]["id"] == answer["consent"]["id"]
    assert read["consent"]["granted"] == answer["consent"]["granted"]
    receipts = (await http.get("/consent/receipts", headers=bearing(token))).json()
    assert receipts["subject_id"] == answer["consent"]["id"]
    assert [r["action"] for r in receipts["receipts"]] == ["accept_all"]


@pytest.mark.parametrize(
    "authorization",
    ["Consent not-a-token", "Consent ", "Consent x.y.z", "consent " + "A" * 2000],
)
async def test_a_bad_header_token_is_no_consent_never_an_error(http, authorization: str) -> None:
    response = await http.get("/consent", headers={"Authorization": authorization})
    assert response.status_code == 200
    assert response.json()["consent"] is None
    hit = await http.get(GA4, headers={"Authorization": authorization, "User-Agent": IOS_APP})
    assert hit.headers["x-consent-decision"] == "anonymous; reason=no_consent"


async def test_a_token_of_another_revision_is_no_consent(http, make_settings, tmp_path) -> None:
    token = (await choose(http, action="accept_all"))["token"]
    newer = create_app(make_settings(policy_revision=2))
    async with serving(newer) as other:
        assert (await other.get("/consent", headers=bearing(token))).json()["consent"] is None


async def test_a_returning_app_keeps_its_id_and_withdraws_with_the_header(http, gateway) -> None:
    first = await choose(http, action="accept_all")
    again = await http.post(
        "/consent", json={"app": APP, "action": "reject_all"}, headers=bearing(first["token"])
    )
    assert again.json()["consent"]["id"] == first["consent"]["id"]
    withdrawn = await http.delete("/consent", headers=bearing(again.json()["token"]))
    assert withdrawn.status_code == 200
    assert withdrawn.json()["receipt_id"]
    actions = [r.action for r in await stored_receipts(gateway, first["consent"]["id"])]
    assert actions == ["accept_all", "reject_all", "withdraw"]


async def test_an_app_erases_itself_with_the_header(http, gateway) -> None:
    answer = await choose(http, action="accept_all")
    erased = await http.delete("/consent?erase=1", headers=bearing(answer["token"]))
    assert erased.json()["erased"] is not None
    assert await stored_receipts(gateway, answer["consent"]["id"]) == []
    # the erased token no longer counts anywhere
    assert (await http.get("/consent", headers=bearing(answer["token"]))).json()["consent"] is None


async def test_hits_carry_the_token_and_reach_the_vendor_only_with_consent(http, vendor) -> None:
    refused = (await choose(http, agent=ANDROID_APP, action="reject_all"))["token"]
    response = await http.get(META, headers=bearing(refused, ANDROID_APP))
    assert response.headers["x-consent-decision"] == "block; reason=denied"
    granted = (await choose(http, agent=ANDROID_APP, granted=["analytics"]))["token"]
    response = await http.get(GA4, headers=bearing(granted, ANDROID_APP))
    assert response.headers["x-consent-decision"] == "forward; reason=consented"
    [hit] = await arrived(vendor, 1)
    assert ("cid", "555.666") in hit.query


async def test_an_app_agent_is_no_bot_but_a_bare_http_library_is(http) -> None:
    token = (await choose(http, granted=["analytics"]))["token"]
    as_app = await http.get(GA4, headers=bearing(token, IOS_APP))
    assert as_app.headers["x-consent-decision"] == "forward; reason=consented"
    as_library = await http.get(GA4, headers=bearing(token, "okhttp/4.12.0"))
    assert as_library.headers["x-consent-decision"] == "block; reason=bot"


@pytest.mark.parametrize(
    ("app", "problem"),
    [
        ({"id": "com.example.shop", "screen": "Cart?user=ada@example.com"}, "app.screen"),
        ({"id": "https://evil.example/x"}, "app.id"),
        ({"id": "com.example.shop", "extra": 1}, '"app" must be'),
        ("com.example.shop", '"app" must be'),
        ({"screen": "Home"}, "app.id"),
    ],
)
async def test_an_app_point_holds_no_query_or_user_data(http, app: Any, problem: str) -> None:
    response = await http.post("/consent", json={"app": app, "action": "accept_all"})
    assert response.status_code == 422
    assert problem in response.json()["detail"]


async def test_a_browser_choice_still_gets_a_cookie_and_no_token(http) -> None:
    response = await http.post("/consent", json={"action": "accept_all"})
    assert response.status_code == 200
    assert "token" not in response.json()
    assert response.headers["set-cookie"].startswith("cg_consent=")
