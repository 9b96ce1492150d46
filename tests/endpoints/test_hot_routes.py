"""The hot routes (pure ASGI, `gateway.endpoints.hot`) are the only implementation of `/t`,
`/o`, `/c`, `GET /consent`, `/healthz` and the banner's assets, and they sit inside the app's
middleware: every route, hot or Starlette, gets the one request context (request id, latency,
counting, the JSON 500) and the origin guard. What they cache is bounded and keyed by values
read from the request (the cookie's value), never by a raw header."""

from __future__ import annotations

import gc
import json
import logging
import secrets
import time
import tracemalloc
from urllib.parse import urlsplit

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.app import app_for, create_app
from gateway.banner.routes import accepts_gzip
from gateway.email.links import EmailSigner
from gateway.runtime import Gateway
from tests.conftest import SECRET, SITE, serving

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BASE = "http://gateway.test"


async def test_a_middleware_added_to_the_app_sees_every_route_hot_or_not(make_settings) -> None:
    seen: list[tuple[str, str]] = []

    class Witness:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append((scope["method"], scope["path"]))
            await self.app(scope, receive, send)

    app = create_app(make_settings())
    app.add_middleware(Witness)
    signer = EmailSigner((SECRET,), BASE)
    message = signer.message(campaign="spring", recipient="r-1", sent_at=time.time() - 60)
    click = urlsplit(message.click_url("https://www.example.com/a", 1)).path
    opened = urlsplit(message.open_url).path
    paths = ["/t/meta_pixel?id=1", opened, click, "/consent", "/healthz", "/consent.js", "/readyz"]
    async with serving(app) as http:
        for path in paths:
            response = await http.get(path, headers={"User-Agent": CHROME})
            assert response.status_code < 500, path
        await http.post("/consent", json={"action": "accept_all"})
    assert seen == [("GET", urlsplit(path).path) for path in paths] + [("POST", "/consent")]


async def test_every_route_gets_a_request_id_and_is_counted_by_its_template(make_settings) -> None:
    async with serving(create_app(make_settings())) as http:
        hot = await http.get("/t/ga4/g/collect?v=2", headers={"X-Request-ID": "req-hot-0001"})
        full = await http.get("/readyz", headers={"X-Request-ID": "req-full-0001"})
        fresh = [(await http.get(path)).headers["x-request-id"] for path in ("/healthz", "/v1")]
        refused = await http.put("/t/ga4")
        metrics = (await http.get("/metrics")).text
    assert hot.headers["x-request-id"] == "req-hot-0001"
    assert full.headers["x-request-id"] == "req-full-0001"
    assert len(set(fresh)) == 2
    assert all(len(rid) >= 8 for rid in fresh)
    assert refused.status_code == 405
    assert refused.json() == {"error": "method_not_allowed", "detail": "Method Not Allowed"}
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    for line in (
        'cg_http_requests_total{method="GET",route="/t/{vendor}/{sub_path:path}",status="200"} 1.0',
        'cg_http_requests_total{method="GET",route="/readyz",status="200"} 1.0',
        'cg_http_requests_total{method="PUT",route="/t/{vendor}",status="405"} 1.0',
    ):
        assert line in metrics


async def test_the_origin_guard_covers_hot_and_starlette_routes_alike(make_settings) -> None:
    evil = {"Origin": "https://evil.example", "User-Agent": CHROME}
    async with serving(create_app(make_settings())) as http:
        refused = [
            await http.get("/t/meta_pixel?id=1", headers=evil),
            await http.get("/consent", headers=evil),
            await http.post("/consent", json={"action": "accept_all"}, headers=evil),
        ]
        allowed = await http.get("/t/meta_pixel?id=1", headers={"Origin": SITE})
        again = await http.get("/t/meta_pixel?id=1")
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert {r.json()["error"] for r in refused} == {"forbidden"}
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert "Origin" in allowed.headers["vary"]
    # The CORS headers went on a copy: the next answer of the same route carries none.
    assert "access-control-allow-origin" not in again.headers
    assert again.headers["vary"] == "Cookie, Authorization"
    assert allowed.headers["access-control-allow-credentials"] == "true"


async def test_a_preflight_is_answered_alike_on_hot_and_starlette_routes(make_settings) -> None:
    asking = {"Origin": SITE, "Access-Control-Request-Method": "POST"}
    async with serving(create_app(make_settings())) as http:
        answers = [
            await http.options("/t/meta_pixel", headers=asking),  # hot
            await http.options("/consent", headers=asking),  # hot for GET, POST is routed
            await http.options("/consent/receipts", headers=asking),  # a Starlette route
        ]
    for answer in answers:
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == SITE
        assert answer.headers["access-control-allow-methods"] == "GET, POST, DELETE"
        assert answer.headers["vary"] == "Origin"
        assert answer.headers["x-request-id"]


async def test_hot_routes_answer_head_trailing_slashes_and_unknown_paths_as_routes_do(
    make_settings,
) -> None:
    signer = EmailSigner((SECRET,), BASE)
    message = signer.message(campaign="spring", recipient="r-1", sent_at=time.time() - 60)
    click = urlsplit(message.click_url("https://www.example.com/a?b=1", 1)).path
    async with serving(create_app(make_settings())) as http:
        head = await http.head(click)
        slash = await http.get(urlsplit(message.open_url).path + "/")
        healthz = await http.get("/healthz/")
        nowhere = [(await http.get(path)).status_code for path in ("/t/", "/o/a/b", "/c/")]
        unknown = await http.get("/t/nope")
        script = await http.head("/consent.js")
        posted = await http.post(click)
        # Routes answered at once (no I/O) refuse other methods as every route does.
        at_once = [(await http.post(path)).status_code for path in ("/healthz", "/consent.js")]
    assert head.status_code == 302
    assert head.content == b""
    assert head.headers["location"] == "https://www.example.com/a?b=1"
    assert slash.status_code == 200
    assert slash.headers["content-type"] == "image/gif"
    assert healthz.json() == {"status": "ok"}
    assert nowhere == [404, 404, 404]
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    assert "meta_pixel" in unknown.json()["vendors"]
    assert script.status_code == 200
    assert script.content == b""
    assert int(script.headers["content-length"]) > 1000
    assert posted.status_code == 405
    assert at_once == [405, 405]


async def test_distinct_huge_cookie_headers_do_not_grow_the_process(make_settings) -> None:
    """300 distinct 512 KB Cookie headers (the same consent inside) leave nothing behind: the
    caches are keyed by the cookie's value, and each is bounded."""
    app = create_app(make_settings())

    async def get(path: str, cookie: bytes) -> tuple[int, bytes]:
        """One GET straight to the ASGI app (no client: it would copy 512 KB headers itself)."""
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"id=1" if path.startswith("/t/") else b"",
            "root_path": "",
            "headers": [(b"cookie", cookie), (b"user-agent", CHROME.encode())],
            "client": ("203.0.113.77", 50000),
            "server": ("gateway.test", 80),
        }
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    async with serving(app) as http:
        chosen = await http.post("/consent", json={"action": "accept_all"})
        token = chosen.cookies["cg_consent"].encode()
        for path in ("/t/meta_pixel", "/consent"):  # warm: the caches hold this consent
            await get(path, b"cg_consent=" + token)
        gc.collect()
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            for number in range(300):
                padding = secrets.token_hex(256 * 1024).encode()  # 512 KB, new every time
                cookie = b"pad%d=%s; cg_consent=%s" % (number, padding, token)
                status, body = await get("/consent" if number % 2 else "/t/meta_pixel", cookie)
                assert status == 200
                del cookie, padding
            gc.collect()
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert json.loads(body)["consent"]["granted"]  # every request read the one consent
    # 300 × 512 KB went through; what stays is a few small objects, not the headers.
    assert after - before < 2 * 1024 * 1024


async def test_an_unexpected_error_on_a_hot_path_is_the_one_json_500(
    make_settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway.build(make_settings())
    app = app_for(gateway)

    def broken(tokens, now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(gateway.codec, "decode_presented", broken)
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


@pytest.mark.parametrize(
    "accept_encoding",
    ["", "gzip", "GZIP", "br, gzip, deflate", "deflate, br", "*", "x-gzip", "identity",
     "gzip;q=0", "gzip;q=0.5, br", "*;q=0", "br;q=1, *;q=0.1", "gzip;q=oops"],
)  # fmt: skip
async def test_the_script_is_gzipped_exactly_when_the_header_allows_it(
    make_settings, accept_encoding: str
) -> None:
    async with serving(create_app(make_settings())) as http:
        answer = await http.get("/consent.js", headers={"Accept-Encoding": accept_encoding})
    gzipped = answer.headers.get("content-encoding") == "gzip"
    assert gzipped == accepts_gzip(accept_encoding)


async def test_the_script_answers_304_to_its_own_etag_only(make_settings) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    async with serving(create_app(make_settings())) as http:
        first = await http.get("/consent.js", headers=gzip)
        again = await http.get(
            "/consent.js", headers={**gzip, "If-None-Match": first.headers["etag"]}
        )
        weak = await http.get(
            "/consent.js", headers={**gzip, "If-None-Match": "W/" + first.headers["etag"]}
        )
        plain = {"Accept-Encoding": "identity", "If-None-Match": first.headers["etag"]}
        other = await http.get("/consent.js", headers=plain)
        stale = await http.get("/consent.js", headers={**gzip, "If-None-Match": '"old"'})
    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert weak.status_code == 304
    assert other.status_code == 200  # the plain script has an ETag of its own
    assert other.headers["etag"] != first.headers["etag"]
    assert stale.status_code == 200
    assert stale.content == first.content
