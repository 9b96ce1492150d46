"""`POST /consent` is a hot route (pure ASGI, `HotRoute`), its one implementation: answered by
`HotRoutes` beside `GET /consent`, listed in the app's routes, its `Set-Cookie` written byte for
byte as Starlette's `set_cookie` wrote it, and `DELETE /consent` still the router's."""

from __future__ import annotations

import pytest
from starlette.routing import Route

from gateway.app import app_for, create_app
from gateway.endpoints.hot import HotRoute
from gateway.runtime import Gateway
from tests.conftest import SITE, serving

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
HEADERS = {"Origin": SITE, "User-Agent": FIREFOX}


def consent_routes(app) -> dict[str, type]:
    return {
        method: type(route)
        for route in app.routes
        if isinstance(route, Route) and route.path == "/consent"
        for method in route.methods or ()
    }


@pytest.mark.parametrize(
    ("public_url", "domain", "attributes"),
    [
        ("http://127.0.0.1:8000", None, "; Max-Age=15552000; Path=/; SameSite=lax"),
        (
            "https://consent.example.com",
            "example.com",
            "; Domain=example.com; Max-Age=2592000; Path=/; SameSite=lax; Secure",
        ),
    ],
)
async def test_the_cookie_is_written_byte_for_byte_as_before(
    make_settings, public_url: str, domain: str | None, attributes: str
) -> None:
    days = 180 if domain is None else 30
    gateway = Gateway.build(
        make_settings(public_url=public_url, cookie_domain=domain, consent_days=days)
    )
    app = app_for(gateway)
    async with serving(app) as http:
        response = await http.post("/consent", json={"action": "accept_all"}, headers=HEADERS)
        (cookie,) = response.headers.get_list("set-cookie")
    assert response.status_code == 200
    token = cookie.removeprefix("cg_consent=").split(";")[0]
    assert gateway.codec.decode(token) is not None
    assert cookie == f"cg_consent={token}{attributes}"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Cookie, Authorization, Origin"  # the origin guard's
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json()["consent"]["granted"] == [
        "analytics",
        "marketing",
        "necessary",
        "preferences",
    ]


async def test_post_is_a_hot_route_beside_get_and_delete_stays_the_routers(
    make_settings,
) -> None:
    app = create_app(make_settings())
    assert consent_routes(app) == {
        "GET": HotRoute,
        "HEAD": HotRoute,
        "POST": HotRoute,
        "DELETE": Route,
    }
    async with serving(app) as http:
        chosen = await http.post("/consent", json={"granted": ["analytics"]}, headers=HEADERS)
        state = await http.get("/consent", headers=HEADERS)
        withdrawn = await http.delete("/consent", headers=HEADERS)
        refused = await http.put("/consent", headers=HEADERS)
        metrics = (await http.get("/metrics")).text
    assert chosen.status_code == 200
    assert state.json()["consent"]["id"] == chosen.json()["consent"]["id"]
    assert withdrawn.json()["withdrawn"] is True
    assert refused.status_code == 405
    assert refused.json()["error"] == "method_not_allowed"
    assert 'cg_http_requests_total{method="POST",route="/consent",status="200"} 1.0' in metrics


@pytest.mark.parametrize(
    ("content_type", "body", "status", "error"),
    [
        ("text/plain", b'{"action":"accept_all"}', 415, "unsupported_media_type"),
        ("application/json", b'{"action":"accept_all"' + b" " * 5000 + b"}", 413, None),
        ("application/json", b'{"action": "maybe"}', 422, None),
        ("application/json", b'{"granted": [1e999]}', 400, None),
        ("application/json", b'{"language": "\\ud800"}', 400, None),
        ("application/json; charset=utf-8", b'{"action":"reject_all"}', 200, None),
    ],
)
async def test_bodies_are_refused_as_every_route_refuses_them(
    make_settings, content_type: str, body: bytes, status: int, error: str | None
) -> None:
    async with serving(create_app(make_settings())) as http:
        response = await http.post(
            "/consent", content=body, headers={**HEADERS, "Content-Type": content_type}
        )
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) >= {"error", "detail"}
    if error is not None:
        assert response.json()["error"] == error
