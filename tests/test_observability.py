"""Metrics, request ids and logs: what operators see, and that it holds no personal data."""

from __future__ import annotations

import json
import logging

import pytest

from gateway.app import app_for, create_app
from gateway.logs import JSONFormatter, RequestIdFilter
from gateway.runtime import Gateway
from tests.conftest import SITE, serving

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


async def test_metrics_count_requests_decisions_receipts_and_store_calls(make_settings) -> None:
    async with serving(create_app(make_settings()), client_ip="10.0.0.5") as http:
        await http.post(
            "/consent",
            json={"action": "reject_all"},
            headers={"Origin": SITE, "User-Agent": CHROME},
        )
        await http.get("/t/meta_pixel?id=1", headers={"User-Agent": CHROME})
        await http.get("/t/meta_pixel?id=1", headers={"User-Agent": "curl/8.0"})
        await http.get("/t/nope")
        text = (await http.get("/metrics")).text
    assert 'cg_http_requests_total{method="GET",route="/t/{vendor}",status="200"} 2.0' in text
    assert 'cg_http_requests_total{method="GET",route="/t/{vendor}",status="404"} 1.0' in text
    assert 'cg_http_requests_total{method="POST",route="/consent",status="200"} 1.0' in text
    assert (
        'cg_pixel_decisions_total{outcome="block",reason="denied",vendor="meta_pixel"} 1.0' in text
    )
    assert 'cg_pixel_decisions_total{outcome="block",reason="bot",vendor="meta_pixel"} 1.0' in text
    assert 'cg_receipts_total{action="reject_all",outcome="stored"} 1.0' in text
    assert 'cg_store_operation_duration_seconds_count{operation="add_receipts"} 1.0' in text
    assert 'cg_delivery_queue_depth{vendor="ga4"} 0.0' in text
    assert 'cg_delivery_delivered_total{vendor="ga4"} 0.0' in text
    assert 'cg_delivery_uncertain_total{vendor="plausible"} 0.0' in text
    assert 'cg_delivery_oldest_hit_age_seconds{vendor="matomo"} 0.0' in text
    assert "cg_spool_depth 0.0" in text
    assert 'cg_http_request_duration_seconds_bucket{le="0.1",route="/consent"}' in text


@pytest.mark.parametrize("client_ip", ["1.1.1.1", "8.8.8.8", "2001:4860::1"])
async def test_metrics_are_refused_to_public_addresses(make_settings, client_ip: str) -> None:
    async with serving(create_app(make_settings()), client_ip=client_ip) as http:
        response = await http.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("abcdef12-3456", "abcdef12-3456"),
        ("short", None),
        ("bad id with spaces!", None),
        ("x" * 100, None),
    ],
)
async def test_request_ids(client, sent: str, echoed: str | None) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    rid = response.headers["x-request-id"]
    if echoed:
        assert rid == echoed
    else:
        assert len(rid) == 16
        assert all(c in "0123456789abcdef" for c in rid)


async def test_logs_carry_the_request_id_and_no_personal_data(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.3))
    with caplog.at_level(logging.INFO):
        async with serving(app, client_ip="198.51.100.77") as http:
            response = await http.post(
                "/consent",
                json={"action": "accept_all", "page": "/account?email=alice@example.com"},
                headers={"Origin": SITE, "User-Agent": CHROME, "X-Request-ID": "req-12345678"},
            )
    assert response.status_code == 200  # spooled: the store is down
    lines = [json.loads(JSONFormatter().format(record)) for record in caplog.records]
    assert any("spooling" in line["message"] for line in lines)
    everything = json.dumps(lines)
    for personal in (
        "198.51.100",
        "alice@example.com",
        CHROME,
        "Chrome/131",
        response.json()["consent"]["id"],
    ):
        assert personal not in everything


async def test_an_unexpected_error_is_a_json_500_logged_with_its_request_id(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings())

    async def broken(request):
        raise RuntimeError("a bug")

    app.router.add_route("/broken", broken)
    caplog.handler.addFilter(RequestIdFilter())
    async with serving(app) as http:
        response = await http.get("/broken", headers={"X-Request-ID": "req-abcdef12"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal",
        "detail": "the gateway hit an unexpected error",
        "request_id": "req-abcdef12",  # what a user quotes when reporting it
    }
    assert response.headers["x-request-id"] == "req-abcdef12"
    (record,) = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    line = json.loads(JSONFormatter().format(record))
    assert line["request_id"] == "req-abcdef12"
    assert "RuntimeError: a bug" in line["exception"]


async def test_email_events_past_the_memory_limit_are_dropped_and_counted(make_settings) -> None:
    gateway = Gateway.build(make_settings())
    app = app_for(gateway)
    email = gateway.email
    opened = email.signer.message(campaign="spring", recipient="esp-1", sent_at=0).open_url
    path = "/o/" + opened.rsplit("/o/", 1)[1]
    async with serving(app, client_ip="10.0.0.5") as http:
        email.recorder.max_pending = email.recorder.held + 1
        for _ in range(3):
            assert (await http.get(path, headers={"User-Agent": CHROME})).status_code == 200
        text = (await http.get("/metrics")).text
    assert email.recorder.dropped == 2
    assert "cg_email_events_dropped_total 2.0" in text
