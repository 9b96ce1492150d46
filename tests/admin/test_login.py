"""Logging in to `/admin`: the session cookie, expiry, CSRF, rate limiting, a closed admin."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from gateway.admin.session import COOKIE_NAME, AdminSessions
from gateway.app import create_app
from gateway.settings import Settings
from tests.admin.conftest import ADMIN, ADMIN_HASH, ORIGIN
from tests.admin.html_reading import form_token
from tests.conftest import SECRET, serving

SAME_ORIGIN = {"Origin": ORIGIN}
NO_SESSION = {"Cookie": f"{COOKIE_NAME}="}  # an explicit Cookie header replaces the client's jar


def with_session(cookie: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE_NAME}={cookie}"}


async def post_login(http: httpx.AsyncClient, token: str, **headers: str) -> httpx.Response:
    page = await http.get("/admin/login")
    return await http.post(
        "/admin/login",
        data={"csrf_token": form_token(page.text), "token": token},
        headers={**SAME_ORIGIN, **headers},
    )


async def test_the_dashboard_asks_for_a_login_first(http: httpx.AsyncClient) -> None:
    answer = await http.get("/admin")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login"
    login = await http.get("/admin/login")
    assert login.status_code == 200
    assert '<label for="token">Admin token</label>' in login.text
    assert 'type="password"' in login.text


async def test_logging_in_sets_a_strict_short_lived_cookie(http: httpx.AsyncClient) -> None:
    answer = await post_login(http, ADMIN)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert attributes == {"httponly", "max-age=28800", "path=/admin", "samesite=strict"}
    assert ADMIN not in cookie
    assert ADMIN_HASH not in cookie
    dashboard = await http.get("/admin")
    assert dashboard.status_code == 200
    assert "<h1>Dashboard</h1>" in dashboard.text
    assert (await http.get("/admin/login")).headers["location"] == "/admin"


async def test_the_cookie_is_secure_on_an_https_gateway(
    make_settings: Callable[..., Settings],
) -> None:
    public = "https://consent.example.com"
    app = create_app(
        make_settings(admin_token_hashes=(ADMIN_HASH,), public_url=public, admin_session_minutes=30)
    )
    async with serving(app) as http:
        answer = await post_login(http, ADMIN, Origin=public)
    assert answer.status_code == 303
    attributes = {part.strip().lower() for part in answer.headers["set-cookie"].split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/admin", "max-age=1800"} <= attributes


@pytest.mark.parametrize(
    "token", ["wrong-token", ADMIN.upper(), ADMIN + "x", ADMIN_HASH, "ü" * 600]
)
async def test_a_wrong_token_shows_the_form_again_with_an_error(
    http: httpx.AsyncClient, token: str
) -> None:
    answer = await post_login(http, token)
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers
    assert 'role="alert">That token is not an admin token.' in answer.text
    assert 'aria-invalid="true" aria-describedby="login-error"' in answer.text
    assert token not in answer.text  # not echoed back
    assert (await http.get("/admin")).status_code == 303


async def test_an_empty_token_is_asked_for_and_costs_no_attempt(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    for _ in range(15):
        answer = await post_login(http, "   ")
        assert answer.status_code == 400
        assert "Enter an admin token." in answer.text
    assert (await post_login(http, ADMIN)).status_code == 303


async def test_repeated_wrong_tokens_are_rate_limited_for_the_form_and_the_api(
    http: httpx.AsyncClient,
) -> None:
    for _ in range(10):
        assert (await post_login(http, "guess")).status_code == 401
    limited = await post_login(http, "guess")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 6
    assert re.search(r"Too many wrong tokens\. Try again in \d+ seconds\.", limited.text)
    assert (await post_login(http, ADMIN)).status_code == 429  # even the right one, for now
    api = await http.post("/api/links", json={}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert api.status_code == 429  # one budget for the form and the API


def session_cookie(minutes_ago: float, hashes: tuple[str, ...] = (ADMIN_HASH,)) -> str:
    """A session cookie made `minutes_ago`, as the gateway under test would have made it."""
    signed_at = time.time() - minutes_ago * 60
    sessions = AdminSessions((SECRET,), hashes, minutes=480, secure=False, clock=lambda: signed_at)
    session = sessions.open(ADMIN)
    assert session is not None
    return sessions.cookie_value(session)


@pytest.mark.parametrize(
    ("minutes_ago", "status"), [(1, 200), (479, 200), (481, 303), (60 * 24 * 30, 303)]
)
async def test_a_session_expires_after_eight_hours(
    http: httpx.AsyncClient, minutes_ago: float, status: int
) -> None:
    answer = await http.get("/admin", headers=with_session(session_cookie(minutes_ago)))
    assert answer.status_code == status


async def test_a_session_opened_with_a_token_no_longer_configured_is_over(
    http: httpx.AsyncClient,
) -> None:
    other_hash = hashlib.sha256(b"a-removed-token").hexdigest()
    sessions = AdminSessions((SECRET,), (other_hash,), minutes=480, secure=False)
    session = sessions.open("a-removed-token")
    assert session is not None
    answer = await http.get("/admin", headers=with_session(sessions.cookie_value(session)))
    assert answer.status_code == 303


async def test_logging_out_ends_the_session(admin: httpx.AsyncClient) -> None:
    dashboard = await admin.get("/admin")
    cookie = admin.cookies[COOKIE_NAME]
    answer = await admin.post(
        "/admin/logout", data={"csrf_token": form_token(dashboard.text)}, headers=SAME_ORIGIN
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login"
    assert (
        'cg_admin="";' in answer.headers["set-cookie"]
        or "cg_admin=;" in answer.headers["set-cookie"]
    )
    assert "max-age=0" in answer.headers["set-cookie"].lower()
    assert (await admin.get("/admin")).status_code == 303
    replayed = await admin.get("/admin", headers=with_session(cookie))  # a copied cookie
    assert replayed.status_code == 303


async def test_a_form_without_its_csrf_token_is_refused(admin: httpx.AsyncClient) -> None:
    for path in (
        "/admin/subject",
        "/admin/subject/export",
        "/admin/subject/erase",
        "/admin/logout",
    ):
        answer = await admin.post(
            path, data={"subject": "esp-1", "confirmed": "yes"}, headers=SAME_ORIGIN
        )
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    assert (await admin.get("/admin")).status_code == 200  # still logged in


async def test_a_csrf_token_of_another_session_or_of_the_login_form_is_refused(
    admin: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    login_token = form_token((await admin.get("/admin/login", headers=NO_SESSION)).text)
    sessions = AdminSessions((SECRET,), (ADMIN_HASH,), minutes=480, secure=False)
    other = sessions.form_token(sessions.open(ADMIN))
    for token in (login_token, other, "x" * 80):
        answer = await admin.post(
            "/admin/subject", data={"csrf_token": token, "subject": "esp-1"}, headers=SAME_ORIGIN
        )
        assert answer.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://gateway.test:8080"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_form_from_another_origin_is_refused_even_with_a_valid_token(
    admin: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    token = form_token((await admin.get("/admin")).text)
    answer = await admin.post(
        "/admin/subject", data={"csrf_token": token, "subject": "esp-1"}, headers=headers
    )
    assert answer.status_code == 403
    assert "The form was refused" in answer.text
    login_page = await admin.get("/admin/login", headers=NO_SESSION)
    login = await admin.post(
        "/admin/login",
        data={"csrf_token": form_token(login_page.text), "token": ADMIN},
        headers=headers,
    )
    assert login.status_code == 403
    assert "set-cookie" not in login.headers


async def test_a_mismatched_origin_is_explained(admin: httpx.AsyncClient) -> None:
    token = form_token((await admin.get("/admin")).text)
    answer = await admin.post(
        "/admin/subject",
        data={"csrf_token": token, "subject": "esp-1"},
        headers={"Origin": "http://localhost:8000"},
    )
    assert "sent from http://localhost:8000" in answer.text
    assert "public URL is http://gateway.test (GATEWAY_PUBLIC_URL)" in answer.text


async def test_a_form_without_origin_passes_on_its_token(admin: httpx.AsyncClient) -> None:
    token = form_token((await admin.get("/admin")).text)
    answer = await admin.post("/admin/subject", data={"csrf_token": token, "subject": "esp-1"})
    assert answer.status_code == 200


async def test_without_configured_tokens_the_admin_is_closed_and_says_how_to_open_it(
    make_settings: Callable[..., Settings],
) -> None:
    async with serving(create_app(make_settings(public_url=ORIGIN))) as http:
        for method, path in [
            ("GET", "/admin"),
            ("GET", "/admin/login"),
            ("GET", "/admin/receipts.csv"),
        ]:
            answer = await http.request(method, path)
            assert answer.status_code == 403
            assert "The admin dashboard is closed" in answer.text
            assert "GATEWAY_ADMIN_TOKEN_HASHES" in answer.text
            assert "sha256sum" in answer.text
        posted = await http.post("/admin/login", data={"token": ADMIN}, headers=SAME_ORIGIN)
        assert posted.status_code == 403
        assert "set-cookie" not in posted.headers


async def test_every_admin_page_carries_a_strict_policy(admin: httpx.AsyncClient) -> None:
    for answer in (await admin.get("/admin"), await admin.get("/admin/login", headers=NO_SESSION)):
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in answer.headers["content-security-policy"].split(";")
        )
        stylesheet = re.search(r"<style>(.*?)</style>", answer.text, re.S)
        assert stylesheet is not None
        digest = base64.b64encode(hashlib.sha256(stylesheet.group(1).encode()).digest()).decode()
        assert policy == {
            "default-src": "'none'",
            "style-src": f"'sha256-{digest}'",
            "img-src": "'self' data:",
            "form-action": "'self'",
            "base-uri": "'none'",
            "frame-ancestors": "'none'",
        }
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "cookie" in answer.headers["vary"].lower()
        assert "<script" not in answer.text
        assert " style=" not in answer.text
