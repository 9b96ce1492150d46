"""The hot paths (pure ASGI, `gateway.endpoints.hot`) answer exactly what the full Starlette
stack answers for the same request: same status, headers and body — only the request id and
the date differ. Requests the hot path does not take (POST, an unknown vendor, an invalid token,
another origin) reach the full stack untouched."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.email.links import EmailSigner
from tests.conftest import SECRET, SITE, serving

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BASE = "http://gateway.test"


def _comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted(
        (name, value)
        for name, value in response.headers.multi_items()
        if name not in ("x-request-id", "date")
    )
    return response.status_code, headers, response.content


async def test_the_hot_paths_answer_as_the_full_stack_does(make_settings) -> None:
    app = create_app(make_settings())

    async def full_stack(scope, receive, send):  # the same app, without its hot paths
        await Starlette.__call__(app, scope, receive, send)

    async with serving(app) as hot:
        chosen = await hot.post(
            "/consent", json={"action": "accept_all"}, headers={"User-Agent": CHROME}
        )
        cookie = "cg_consent=" + chosen.cookies["cg_consent"]
        hot.cookies.clear()  # each request below says which cookie it sends
        signer = EmailSigner((SECRET,), BASE)
        message = signer.message(campaign="spring", recipient="r-1", sent_at=time.time() - 60)
        click = urlsplit(message.click_url("https://www.example.com/a?b=1", 1)).path
        etag = (await hot.get("/consent.js", headers={"Accept-Encoding": "gzip"})).headers["etag"]
        requests: list[tuple[str, dict[str, str]]] = [
            ("/healthz", {}),
            ("/t/meta_pixel?id=1&ev=PageView", {"User-Agent": CHROME}),
            ("/t/meta_pixel?id=1&ev=PageView", {"User-Agent": CHROME, "Cookie": cookie}),
            ("/t/meta_pixel?id=1", {"User-Agent": "curl/8.0", "Cookie": cookie}),
            ("/t/ga4/g/collect?v=2&tid=G-1&cid=1.2&en=page_view", {"User-Agent": CHROME}),
            ("/t/ga4?v=2&tid=G-1&cid=1.2&en=page_view", {"User-Agent": CHROME, "Cookie": cookie}),
            ("/t/ga4?v=2", {"User-Agent": CHROME, "Sec-GPC": "1", "Cookie": cookie}),
            ("/t/nope", {}),
            ("/t/ga4/no/such/path", {}),
            ("/t/meta_pixel?id=1", {"Origin": SITE, "User-Agent": CHROME}),
            ("/t/meta_pixel?id=1", {"Origin": "https://evil.example", "User-Agent": CHROME}),
            ("/consent", {}),
            ("/consent", {"Cookie": cookie}),
            ("/consent", {"Cookie": "cg_consent=forged.token"}),
            ("/consent.js", {"Accept-Encoding": "gzip, deflate, br"}),
            ("/consent.js", {}),
            ("/consent.js", {"Accept-Encoding": "gzip", "If-None-Match": etag}),
            ("/consent.css", {"Accept-Encoding": "gzip;q=0"}),
            (urlsplit(message.open_url).path, {"User-Agent": CHROME}),
            ("/o/not-a-token", {}),
            (click, {"User-Agent": CHROME}),
            (click, {"User-Agent": CHROME, "Sec-Purpose": "prefetch"}),
            ("/c/not-a-token", {"Accept-Language": "de"}),
        ]
        handed_on: list[str] = []
        hot_paths = app.hot_paths
        assert hot_paths is not None
        stack = hot_paths.app

        async def counted(scope, receive, send):
            handed_on.append(scope["path"])
            await stack(scope, receive, send)

        hot_paths.app = counted
        transport = httpx.ASGITransport(app=full_stack, client=("203.0.113.77", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as full:
            for path, headers in requests:
                answered = await hot.get(path, headers=headers)
                expected = await full.get(path, headers=headers)
                assert _comparable(answered) == _comparable(expected), path
                assert answered.headers["x-request-id"], path
    # Only the unusual requests went on to the full stack.
    assert handed_on == [
        "/t/nope",
        "/t/ga4/no/such/path",
        "/t/meta_pixel",  # a site's origin: the origin guard adds the CORS headers
        "/t/meta_pixel",  # an unknown origin: the origin guard refuses it
        "/o/not-a-token",
        "/c/not-a-token",
    ]


async def test_an_unexpected_error_on_a_hot_path_is_the_one_json_500(
    make_settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(make_settings())

    def broken(tokens, now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state.gateway.codec, "decode_presented", broken)
    async with serving(app, client_ip="10.0.0.5") as http:
        with caplog.at_level(logging.ERROR, logger="gateway"):
            response = await http.get(
                "/t/meta_pixel?id=1", headers={"X-Request-ID": "req-hot-0001"}
            )
        metrics = (await http.get("/metrics")).text
    assert response.status_code == 500
    assert response.json()["request_id"] == "req-hot-0001"
    assert response.headers["x-request-id"] == "req-hot-0001"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["unhandled error on GET /t/{vendor}"]
    assert 'cg_http_requests_total{method="GET",route="/t/{vendor}",status="500"} 1.0' in metrics


async def test_hot_paths_count_requests_latency_and_decisions(make_settings) -> None:
    async with serving(create_app(make_settings()), client_ip="10.0.0.5") as http:
        for _ in range(3):
            await http.get("/t/meta_pixel?id=1", headers={"User-Agent": CHROME})
        await http.get("/consent.js")
        text = (await http.get("/metrics")).text
        await http.get("/healthz")
        again = (await http.get("/metrics")).text
    assert 'cg_http_requests_total{method="GET",route="/t/{vendor}",status="200"} 3.0' in text
    assert 'cg_http_request_duration_seconds_count{route="/t/{vendor}"} 3.0' in text
    assert 'cg_http_request_duration_seconds_bucket{le="+Inf",route="/consent.js"} 1.0' in text
    assert (
        'cg_pixel_decisions_total{outcome="block",reason="no_consent",vendor="meta_pixel"} 3.0'
        in text
    )
    # A second scrape adds only what happened since the first.
    assert 'cg_http_requests_total{method="GET",route="/t/{vendor}",status="200"} 3.0' in again
    assert 'cg_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in again
