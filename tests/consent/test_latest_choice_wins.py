"""An old cookie or app token never outlives a narrower choice or a withdrawal: through HTTP,
against a stand-in vendor that records what arrives, on one instance and across two."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import httpx

from gateway.app import app_for
from gateway.consent.objections import Objection
from gateway.runtime import Gateway
from tests.conftest import REPO, SITE, first_read, serving
from tests.delivery.waiting import drained
from tests.tracking.test_pixel_proxy import BROWSER, GA4_HIT
from tests.vendors import StandInVendor, rules_pointing_at

CHOOSING = {"Origin": SITE, **BROWSER}
META = "/t/meta_pixel?id=1&ev=PageView"
IOS_APP = "ShopApp/3.2 (com.example.shop; build:41; iOS 17.5.0) Alamofire/5.9.1"
APP = {"id": "com.example.shop", "screen": "Settings"}
META_APP_EVENT = {"event": "CUSTOM_APP_EVENTS", "advertiser_id": "IDFA-1", "anon_id": "a1"}


async def choose(http: httpx.AsyncClient, body: dict[str, object], **headers: str) -> str:
    """Record a choice; the token it signs (the cookie for a page, the token for an app)."""
    response = await http.post("/consent", json=body, headers={**CHOOSING, **headers})
    assert response.status_code == 200, response.text
    answer = response.json()
    return str(answer["token"]) if "token" in answer else str(http.cookies["cg_consent"])


def with_cookie(token: str) -> dict[str, str]:
    return {**BROWSER, "Cookie": f"cg_consent={token}"}


def decision(response: httpx.Response) -> str:
    return response.headers["x-consent-decision"]


async def test_an_old_cookie_replayed_after_a_narrower_choice_reads_as_that_choice(
    http, gateway, vendor: StandInVendor
) -> None:
    everything = await choose(http, {"action": "accept_all"})
    await choose(http, {"granted": ["analytics"]})  # the same visitor, later, in another tab
    http.cookies.clear()
    # Both paths of /t: the GET fast path and the full stack (a POST from the page's origin).
    assert decision(await http.get(GA4_HIT, headers=with_cookie(everything))).startswith(
        "forward; reason=consented"
    )
    posted = await http.post(
        "/t/ga4/g/collect?v=2&tid=G-TEST123&cid=555.666",
        content="en=page_view",
        headers={**with_cookie(everything), "Origin": SITE},
    )
    assert decision(posted).startswith("forward; reason=consented")
    assert decision(await http.get(META, headers=with_cookie(everything))) == (
        "block; reason=denied"
    )
    await drained(gateway)
    sent = [dict(hit.query) for hit in vendor.received]
    assert [query["gcs"] for query in sent] == ["G101", "G101"]  # analytics only, no ads
    state = (await http.get("/consent", headers=with_cookie(everything))).json()["consent"]
    assert state["granted"] == ["analytics", "necessary"]
    assert "cg_consent_superseded_total{how=" in (await http.get("/metrics")).text


async def test_an_app_token_replayed_after_withdrawal_sends_nothing_to_anyone(
    http, gateway, vendor: StandInVendor
) -> None:
    app = {"User-Agent": IOS_APP}
    token = await choose(http, {"action": "accept_all", "app": APP}, **app)
    bearing = {**app, "Authorization": f"Consent {token}", "App-Tracking": "authorized"}
    withdrawn = await http.delete("/consent", headers=bearing)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["receipt_id"]
    # The app's offline queue replays hits with the token it still holds.
    meta = await http.post("/t/meta_app/activities", data=META_APP_EVENT, headers=bearing)
    assert decision(meta) == "block; reason=denied"  # the withdrawal grants nothing
    ga4 = await http.get(GA4_HIT, headers=bearing)
    assert decision(ga4) == "anonymous; reason=denied"
    assert (await http.get("/consent", headers=bearing)).json()["consent"] is None
    await drained(gateway)
    (ping,) = vendor.received  # the anonymous statistics ping only
    assert dict(ping.query)["gcs"] == "G100"
    assert not {"cid", "advertiser_id"} & {name for name, _ in ping.query}


async def test_an_app_narrowing_its_choice_stops_the_advertising_id_from_its_old_token(
    http, gateway, vendor: StandInVendor
) -> None:
    app = {"User-Agent": IOS_APP, "App-Tracking": "authorized"}
    old = await choose(http, {"action": "accept_all", "app": APP}, **app)
    await choose(
        http, {"granted": ["analytics"], "app": APP}, **app, Authorization=f"Consent {old}"
    )
    bearing = {**app, "Authorization": f"Consent {old}"}
    meta = await http.post("/t/meta_app/activities", data=META_APP_EVENT, headers=bearing)
    assert decision(meta) == "block; reason=denied"
    await drained(gateway)
    assert vendor.received == []


class Instance(NamedTuple):
    http: httpx.AsyncClient
    gateway: Gateway


@contextlib.asynccontextmanager
async def two_instances(
    store_url: str, make_settings, tmp_path: Path, vendor: StandInVendor
) -> AsyncIterator[tuple[Instance, Instance]]:
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)

    def instance(name: str) -> Gateway:
        return Gateway.build(
            make_settings(
                store=store_url,
                rules=rules,
                allow_insecure_upstreams=True,
                data_dir=tmp_path / name,
            )
        )

    first, second = instance("a"), instance("b")
    async with serving(app_for(first)) as one, serving(app_for(second)) as other:
        for gateway in (first, second):  # each has read the store once: the second counts from now
            await first_read(gateway)
        yield Instance(one, first), Instance(other, second)


async def eventually(check, seconds: float = 1.0) -> float:
    """How long until `check()` holds (at most `seconds`, else the assertion fails)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_every_instance_reads_the_latest_choice_within_a_second(
    store_url: str, make_settings, tmp_path: Path, vendor: StandInVendor
) -> None:
    instances = two_instances(store_url, make_settings, tmp_path, vendor)
    async with instances as ((one, _), (other, other_gateway)):
        everything = await choose(one, {"action": "accept_all"})
        await choose(one, {"granted": ["analytics"]})

        async def narrowed_there() -> bool:
            state = (await other.get("/consent", headers=with_cookie(everything))).json()
            return bool(state["consent"]["granted"] == ["analytics", "necessary"])

        await eventually(narrowed_there)
        blocked = await other.get(META, headers=with_cookie(everything))
        assert decision(blocked) == "block; reason=denied"
        await one.delete("/consent", headers=CHOOSING)

        async def withdrawn_there() -> bool:
            state = (await other.get("/consent", headers=with_cookie(everything))).json()
            return state["consent"] is None

        await eventually(withdrawn_there)
        ga4 = await other.get(GA4_HIT, headers=with_cookie(everything))
        assert decision(ga4) == "anonymous; reason=denied"
        await drained(other_gateway)
        assert [dict(hit.query)["gcs"] for hit in vendor.received] == ["G100"]


async def test_an_objection_still_blocks_an_old_token_after_a_withdrawal(http, gateway) -> None:
    """A withdrawn token grants nothing but keeps its consent id: the person's objection is
    still found by it (an objection blocks outright, never as an anonymous ping)."""
    token = await choose(http, {"action": "accept_all"})
    consent = gateway.codec.decode(token)
    assert consent is not None
    objection = Objection(consent.consent_id, ("analytics",), time.time())
    await gateway.store.rights.put_objection(objection)
    gateway.objections.note(objection)
    assert (await http.delete("/consent", headers=CHOOSING)).status_code == 200
    http.cookies.clear()
    assert decision(await http.get(GA4_HIT, headers=with_cookie(token))) == (
        "block; reason=objection"
    )
