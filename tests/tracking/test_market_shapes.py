"""Yandex Metrica and the VK pixels at the gateway: who gets what, per consent state (issue 27).

All three are redirect rules: the gateway never calls the vendor itself; with consent the
browser is sent (302) to the vendor with the allowlisted parameters, without it gets a GIF.
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SITE
from tests.tracking.test_pixel_proxy import BROWSER, assert_pixel, received_after_drain
from tests.vendors import StandInVendor

METRICA = (
    "/t/yandex_metrica/watch/12345678?page-url=https%3A%2F%2Fa.example%2Fp%3Femail%3Dx%40y.example"
    "&browser-info=pv%3A1%3Au%3A17329%3A&charset=utf-8&email=ann%40example.org"
)
VK_ADS = "/t/vk_ads/counter?id=3000001;js=na"
VK_RETARGETING = "/t/vk_retargeting/rtrg?p=VK-RTRG-1-2&event=purchase"


async def choose(
    http: httpx.AsyncClient, body: dict[str, object], gpc: bool = False
) -> dict[str, str]:
    headers = {"Origin": SITE, **BROWSER, **({"Sec-GPC": "1"} if gpc else {})}
    response = await http.post("/consent", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return {
        **BROWSER,
        **({"Sec-GPC": "1"} if gpc else {}),
        "Cookie": f"cg_consent={http.cookies['cg_consent']}",
    }


async def test_metrica_goes_to_yandex_only_with_analytics_consent(
    http, gateway, vendor: StandInVendor
) -> None:
    assert_pixel(await http.get(METRICA, headers=BROWSER), "block; reason=no_consent")
    marketing = await choose(http, {"granted": ["marketing"]})
    assert_pixel(await http.get(METRICA, headers=marketing), "block; reason=denied")
    analytics = await choose(http, {"granted": ["analytics"]}, gpc=True)  # GPC: marketing only
    response = await http.get(METRICA, headers=analytics)
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{vendor.origin}/watch/12345678?page-url=https%3A%2F%2Fa.example%2Fp%3Femail%3D%5Bemail%5D"
        "&browser-info=pv%3A1%3Au%3A17329%3A&charset=utf-8"
    )  # the stray `email` parameter is not on the allowlist, the address in the URL is redacted
    refused = await choose(http, {"granted": ["analytics"], "refused_vendors": ["yandex_metrica"]})
    blocked = await http.get(METRICA, headers=refused)
    assert blocked.headers["x-consent-decision"] == "block; reason=vendor_refused"
    assert await received_after_drain(gateway, vendor) == []  # the gateway itself calls no one


@pytest.mark.parametrize(("path", "upstream"), [
    (VK_ADS, "/counter?id=3000001;js=na"),
    (VK_RETARGETING, "/rtrg?p=VK-RTRG-1-2&event=purchase"),
])  # fmt: skip
async def test_vk_pixels_need_marketing_and_no_gpc(
    http, gateway, vendor, path: str, upstream: str
) -> None:
    assert_pixel(await http.get(path, headers=BROWSER), "block; reason=no_consent")
    analytics = await choose(http, {"granted": ["analytics"]})
    assert_pixel(await http.get(path, headers=analytics), "block; reason=denied")
    with_gpc = await choose(http, {"action": "accept_all"}, gpc=True)
    gpc = await http.get(path, headers=with_gpc)
    assert gpc.status_code == 200  # a GIF: Global Privacy Control outranks "accept all"
    assert gpc.headers["x-consent-decision"].startswith("block")
    everything = await choose(http, {"action": "accept_all"})
    response = await http.get(path, headers=everything)
    assert response.status_code == 302
    assert response.headers["location"] == vendor.origin + upstream
    assert await received_after_drain(gateway, vendor) == []
