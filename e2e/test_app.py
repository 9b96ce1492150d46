"""A mobile app end to end: the stand-in app (`examples/app_client.py`) against the real
gateway process and a stand-in vendor — no cookies, the token in a header, the platform's
tracking status on every hit, and exactly what each vendor receives.

    app (urllib) ──▶ gateway (serve, real uvicorn, Redis) ──▶ stand-in vendor (every upstream)
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

import httpx

from e2e.browsing import DESKTOP_CHROME
from e2e.gateway_server import GatewayProcess
from examples.app_client import ANDROID_AGENT, IOS_AGENT, ConsentApp
from tests.vendors import Received, StandInVendor

MP = "/t/ga4_app/mp/collect?firebase_app_id=1%3A123%3Aios%3Aabc&api_secret=s3cr3t"
MP_EVENT = {
    "app_instance_id": "0123456789abcdef0123456789abcdef",
    "events": [{"name": "screen_view", "params": {"firebase_screen": "Cart"}}],
    "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"},  # the app's claim
}
IDFA = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
META = "/t/meta_app/activities"
META_EVENT = {
    "event": "CUSTOM_APP_EVENTS",
    "advertiser_id": IDFA,
    "advertiser_tracking_enabled": "1",  # the app's claim: the gateway decides
    "anon_id": "XZ1234",
    "custom_events": json.dumps([{"_eventName": "fb_mobile_purchase"}]),
}


def app(gateway: GatewayProcess, agent: str = IOS_AGENT, tracking: str | None = None) -> ConsentApp:
    return ConsentApp(f"http://127.0.0.1:{gateway.port}", "com.example.shop", agent, tracking)


def arrivals(vendor: StandInVendor, path: str, count: int) -> list[Received]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [hit for hit in list(vendor.received) if hit.path.endswith(path)]
        if len(found) >= count:
            return found
        time.sleep(0.01)
    raise AssertionError(f"{count} hit(s) to {path} expected, got {vendor.received!r}")


def drained(vendor: StandInVendor, gateway: GatewayProcess) -> list[Received]:
    """Everything the vendor got, once a marker hit sent last has come through."""
    marker = f"drain-{time.monotonic_ns()}"
    with httpx.Client(trust_env=False) as client:
        client.post(
            f"http://127.0.0.1:{gateway.port}/t/ga4?v=2&en={marker}",
            headers={"User-Agent": DESKTOP_CHROME},
        )
    arrivals(vendor, "/g/collect", 1)
    return [hit for hit in vendor.received if ("en", marker) not in hit.query]


def test_consented_ios_app_with_tracking_authorized(gateway, vendor) -> None:
    shop = app(gateway, tracking="authorized")
    recorded = shop.choose(action="accept_all", screen="Onboarding")
    assert recorded["consent"]["granted"] == ["analytics", "marketing", "necessary", "preferences"]
    assert shop.send(MP, json_body=MP_EVENT).decision == "forward; reason=consented"
    assert shop.send(META, form=META_EVENT).decision == "forward; reason=consented"

    [mp] = arrivals(vendor, "/mp/collect", 1)
    # The stream's key is the operator's (the rule's fixed_params), never the app's own.
    assert ("api_secret", "your-api-secret") in mp.query
    assert ("api_secret", "s3cr3t") not in mp.query
    document = json.loads(mp.body)
    # the time the gateway took the hit (delivery may come later: a vendor outage, a queue)
    assert abs(document.pop("timestamp_micros") / 1e6 - time.time()) < 60
    assert document == {
        "app_instance_id": MP_EVENT["app_instance_id"],
        "events": MP_EVENT["events"],
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"},
    }
    [meta] = arrivals(vendor, "/activities", 1)
    form = dict(parse_qsl(meta.body.decode()))
    assert form["advertiser_id"] == IDFA
    assert form["advertiser_tracking_enabled"] == "1"
    assert form["application_tracking_enabled"] == "1"
    # the receipt names the app and its screen, and summarises the device from its agent
    [receipt] = shop._request("GET", "/consent/receipts").json()["receipts"]
    assert receipt["collection_point"] == "app://com.example.shop/Onboarding"
    assert (receipt["browser"], receipt["os"], receipt["device"]) == ("ShopApp", "iOS", "mobile")


def test_att_denied_keeps_every_ad_signal_and_id_away(gateway, vendor) -> None:
    shop = app(gateway, tracking="denied")
    shop.choose(action="accept_all", screen="Onboarding")  # "Accept all" in the app's own screen
    assert shop.send(MP, json_body=MP_EVENT).decision == "forward; reason=consented"
    assert shop.send(META, form=META_EVENT).decision == "block; reason=app_tracking"
    [mp] = arrivals(vendor, "/mp/collect", 1)
    assert json.loads(mp.body)["consent"] == {
        "ad_user_data": "DENIED",
        "ad_personalization": "DENIED",
    }
    assert [hit.path for hit in drained(vendor, gateway)] == [mp.path]  # nothing for Meta


def test_android_app_with_analytics_only(gateway, vendor) -> None:
    phone = app(gateway, ANDROID_AGENT, tracking="authorized")
    phone.choose(granted=["analytics"], screen="Settings/Privacy")
    assert phone.send(MP, json_body=MP_EVENT).decision == "forward; reason=consented"
    assert phone.send(META, form=META_EVENT).decision == "block; reason=denied"
    [mp] = arrivals(vendor, "/mp/collect", 1)
    assert json.loads(mp.body)["consent"]["ad_user_data"] == "DENIED"
    assert json.loads(mp.body)["app_instance_id"] == MP_EVENT["app_instance_id"]
    assert [hit.path for hit in drained(vendor, gateway)] == [mp.path]


def test_no_choice_yet_and_after_withdrawal_nothing_reaches_a_vendor(gateway, vendor) -> None:
    shop = app(gateway, tracking="authorized")
    assert shop.send(MP, json_body=MP_EVENT).decision == "block; reason=no_consent"
    shop.choose(action="accept_all")
    assert shop.withdraw()["receipt_id"]
    assert shop.token is None
    assert shop.send(MP, json_body=MP_EVENT).decision == "block; reason=no_consent"
    assert shop.send(META, form=META_EVENT).decision == "block; reason=no_consent"
    assert drained(vendor, gateway) == []
