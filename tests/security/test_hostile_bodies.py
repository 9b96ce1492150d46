"""The 500s an attacker could once provoke, each reproduced, and the one error path.

Every body goes through `gateway.endpoints.bodies`; every unexpected error through
`RequestInstrumentation`; a client hanging up is one quiet 499 line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Scope

from gateway.errors import BadRequest
from gateway.strict_json import MAX_JSON_DEPTH, json_depth, parse_json
from tests.security.conftest import AUTH

JSON = {"content-type": "application/json"}
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
DEEP = b"[" * 3000 + b"]" * 3000  # RecursionError in json.loads, yet under the hit cap
# (route, method, needs admin token, a well-formed body to break)
JSON_ROUTES = [
    ("/consent", "POST", False),
    ("/api/links", "POST", True),
    ("/api/subjects/esp-1/consent", "PUT", True),
    ("/api/subjects/esp-1/objection", "POST", True),
]


def _no_unhandled(caplog: pytest.LogCaptureFixture) -> None:
    text = caplog.text
    assert "unhandled error" not in text
    assert "Traceback" not in text


@pytest.mark.parametrize(("path", "method", "admin"), JSON_ROUTES)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 2000 + b"]" * 2000, id="deep-array"),
        pytest.param(b'{"a":' * 1000 + b"1" + b"}" * 1000, id="deep-object"),
        pytest.param(b'{"action": "\\ud800"}', id="lone-surrogate-value"),
        pytest.param(b'{"granted": ["\\udfff"], "categories": ["\\udfff"]}', id="surrogate-echo"),
        pytest.param(b'{"\\ud800": 1}', id="lone-surrogate-key"),
        pytest.param(b'{"sent_at": Infinity}', id="infinity"),
        pytest.param(b'{"sent_at": -Infinity}', id="minus-infinity"),
        pytest.param(b'{"sent_at": NaN}', id="nan"),
        pytest.param(b'{"sent_at": 1e400}', id="1e400"),
        pytest.param(b'{"sent_at": 1' + b"0" * 400 + b"}", id="huge-integer"),
        pytest.param(b'{"sent_at": 1' + b"0" * 5000 + b"}", id="int-digits-limit"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
async def test_malformed_json_is_a_400_naming_the_problem(
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    path: str,
    method: str,
    admin: bool,
    body: bytes,
) -> None:
    headers = {**JSON, **(AUTH if admin else {})}
    with caplog.at_level(logging.INFO):
        response = await http.request(method, path, content=body[:4096], headers=headers)
    assert response.status_code in (400, 413), response.text
    assert response.json()["error"] in ("bad_request", "payload_too_large")
    _no_unhandled(caplog)


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "accept_all", "page": "http://[x/"}',
        b'{"action": "accept_all", "page": "http://]x/"}',
        b'{"granted": [], "page": "//[::1"}',
    ],
)
async def test_a_page_url_urlsplit_rejects_is_dropped_not_a_500(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    response = await http.post("/consent", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    _no_unhandled(caplog)


@pytest.mark.parametrize("url", ["http://[x/", "https://[::1", "https://a]b/", "http://[/x"])
async def test_a_link_target_urlsplit_rejects_is_a_422(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    body = {"campaign": "c1", "recipient": "esp-1", "url": url}
    response = await http.post("/api/links", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    _no_unhandled(caplog)


@pytest.mark.parametrize("sent_at", [-1, 1e300, 2**53, "0001-01-01", "+99999-01-01"])
async def test_a_send_time_out_of_range_is_a_422(http: httpx.AsyncClient, sent_at: object) -> None:
    body = {"campaign": "c1", "recipient": "esp-1", "url": "https://a.example/", "sent_at": sent_at}
    response = await http.post("/api/links", json=body, headers=AUTH)
    assert response.status_code == 422, response.text


async def test_a_deep_hit_body_is_a_400(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # From a browser (a bot's hit is blocked unread); plausible reads it even without consent.
    for body in (DEEP, b'{"v": NaN}', b'{"v": "\\ud800"}'):
        headers = {**JSON, "user-agent": BROWSER}
        response = await http.post("/t/plausible", content=body, headers=headers)
        assert response.status_code == 400, response.text
    _no_unhandled(caplog)


async def test_an_error_quoting_a_surrogate_still_encodes(app: Starlette) -> None:
    """Defence in depth: even a message that quotes a lone surrogate renders (as U+FFFD)."""
    from gateway.errors import Unprocessable

    async def quoting(request: Request) -> Response:
        raise Unprocessable("unknown category: \ud800", valid=["\udfff"])

    app.router.routes.append(Route("/quoting", quoting))
    async with _client(app) as http:
        response = await http.get("/quoting")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("unknown category: \ufffd")


def test_the_strict_parser_accepts_ordinary_json() -> None:
    document = parse_json('{"a": [1, -2.5, 9007199254740992, "é \\ud83d\\ude00", null]}'.encode())
    assert document == {"a": [1, -2.5, 2**53, "é 😀", None]}
    assert json_depth('{"a": "[[[[[[", "b": [[1]]}') == 3
    with pytest.raises(BadRequest, match="deeper"):
        parse_json(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None


def _client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test")


async def test_an_unexpected_error_has_one_path_one_log_line_and_a_json_500(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.router.routes.append(Route("/broken", broken))
    with caplog.at_level(logging.INFO, logger="gateway"):
        async with _client(app) as http:  # raise_app_exceptions: nothing escapes the app
            response = await http.get("/broken", headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal",
        "detail": "the gateway hit an unexpected error",
        "request_id": "req-12345678",
    }
    assert response.headers["x-request-id"] == "req-12345678"
    unhandled = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert len(unhandled) == 1
    assert unhandled[0].getMessage() == "unhandled error on GET /broken"


async def test_a_client_hanging_up_mid_body_is_one_quiet_499_line(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"action": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/consent",
        "raw_path": b"/consent",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"host", b"gateway.test")],
        "client": ("203.0.113.9", 50000),
        "server": ("gateway.test", 80),
        "state": {},
    }
    with caplog.at_level(logging.INFO, logger="gateway"):
        async with app.router.lifespan_context(app):
            scope["app"] = app
            await asyncio.wait_for(app(scope, receive, send), timeout=10)
    assert sent == []  # nobody is listening: nothing is sent
    lines = [r for r in caplog.records if r.name.startswith("gateway")]
    closed = [r for r in lines if "(499)" in r.getMessage()]
    assert len(closed) == 1
    assert closed[0].levelno == logging.INFO
    assert closed[0].getMessage() == "client closed the request on POST /consent (499)"
    assert closed[0].exc_info is None
    _no_unhandled(caplog)
    assert json.dumps(closed[0].getMessage())  # plain text, no traceback


def test_only_the_body_reader_reads_request_bodies() -> None:
    """One reader: a route that reads `request.json()`, `.form()`, `.body()` or `.stream()` on
    its own would skip the caps and the strict parser."""
    package = Path(__file__).resolve().parents[2] / "gateway"
    readers = re.compile(r"\brequest\.(json|form|body|stream)\(")
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "bodies.py" or path.parent.name != "endpoints"
        if readers.search(path.read_text())
    ]
    assert offenders == []
