"""The size budget: gzip(JS) + gzip(CSS) as served, config with both languages, ≤ 8 KB.

orestbida/cookieconsent v3 ships ~10 KB of gzipped JS plus ~5 KB of CSS; ours, with the
site's config, vendors and texts in English and Russian embedded, must stay under 8 KB.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from gateway.banner.config import build_banner_config
from gateway.banner.routes import banner_routes
from tests.banner.vendors import SHIPPED_VENDORS

BUDGET = 8 * 1024


async def served_gzip_size(app: Starlette, path: str) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        response = await http.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    return int(response.headers["content-length"])


async def test_gzip_js_plus_css_within_budget() -> None:
    config = build_banner_config(
        public_url="https://consent.example.com",
        policy_revision=1,
        policy_url="https://www.example.com/privacy",
        categories=("necessary", "preferences", "analytics", "marketing"),
        vendors=SHIPPED_VENDORS,
    )
    assert set(config["texts"]) == {"en", "ru"}  # type: ignore[call-overload]
    app = Starlette(routes=banner_routes(config))
    js = await served_gzip_size(app, "/consent.js")
    css = await served_gzip_size(app, "/consent.css")
    print(f"gzip sizes: consent.js {js} B + consent.css {css} B = {js + css} B of {BUDGET} B")
    assert js + css <= BUDGET, f"banner is {js + css} B gzipped, over the {BUDGET} B budget"
