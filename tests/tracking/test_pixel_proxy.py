"""`/t/{vendor}` against real stand-in vendor servers: exactly what leaves, and when nothing does."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.consent.objections import Objection
from gateway.endpoints.pixels import GIF
from gateway.runtime import Gateway
from gateway.store.base import CountKey
from tests.conftest import SITE
from tests.delivery.waiting import drained
from tests.vendors import StandInVendor

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BROWSER = {"User-Agent": CHROME}
GA4_HIT = "/t/ga4?v=2&tid=G-TEST123&cid=555.666&sid=1700000000&dl=https%3A%2F%2Fwww.example.com%2F&en=page_view&evil=1&gcs=G111&_uip=1.2.3.4"


async def received_after_drain(gateway: Gateway, vendor: StandInVendor) -> list[Any]:
    await drained(gateway)
    return vendor.received


async def consent_to(http: httpx.AsyncClient, *categories: str, gpc: bool = False) -> None:
    headers = {"Origin": SITE, **BROWSER, **({"Sec-GPC": "1"} if gpc else {})}
    response = await http.post("/consent", json={"granted": list(categories)}, headers=headers)
    assert response.status_code == 200


def assert_pixel(response: httpx.Response, decision: str) -> None:
    assert response.status_code == 200
    assert response.content == GIF
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie, Authorization"
    assert "set-cookie" not in response.headers
    assert response.headers["x-consent-decision"].startswith(decision)


async def test_consented_ga4_hit_is_forwarded_with_allowed_params_only(
    http, gateway, vendor
) -> None:
    await consent_to(http, "analytics")
    response = await http.get(
        GA4_HIT,
        headers={
            **BROWSER,
            "Cookie": f"cg_consent={http.cookies['cg_consent']}; _ga=GA1.1.555.666",
        },
    )
    assert_pixel(response, "forward; reason=consented")
    (hit,) = await received_after_drain(gateway, vendor)
    assert (hit.method, hit.path) == ("POST", "/g/collect")
    assert dict(hit.query) == {
        "v": "2",
        "tid": "G-TEST123",
        "cid": "555.666",
        "sid": "1700000000",
        "dl": "https://www.example.com/",
        "en": "page_view",
        "gcs": "G101",
        "gcd": "11q1r1q1q5",  # the visitor's real consent, not the page's claim
        "_uip": "198.51.100.0",  # truncated by the rule
    }
    assert hit.headers["user-agent"] == CHROME
    assert "cookie" not in hit.headers
    assert hit.body == b""


async def test_ga4_without_consent_gets_an_identifier_free_cookieless_ping(
    http, gateway, vendor
) -> None:
    response = await http.get(GA4_HIT, headers={**BROWSER, "Cookie": "_ga=GA1.1.555.666"})
    assert_pixel(response, "anonymous; reason=no_consent")
    (hit,) = await received_after_drain(gateway, vendor)
    query = dict(hit.query)
    assert not {"cid", "sid", "uid", "evil"} & set(query)
    assert query["gcs"] == "G100"
    assert query["gcd"] == "11p1p1p1p5"
    assert query["_uip"] == "198.51.100.0"
    assert hit.headers["user-agent"] == "consent-gateway"
    assert "cookie" not in hit.headers


async def test_marketing_pixel_redirects_only_with_consent(http, gateway, vendor) -> None:
    pixel = "/t/meta_pixel?id=123&ev=PageView&noscript=1&fbp=fb.1.2.3&evil=<script>"
    blocked = await http.get(pixel, headers=BROWSER)
    assert_pixel(blocked, "block; reason=no_consent")
    await consent_to(http, "marketing")
    allowed = await http.get(pixel, headers=BROWSER)
    assert allowed.status_code == 302
    assert (
        allowed.headers["location"]
        == f"{vendor.origin}/tr?id=123&ev=PageView&noscript=1&fbp=fb.1.2.3"
    )
    assert allowed.headers["cache-control"] == "no-store"
    assert "set-cookie" not in allowed.headers
    assert await received_after_drain(gateway, vendor) == []  # the browser goes, not the gateway


async def test_gpc_blocks_marketing_even_with_consent(http, gateway, vendor) -> None:
    await consent_to(http, "marketing", "analytics")
    response = await http.get(
        "/t/linkedin_insight?pid=1&fmt=gif", headers={**BROWSER, "Sec-GPC": "1"}
    )
    assert_pixel(response, "block; reason=gpc")
    assert await received_after_drain(gateway, vendor) == []


async def test_bots_never_reach_a_vendor(http, gateway, vendor) -> None:
    await consent_to(http, "analytics", "marketing")
    for path in (GA4_HIT, "/t/matomo?idsite=1&rec=1", "/t/meta_pixel?id=1&ev=PageView"):
        response = await http.get(path, headers={"User-Agent": GOOGLEBOT})
        assert_pixel(response, "block; reason=bot")
    response = await http.get(GA4_HIT)  # no user agent at all
    assert_pixel(response, "block; reason=bot")
    assert await received_after_drain(gateway, vendor) == []


async def test_after_withdrawal_hits_stop_identifying(http, gateway, vendor) -> None:
    await consent_to(http, "analytics", "marketing")
    assert (await http.get("/t/meta_pixel?id=1", headers=BROWSER)).status_code == 302
    await http.delete("/consent", headers={"Origin": SITE, **BROWSER})
    assert_pixel(await http.get("/t/meta_pixel?id=1", headers=BROWSER), "block; reason=no_consent")
    assert_pixel(await http.get(GA4_HIT, headers=BROWSER), "anonymous")
    (hit,) = await received_after_drain(gateway, vendor)
    assert "cid" not in dict(hit.query)


async def test_refused_category_is_not_forwarded_identifiably(http, gateway, vendor) -> None:
    await consent_to(http, "preferences")  # analytics refused
    assert_pixel(
        await http.get(
            "/t/matomo?idsite=7&rec=1&_id=abcdef0123456789&uid=alice&action_name=Home",
            headers=BROWSER,
        ),
        "anonymous; reason=denied",
    )
    (hit,) = await received_after_drain(gateway, vendor)
    query = dict(hit.query)
    assert "_id" not in query
    assert "uid" not in query
    assert query["idsite"] == "1"  # pinned by the rule: nobody writes into another site


async def test_a_vendor_refused_inside_a_granted_category_gets_no_identifying_hit(
    http, gateway, vendor
) -> None:
    headers = {"Origin": SITE, **BROWSER}
    body = {"granted": ["analytics", "marketing"], "refused_vendors": ["ga4", "meta_pixel"]}
    response = await http.post("/consent", json=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["consent"]["refused_vendors"] == ["ga4", "meta_pixel"]
    assert_pixel(await http.get(GA4_HIT, headers=BROWSER), "anonymous; reason=vendor_refused")
    assert_pixel(
        await http.get("/t/meta_pixel?id=1", headers=BROWSER), "block; reason=vendor_refused"
    )
    matomo = "/t/matomo?idsite=7&rec=1&_id=abcdef0123456789&action_name=Home"
    assert_pixel(await http.get(matomo, headers=BROWSER), "forward; reason=consented")
    hits = await received_after_drain(gateway, vendor)
    (ga4,) = [hit for hit in hits if hit.path == "/g/collect"]
    assert "cid" not in dict(ga4.query)
    # Consent Mode tells Google its own analytics was refused, though the category was granted.
    assert dict(ga4.query)["gcs"] == "G100"
    (matomo_hit,) = [hit for hit in hits if hit.path != "/g/collect"]
    assert dict(matomo_hit.query)["_id"] == "abcdef0123456789"


async def test_opt_out_region_forwards_without_a_choice(http, gateway, vendor) -> None:
    response = await http.get(GA4_HIT, headers={**BROWSER, "CF-IPCountry": "US"})
    assert_pixel(response, "forward; reason=opt_out_region")
    (hit,) = await received_after_drain(gateway, vendor)
    assert dict(hit.query)["gcs"] == "G111"
    assert dict(hit.query)["gcd"] == "11t1t1t1t5"


async def test_plausible_json_post_keeps_only_allowed_fields(http, gateway, vendor) -> None:
    await consent_to(http, "analytics")
    event = {
        "n": "pageview",
        "u": "https://www.example.com/a",
        "d": "example.com",
        "r": None,  # no referrer: the trackers send null
        "spy": "x",
    }
    response = await http.post("/t/plausible", json=event, headers=BROWSER)
    assert response.status_code == 204
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    (hit,) = await received_after_drain(gateway, vendor)
    assert (hit.method, hit.path) == ("POST", "/api/event")
    assert hit.headers["content-type"] == "application/json"
    forwarded = json.loads(hit.body)
    assert "spy" not in forwarded
    assert forwarded["n"] == "pageview"


async def test_ga4_batched_post_forwards_one_hit_per_event(http, gateway, vendor) -> None:
    await consent_to(http, "analytics")
    body = "en=page_view&_et=10\nen=scroll&epn.percent=90\n"
    response = await http.post(
        "/t/ga4?v=2&tid=G-T&cid=1.2",
        content=body,
        headers={**BROWSER, "Content-Type": "text/plain"},
    )
    assert response.status_code == 204
    hits = await received_after_drain(gateway, vendor)
    assert sorted(dict(h.query)["en"] for h in hits) == ["page_view", "scroll"]
    assert all(dict(h.query)["cid"] == "1.2" for h in hits)


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"method": "GET", "url": "/t/nonexistent"}, 404),
        ({"method": "GET", "url": "/t/..%2F..%2Fetc%2Fpasswd"}, 404),
        (
            {
                "method": "POST",
                "url": "/t/plausible",
                "content": b"{bad",
                "headers": {"Content-Type": "application/json"},
            },
            400,
        ),
        (
            {
                "method": "POST",
                "url": "/t/plausible",
                "content": b"[1]",
                "headers": {"Content-Type": "application/json"},
            },
            400,
        ),
        (
            {
                "method": "POST",
                "url": "/t/ga4",
                "content": b"\xff\xfe",
                "headers": {"Content-Type": "text/plain"},
            },
            400,
        ),
        ({"method": "POST", "url": "/t/ga4", "content": b"a=" + b"x" * 70000}, 413),
        ({"method": "PUT", "url": "/t/ga4"}, 405),
    ],
)
async def test_bad_hits_get_a_json_4xx(http, gateway, vendor, request_args, status) -> None:
    await consent_to(http, "analytics")
    arguments = dict(request_args)
    headers = {**BROWSER, **arguments.pop("headers", {})}
    response = await http.request(**arguments, headers=headers)
    assert response.status_code == status
    assert set(response.json()) >= {"error", "detail"}
    assert await received_after_drain(gateway, vendor) == []


async def test_unknown_vendor_lists_the_known_ones(http) -> None:
    response = await http.get("/t/nonexistent", headers=BROWSER)
    assert "ga4" in response.json()["vendors"]
    assert "recaptcha" not in response.json()["vendors"]


async def test_a_disclosed_necessary_vendor_has_no_hit_route(http) -> None:
    response = await http.get("/t/recaptcha", headers=BROWSER)
    assert response.status_code == 404


async def test_hits_from_other_sites_are_refused(http, gateway, vendor) -> None:
    await consent_to(http, "analytics")
    response = await http.post(
        "/t/plausible", json={"n": "x"}, headers={**BROWSER, "Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert await received_after_drain(gateway, vendor) == []


async def test_vendor_answers_are_never_relayed(http, gateway, vendor) -> None:
    vendor.status = 302
    vendor.extra_headers = {"Location": "https://elsewhere.example/"}
    await consent_to(http, "analytics")
    response = await http.get(GA4_HIT, headers=BROWSER)
    assert_pixel(response, "forward")
    hits = await received_after_drain(gateway, vendor)
    assert len(hits) == 1  # the vendor's redirect was not followed
    assert gateway.figures.delivery_report()["ga4"]["delivered"] == 1


async def test_decisions_are_counted_per_day_vendor_and_outcome(http, gateway, vendor) -> None:
    await http.get(GA4_HIT, headers=BROWSER)
    await http.get(GA4_HIT, headers=BROWSER)
    await http.get("/t/meta_pixel?id=1", headers=BROWSER)
    await http.get(GA4_HIT, headers={"User-Agent": GOOGLEBOT})
    await gateway.counter.flush()
    day = gateway.counter.today()
    counts = await gateway.store.counts.counts("pixel", day, day)
    assert counts == {
        CountKey(day, "pixel", "ga4:anonymous"): 2,
        CountKey(day, "pixel", "meta_pixel:block"): 1,
        CountKey(day, "pixel", "ga4:block"): 1,
    }


@pytest.mark.parametrize(
    ("how", "region"),
    [
        ("gpc_header", "DE"),
        ("gpc_cookie", "DE"),
        ("gpc_header", "US"),
        ("gpc_cookie", "US"),
        ("objection", "DE"),
        ("opt_out_region_gpc", "US"),
    ],
)
async def test_consent_mode_never_grants_marketing_signals_that_were_taken_away(
    http, gateway, vendor, how, region
) -> None:
    """GA4 (analytics) still goes, but its ad_* signals must say denied (issue 9)."""
    headers = {**BROWSER, "CF-IPCountry": region}
    if how != "opt_out_region_gpc":
        await consent_to(http, "analytics", "marketing", gpc=how == "gpc_cookie")
        headers["Cookie"] = f"cg_consent={http.cookies['cg_consent']}"
    if how in {"gpc_header", "opt_out_region_gpc"}:
        headers["Sec-GPC"] = "1"
    if how == "objection":
        consent = gateway.codec.decode(http.cookies["cg_consent"])
        assert consent is not None
        gateway.objections.note(Objection(consent.consent_id, ("marketing",), 1.0))
    response = await http.get(GA4_HIT, headers=headers)
    assert_pixel(response, "forward")
    (hit,) = await received_after_drain(gateway, vendor)
    query = dict(hit.query)
    assert query["gcs"] == "G101"  # ad_storage denied, analytics_storage granted
    gcd = query["gcd"]
    ad_storage, analytics, ad_user_data, ad_personalization = gcd[2:-1].split("1")
    assert ad_storage in {"p", "q"}, gcd
    assert ad_user_data in {"p", "q"}, gcd
    assert ad_personalization in {"p", "q"}, gcd
    assert analytics in {"r", "t"}, gcd
