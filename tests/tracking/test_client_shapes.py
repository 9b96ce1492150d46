"""The paths and bodies real tracker clients send, as each rule declares them (issue 9).

gtag appends `/g/collect` and batches events one a line; the Plausible trackers post JSON as
text/plain to `/api/event`; matomo.js sends form bodies and bulk envelopes; fbevents calls
`/tr/` and posts forms. Every hit is read whole or refused with a 4xx and a count.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from gateway.runtime import Gateway
from tests.conftest import SITE
from tests.tracking.test_pixel_proxy import BROWSER, consent_to, received_after_drain
from tests.vendors import StandInVendor


def with_cookie(http: httpx.AsyncClient) -> dict[str, str]:
    return {**BROWSER, "Cookie": f"cg_consent={http.cookies['cg_consent']}"}


def rejected(gateway: Gateway, vendor: str, reason: str) -> float:
    counter = gateway.metrics.rejected_hits.labels(vendor, reason)
    return float(counter._value.get())


# ------------------------------------------------------------------ sub-paths


async def test_gtag_transport_url_path_and_batches(http, gateway, vendor: StandInVendor) -> None:
    await consent_to(http, "analytics")
    response = await http.post(
        "/t/ga4/g/collect?v=2&tid=G-T&cid=1.2&dl=https%3A%2F%2Fa.example%2F%3Fq%3D1",
        content="en=page_view&_et=5\nen=scroll&epn.percent_scrolled=90\n",
        headers={**with_cookie(http), "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 204
    hits = await received_after_drain(gateway, vendor)
    assert {h.path for h in hits} == {"/g/collect"}
    assert sorted(dict(h.query)["en"] for h in hits) == ["page_view", "scroll"]
    assert all(dict(h.query)["dl"] == "https://a.example/?q=1" for h in hits)  # consented: whole


async def test_gtag_get_form_on_the_sub_path(http, gateway, vendor: StandInVendor) -> None:
    response = await http.get("/t/ga4/g/collect?v=2&tid=G-T&en=page_view", headers=BROWSER)
    assert response.headers["x-consent-decision"] == "anonymous; reason=no_consent"
    (hit,) = await received_after_drain(gateway, vendor)
    assert dict(hit.query)["en"] == "page_view"


@pytest.mark.parametrize(
    "path",
    ["/t/ga4/j/collect", "/t/ga4/g/collect/x", "/t/ga4/..%2Fmatomo", "/t/plausible/g/collect"],
)
async def test_undeclared_sub_paths_are_404_naming_the_declared_ones(
    http, gateway, vendor, path
) -> None:
    response = await http.get(f"{path}?v=2&en=x", headers=BROWSER)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert await received_after_drain(gateway, vendor) == []


@pytest.mark.parametrize("path", ["/t/meta_pixel/", "/t/meta_pixel/tr/", "/t/meta_pixel/tr"])
async def test_meta_paths_never_redirect_to_the_host_header(http, vendor, path) -> None:
    query = "?id=1&ev=PageView&noscript=1"
    headers = {**BROWSER, "Host": "evil.example"}
    blocked = await http.get(path + query, headers=headers)
    assert blocked.status_code == 200
    assert "location" not in blocked.headers
    await consent_to(http, "marketing")
    allowed = await http.get(path + query, headers={**with_cookie(http), "Host": "evil.example"})
    assert allowed.status_code == 302
    assert allowed.headers["location"] == f"{vendor.origin}/tr?id=1&ev=PageView&noscript=1"


async def test_a_trailing_slash_is_served_in_place_never_redirected(http) -> None:
    for path, status in (("/healthz/", 200), ("/consent//", 200), ("/t/", 404), ("/nope/", 404)):
        response = await http.get(path, headers={**BROWSER, "Host": "evil.example"})
        assert response.status_code == status, path
        assert "location" not in response.headers


# ------------------------------------------------------------------ body shapes


async def test_a_full_matomo_bulk_body_fits(http, gateway, vendor) -> None:
    """matomo.js sends up to 50 requests in one bulk body; real ones are ~700 bytes each."""
    url = "https%3A%2F%2Fwww.example.com%2F" + "section%2F" * 40
    request = (
        f"?idsite=1&rec=1&action_name=Home&url={url}&res=1920x1080&pv_id=abcdef" + "&x=y" * 100
    )
    body = json.dumps({"requests": [request] * 50}).encode()
    assert len(body) > 30_000
    response = await http.post("/t/matomo", content=body, headers=BROWSER)
    assert response.status_code == 204
    deadline = time.monotonic() + 15  # wait on the vendor itself: hits in flight are not "queued"
    while len(vendor.received) < 50 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(await received_after_drain(gateway, vendor)) == 50


async def test_plausible_text_plain_json_on_api_event(http, gateway, vendor: StandInVendor) -> None:
    event = {"n": "pageview", "u": "https://a.example/p?email=x%40y.example#s", "d": "a.example",
             "r": "https://ref.example/?utm_source=news&session=9", "w": 1280, "spy": 1}  # fmt: skip
    for consented in (False, True):
        if consented:
            await consent_to(http, "analytics")
        headers = with_cookie(http) if consented else BROWSER
        response = await http.post(
            "/t/plausible/api/event",
            content=json.dumps(event),
            headers={**headers, "Content-Type": "text/plain"},
        )
        assert response.status_code == 204
    # The forwarder's workers may deliver in either order: tell them apart by the full URL.
    anonymous, consented_hit = sorted(
        await received_after_drain(gateway, vendor), key=lambda hit: b"email" in hit.body
    )
    assert consented_hit.path == "/api/event"
    # With consent the page URL stays whole, but no e-mail address reaches an analytics vendor.
    assert json.loads(consented_hit.body) == {
        **{k: v for k, v in event.items() if k != "spy"},
        "u": "https://a.example/p?email=[email]#s",
    }
    assert json.loads(anonymous.body) == {
        "n": "pageview",
        "u": "https://a.example/p",  # query and fragment gone without consent
        "d": "a.example",
        "r": "https://ref.example/?utm_source=news",  # a campaign key the rule keeps
        "w": 1280,
    }


async def test_matomo_bulk_requests_become_separate_shaped_hits(http, gateway, vendor) -> None:
    body = {
        "requests": [
            "?idsite=9&rec=1&action_name=Home&url=https%3A%2F%2Fa.example%2F%3Femail%3Dx&_id=abc",
            "?idsite=9&rec=1&e_c=video&e_a=play&url=https%3A%2F%2Fa.example%2Fv&uid=alice",
        ]
    }
    response = await http.post("/t/matomo", json=body, headers=BROWSER)  # no consent
    assert response.status_code == 204
    first, second = sorted(await received_after_drain(gateway, vendor), key=lambda h: len(h.query))
    hits = [dict(first.query), dict(second.query)]
    assert {h.get("action_name") or h.get("e_a") for h in hits} == {"Home", "play"}
    for hit in hits:
        assert "_id" not in hit
        assert "uid" not in hit
        assert hit["idsite"] == "1"  # pinned by the rule
        assert "?" not in hit["url"]


async def test_matomo_post_form_with_consent_keeps_everything_allowed(
    http, gateway, vendor
) -> None:
    await consent_to(http, "analytics")
    response = await http.post(
        "/t/matomo/matomo.php",
        content="idsite=1&rec=1&action_name=Home&_id=abc&url=https%3A%2F%2Fa.example%2F%3Fq%3D1",
        headers={**with_cookie(http), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 204
    (hit,) = await received_after_drain(gateway, vendor)
    query = dict(hit.query)
    assert query.pop("cdt").isdigit()  # the event time, added at delivery
    assert query == {
        "action_name": "Home",
        "_id": "abc",
        "url": "https://a.example/?q=1",
        "idsite": "1",
        "rec": "1",
    }


async def test_meta_post_form_goes_into_the_redirect(http, vendor) -> None:
    await consent_to(http, "marketing")
    response = await http.post(
        "/t/meta_pixel/tr/",
        content="id=1&ev=Purchase&cd[value]=9.5&evil=x",
        headers={**with_cookie(http), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{vendor.origin}/tr"
    assert parse_qsl(location.query) == [("id", "1"), ("ev", "Purchase"), ("cd[value]", "9.5")]


BAD_BODIES = [
    ("plausible", b"{bad", "text/plain", 400, "bad_json"),
    ("plausible", b"[1, 2]", "application/json", 400, "bad_json"),
    ("plausible", b"n=pageview", "text/plain", 400, "wrong_shape"),
    ("plausible", b'{"spy": 1}', "text/plain", 400, "nothing_allowed"),
    ("plausible", b'{"n": NaN}', "text/plain", 400, "bad_json"),
    ("ga4", b'{"en": "x"}', "text/plain", 400, "wrong_shape"),
    ("ga4", b"\xff\xfe", "text/plain", 400, "not_utf8"),
    ("ga4", b"\n".join([b"en=x"] * 51), "text/plain", 413, "too_many_hits"),
    ("matomo", b'{"requests": "?a=1"}', "application/json", 400, "bad_bulk"),
    ("matomo", b'{"requests": [1]}', "application/json", 400, "bad_bulk"),
    ("matomo", b'{"requests": ["idsite=1"]}', "application/json", 400, "bad_bulk"),
    ("matomo", b'{"requests": []}', "application/json", 400, "bad_bulk"),
    ("linkedin_insight", b"pid=1", "application/x-www-form-urlencoded", 400, "no_body_shape"),
]


@pytest.mark.parametrize(("vendor_id", "body", "kind", "status", "reason"), BAD_BODIES)
async def test_unreadable_bodies_are_refused_and_counted(
    http, gateway, vendor, vendor_id, body, kind, status, reason
) -> None:
    await consent_to(http, "analytics", "marketing")
    before = rejected(gateway, vendor_id, reason)
    response = await http.post(
        f"/t/{vendor_id}", content=body, headers={**with_cookie(http), "Content-Type": kind}
    )
    assert response.status_code == status
    assert set(response.json()) >= {"error", "detail"}
    assert rejected(gateway, vendor_id, reason) == before + 1
    assert await received_after_drain(gateway, vendor) == []


async def test_a_bad_body_is_refused_whatever_the_consent(http, vendor) -> None:
    response = await http.post("/t/plausible", content=b"{bad", headers={**BROWSER, "Origin": SITE})
    assert response.status_code == 400
