"""The consent API over HTTP: record, read, withdraw, own receipts; origins and bad input."""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any

import httpx
import pytest

from gateway.app import app_for, create_app
from gateway.banner.details import shown_texts
from gateway.banner.texts import hash_texts, texts_hash
from gateway.configured_banner import configured_banner
from gateway.rules import load_rules
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import SITE, serving

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
JSON = {"Origin": SITE, "User-Agent": FIREFOX}


def shown_hash(settings: Settings, language: str) -> str:
    rules = load_rules(
        settings.rules.folder,
        categories=settings.consent.categories,
        home=settings.rules.home_countries,
    )
    config = configured_banner(settings, rules)
    return hash_texts(shown_texts(config, language))


def cookie_payload(response: httpx.Response) -> dict[str, object]:
    token = response.cookies["cg_consent"]
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def test_no_cookie_means_no_consent(client: httpx.AsyncClient) -> None:
    response = await client.get("/consent")
    assert response.status_code == 200
    assert response.json() == {
        "consent": None,
        "revision": 1,
        "categories": ["necessary", "preferences", "analytics", "marketing"],
    }
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie, Authorization"


@pytest.mark.parametrize(
    ("body", "action", "granted"),
    [
        (
            {"action": "accept_all"},
            "accept_all",
            ["analytics", "marketing", "necessary", "preferences"],
        ),
        ({"action": "reject_all"}, "reject_all", ["necessary"]),
        ({"granted": ["analytics"]}, "custom", ["analytics", "necessary"]),
        ({"granted": []}, "custom", ["necessary"]),
    ],
)
async def test_record_a_choice(
    client: httpx.AsyncClient, make_settings, body, action, granted
) -> None:
    response = await client.post(
        "/consent", json={**body, "language": "ru", "page": "/pricing?email=x@y.z"}, headers=JSON
    )
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["consent"]["granted"] == granted
    assert set(state["consent"]["denied"]) == {
        "necessary",
        "preferences",
        "analytics",
        "marketing",
    } - set(granted)
    assert cookie_payload(response)["g"] == granted

    cookie = response.headers["set-cookie"]
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert f"Max-Age={180 * 86400}" in cookie
    assert "HttpOnly" not in cookie
    assert "Secure" not in cookie  # plain-http dev public URL

    mine = (await client.get("/consent/receipts")).json()
    assert mine["subject_id"] == state["consent"]["id"]
    (receipt,) = mine["receipts"]
    assert receipt["receipt_id"] == state["receipt_id"]
    assert receipt["action"] == action
    assert receipt["granted"] == granted
    assert receipt["subject_kind"] == "visitor"
    assert receipt["language"] == "ru"
    # The banner's Russian texts and what it says of each vendor (description, where it
    # processes data), as the shipped rules declare them.
    assert receipt["texts_hash"] == shown_hash(make_settings(), "ru") != texts_hash("ru")
    assert receipt["collection_point"] == f"{SITE}/pricing"  # query string dropped
    assert receipt["ip"] == "203.0.113.0"  # truncated
    assert (receipt["browser"], receipt["os"], receipt["device"]) == (
        "Firefox",
        "Windows",
        "desktop",
    )
    assert receipt["policy_revision"] == 1
    assert receipt["policy_url"] == f"{SITE}/privacy"


async def test_reading_back_the_cookie(client: httpx.AsyncClient) -> None:
    recorded = await client.post("/consent", json={"granted": ["preferences"]}, headers=JSON)
    current = (await client.get("/consent")).json()["consent"]
    assert current == recorded.json()["consent"]


async def test_a_returning_visitor_keeps_their_id_and_all_receipts(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.post("/consent", json={"action": "accept_all"}, headers=JSON)).json()
    second = (await client.post("/consent", json={"action": "reject_all"}, headers=JSON)).json()
    assert first["consent"]["id"] == second["consent"]["id"]
    receipts = (await client.get("/consent/receipts")).json()["receipts"]
    assert [r["action"] for r in receipts] == ["accept_all", "reject_all"]


async def test_gpc_removes_marketing_even_from_accept_all(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/consent", json={"action": "accept_all"}, headers={**JSON, "Sec-GPC": "1"}
    )
    state = response.json()
    assert "marketing" not in state["consent"]["granted"]
    assert state["consent"]["gpc"] is True
    assert state["gpc_applied"] is True
    (receipt,) = (await client.get("/consent/receipts")).json()["receipts"]
    assert receipt["gpc"] is True
    assert "marketing" in receipt["denied"]


async def test_withdraw_records_expires_cookie_and_lists_vendor_cookies(
    client: httpx.AsyncClient,
) -> None:
    recorded = (await client.post("/consent", json={"action": "accept_all"}, headers=JSON)).json()
    subject = recorded["consent"]["id"]
    cookie = client.cookies["cg_consent"]
    response = await client.delete("/consent", headers=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["withdrawn"] is True
    assert {"_ga", "_fbp"} <= set(body["delete_cookies"])
    assert 'cg_consent=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert (await client.get("/consent")).json()["consent"] is None
    client.cookies.set("cg_consent", cookie)  # the proof is still reachable by the old id
    receipts = (await client.get("/consent/receipts")).json()
    assert receipts["subject_id"] == subject
    assert [r["action"] for r in receipts["receipts"]] == ["accept_all", "withdraw"]
    assert receipts["receipts"][1]["granted"] == ["necessary"]  # always on, never "denied"


async def test_withdraw_without_a_cookie_still_answers(client: httpx.AsyncClient) -> None:
    response = await client.delete("/consent", headers=JSON)
    assert response.status_code == 200
    assert response.json()["receipt_id"] is None


async def test_a_policy_revision_bump_asks_again(make_settings) -> None:
    async with serving(create_app(make_settings(policy_revision=1))) as old:
        await old.post("/consent", json={"action": "accept_all"}, headers=JSON)
        cookie = old.cookies["cg_consent"]
    async with serving(create_app(make_settings(policy_revision=2))) as new:
        new.cookies.set("cg_consent", cookie)
        assert (await new.get("/consent")).json()["consent"] is None
        again = (await new.post("/consent", json={"action": "reject_all"}, headers=JSON)).json()
        assert again["consent"]["revision"] == 2
        receipts = (await new.get("/consent/receipts")).json()["receipts"]
        assert [(r["action"], r["policy_revision"]) for r in receipts] == [
            ("accept_all", 1),
            ("reject_all", 2),
        ]


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "", "x" * 5000])
async def test_bad_cookies_are_no_consent_never_an_error(
    client: httpx.AsyncClient, cookie: str
) -> None:
    client.cookies.set("cg_consent", cookie)
    response = await client.get("/consent")
    assert response.status_code == 200
    assert response.json()["consent"] is None


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"granted": ["analytics", "spying"]}, 422, "unknown category: spying"),
        ({"action": "accept_some"}, 422, "unknown action"),
        ({"action": "accept_all", "granted": []}, 422, "either"),
        ({}, 422, "either"),
        ({"granted": "analytics"}, 422, "must be a list"),
        ({"granted": [], "colour": "red"}, 422, "unknown field(s): colour"),
        ([1, 2], 422, "JSON object"),
        ({"granted": [], "page": 42}, 422, "page"),
        ({"granted": [], "language": "x" * 100}, 422, "language"),
        ({"granted": [], "refused_vendors": "ga4"}, 422, "list of vendor ids"),
        ({"action": "accept_all", "refused_vendors": ["ga4"]}, 422, 'goes with "granted"'),
    ],
)
async def test_bad_choices_get_a_clear_4xx(client: httpx.AsyncClient, body, status, error) -> None:
    response = await client.post("/consent", json=body, headers=JSON)
    assert response.status_code == status
    assert error in response.json()["detail"]
    assert "cg_consent" not in response.headers.get("set-cookie", "")


async def test_unknown_category_lists_the_valid_ones(client: httpx.AsyncClient) -> None:
    response = await client.post("/consent", json={"granted": ["spying"]}, headers=JSON)
    assert response.json()["valid_categories"] == [
        "necessary",
        "preferences",
        "analytics",
        "marketing",
    ]


async def test_unknown_vendor_lists_the_valid_ones(client: httpx.AsyncClient) -> None:
    body = {"granted": ["analytics"], "refused_vendors": ["ga4", "spyware"]}
    response = await client.post("/consent", json=body, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown vendor: spyware"
    valid = response.json()["valid_vendors"]
    assert {"ga4", "matomo", "meta_pixel", "youtube"} <= set(valid)
    assert "recaptcha" not in valid  # necessary: disclosed, never refusable


async def test_vendor_refusals_reach_cookie_state_and_receipt(client: httpx.AsyncClient) -> None:
    body = {"granted": ["analytics"], "refused_vendors": ["ga4", "meta_pixel"]}
    recorded = await client.post("/consent", json=body, headers=JSON)
    assert recorded.status_code == 200
    # meta_pixel is marketing, refused as a category already: not kept twice.
    assert recorded.json()["consent"]["refused_vendors"] == ["ga4"]
    assert cookie_payload(recorded)["v"] == ["ga4"]
    # The banner deletes the cookies of every vendor the choice does not allow.
    delete = recorded.json()["delete_cookies"]
    assert {"_ga", "_ga_*", "_fbp"} <= set(delete)
    assert not {"_pk_id.*", "_GRECAPTCHA"} & set(delete)
    assert (await client.get("/consent")).json()["consent"]["refused_vendors"] == ["ga4"]
    (receipt,) = (await client.get("/consent/receipts")).json()["receipts"]
    assert receipt["action"] == "custom"
    assert receipt["granted"] == ["analytics", "necessary"]
    assert receipt["refused_vendors"] == ["ga4"]
    # A later broader choice lifts the refusal, and the cookie goes back to the old shape.
    again = await client.post("/consent", json={"action": "accept_all"}, headers=JSON)
    assert again.json()["consent"]["refused_vendors"] == []
    assert "v" not in cookie_payload(again)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"action": "accept_all"}', "text/plain", 415),
        (b'{"action": "accept_all"}', "application/x-www-form-urlencoded", 415),
        (b'{"granted": [' + b'"analytics",' * 400 + b'"analytics"]}', "application/json", 413),
        (b"\xff\xfe", "application/json", 400),
    ],
)
async def test_malformed_bodies(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int
) -> None:
    response = await client.post(
        "/consent", content=content, headers={**JSON, "Content-Type": content_type}
    )
    assert response.status_code == status
    assert set(response.json()) >= {"error", "detail"}


async def test_allowed_origin_gets_credentialed_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/consent", headers={"Origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]
    preflight = await client.options(
        "/consent",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://www.example.com.evil.example",
        "http://www.example.com",
        "null",
        "https://WWW.example.com",
    ],
)
async def test_other_origins_are_refused(client: httpx.AsyncClient, origin: str) -> None:
    for method in ("GET", "POST", "DELETE", "OPTIONS"):
        response = await client.request(
            method, "/consent", json={"action": "accept_all"}, headers={"Origin": origin}
        )
        assert response.status_code == 403, method
        assert response.json()["error"] == "forbidden"
        assert "access-control-allow-origin" not in response.headers
        assert "set-cookie" not in response.headers


async def test_the_gateways_own_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/consent", json={"action": "reject_all"}, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert response.status_code == 200


async def test_client_ip_is_taken_through_trusted_proxies_only(make_settings) -> None:
    app = create_app(
        make_settings(trusted_proxies=(__import__("ipaddress").ip_network("10.0.0.0/8"),))
    )
    async with serving(app, client_ip="10.1.2.3") as proxied:
        await proxied.post(
            "/consent",
            json={"action": "reject_all"},
            headers={**JSON, "X-Forwarded-For": "6.6.6.6, 198.51.100.23"},
        )
        (receipt,) = (await proxied.get("/consent/receipts")).json()["receipts"]
        assert receipt["ip"] == "198.51.100.0"
    async with serving(create_app(make_settings()), client_ip="10.1.2.3") as direct:
        await direct.post(
            "/consent",
            json={"action": "reject_all"},
            headers={**JSON, "X-Forwarded-For": "198.51.100.23"},
        )
        (receipt,) = (await direct.get("/consent/receipts")).json()["receipts"]
        assert receipt["ip"] == "10.1.2.0"


async def test_region_from_the_configured_geo_header(make_settings) -> None:
    async with serving(create_app(make_settings(geo_header="CF-IPCountry"))) as http:
        await http.post(
            "/consent", json={"action": "reject_all"}, headers={**JSON, "CF-IPCountry": "de"}
        )
        await http.post(
            "/consent", json={"action": "reject_all"}, headers={**JSON, "CF-IPCountry": "<script>"}
        )
        regions = [r["region"] for r in (await http.get("/consent/receipts")).json()["receipts"]]
        assert regions == ["DE", ""]


async def test_unknown_routes_and_methods_are_json_4xx(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong = await client.put("/consent", json={})
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body.pop("instance") == f"{socket.gethostname()}:{os.getpid()}"  # which process
    assert body["forwarder"] == {
        "depth": 0,
        "bytes": 0,
        "buffered": 0,
        **dict.fromkeys(_DELIVERY_COUNTS, 0),
    }
    assert body["delivery"]["ga4"] == {
        "depth": 0,
        "oldest_age_seconds": 0,
        "bytes": 0,
        "cap": 100_000,
        "cap_bytes": 256 * 1024 * 1024,
        "breaker_open": 0,
        **dict.fromkeys(_DELIVERY_COUNTS, 0),
    }
    del body["forwarder"], body["delivery"]
    assert body == {
        "status": "ready",
        "store": "sqlite",
        "spool_depth": 0,
        "counts_lost": 0,
        "email_events_dropped": 0,
        "opt_in_mails": {"waiting": 0, "sent": 0, "failed": 0, "dropped": 0},
    }


_DELIVERY_COUNTS = (
    "queued",
    "overflowed",
    "dropped",
    "yielded",
    "over_share",
    "delivered",
    "retried",
    "uncertain",
    "dead_lettered",
    "rejected",
    "withheld",
)


async def test_readiness_fails_when_the_store_is_unreachable(make_settings) -> None:
    app = create_app(make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.3))
    async with serving(app) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"


async def test_choices_are_counted_per_day_for_the_dashboard(make_settings) -> None:
    gateway = Gateway.build(make_settings())
    app = app_for(gateway)
    async with serving(app) as http:
        await http.post("/consent", json={"action": "accept_all"}, headers={**JSON, "Sec-GPC": "1"})
        http.cookies.clear()
        await http.post("/consent", json={"granted": ["analytics"]}, headers=JSON)
        await gateway.counter.flush()
        day = gateway.counter.today()
        actions = await gateway.store.counts.counts("consent_action", day, day)
        categories = await gateway.store.counts.counts("consent_category", day, day)
        gpc = await gateway.store.counts.counts("consent_gpc", day, day)
    assert {key.label: value for key, value in actions.items()} == {
        "visitor:accept_all": 1,
        "visitor:custom": 1,
    }
    by_label = {key.label: value for key, value in categories.items()}
    assert by_label["visitor:analytics:granted"] == 2
    assert by_label["visitor:marketing:denied"] == 2  # GPC removed it from accept_all
    assert by_label["visitor:preferences:granted"] == 1
    assert {key.label: value for key, value in gpc.items()} == {"visitor:on": 1, "visitor:off": 1}


async def test_receipts_prove_the_texts_actually_shown_including_overrides(
    make_settings, tmp_path
) -> None:
    from gateway.banner.texts import hash_texts
    from gateway.settings import load_settings

    toml = tmp_path / "gateway.toml"
    toml.write_text(
        '[banner_texts.en]\ntitle = "Your choices, our promise"\n[banner_texts.de]\ntitle = "Ihre Wahl"\n'
    )
    overrides = load_settings(toml, {}).banner.texts
    gateway = Gateway.build(make_settings(banner_texts=overrides))
    app = app_for(gateway)
    async with serving(app) as http:
        script = (await http.get("/consent.js")).text
        assert "Your choices, our promise" in script
        for language in ("en-GB", "de", "fr"):
            http.cookies.clear()
            await http.post(
                "/consent", json={"action": "reject_all", "language": language}, headers=JSON
            )
        receipts = []
        for receipt in [r async for r in gateway.store.receipts.iter_receipts()]:
            receipts.append((receipt.language, receipt.texts_hash))
    config: Any = gateway.banner_config  # the JSON the banner is given
    assert receipts == [
        ("en", hash_texts(shown_texts(config, "en"))),
        ("de", hash_texts(shown_texts(config, "de"))),
        ("en", hash_texts(shown_texts(config, "en"))),  # no such language: English shown
    ]
    assert hash_texts(config["texts"]["en"]) != texts_hash("en")  # the override changed it


def test_unknown_banner_text_keys_stop_start_up(make_settings) -> None:
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match=r"texts\.en\.titel: unknown text key"):
        create_app(make_settings(banner_texts=(("en", (("titel", "x"),)),)))


async def test_a_withdrawal_proves_the_texts_shown_with_overrides(make_settings, tmp_path) -> None:
    """Withdrawing is a choice made in the banner: its receipt proves the (overridden) texts of
    the banner's language, from `?language=` or else the browser's first language."""
    from gateway.receipts.shown import texts_shown
    from gateway.settings import load_settings

    toml = tmp_path / "gateway.toml"
    toml.write_text('[banner_texts.de]\nwithdraw = "Einwilligung zurückziehen!"\n')
    gateway = Gateway.build(make_settings(banner_texts=load_settings(toml, {}).banner.texts))
    app = app_for(gateway)
    async with serving(app) as http:
        for query, accept in (("?language=de", ""), ("", "de-CH,de;q=0.9"), ("", "")):
            http.cookies.clear()
            await http.post("/consent", json={"action": "accept_all"}, headers=JSON)
            response = await http.delete(
                "/consent" + query, headers={**JSON, "Accept-Language": accept}
            )
            assert response.status_code == 200, response.text
        withdrawals = [
            (receipt.language, receipt.texts_hash)
            async for receipt in gateway.store.receipts.iter_receipts()
            if receipt.action == "withdraw"
        ]
    config: Any = gateway.banner_config  # the JSON the banner is given
    assert withdrawals == [
        texts_shown("de", shown_texts(config, "de")),
        texts_shown("de", shown_texts(config, "de")),
        texts_shown("en", shown_texts(config, "en")),
    ]
    assert texts_shown("de", config["texts"]["de"]).texts_hash != texts_hash("de")
