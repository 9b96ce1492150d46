"""The size budget: gzip(JS) + gzip(CSS) as served, config with both languages, ≤ 6 KB.

orestbida/cookieconsent v3 ships ~10 KB of gzipped JS plus ~5 KB of CSS; ours, with the
site's config, every shipped vendor (embeds and reCAPTCHA included) and the first layer's texts
in English and Russian embedded, must stay within 6,144 bytes. What only some visitors need has
its own budgets: the lazy part (the preferences list, embed placeholders, notices: script and
stylesheet) and the preferences layer's texts and vendor details (`/consent/details`, per
language), both fetched when first needed.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from gateway.banner.config import build_banner_config
from gateway.banner.routes import banner_routes
from tests.banner.vendors import SHIPPED_VENDORS

BUDGET = 6 * 1024
LAZY_BUDGET = 3 * 1024  # /consent-lazy.js + /consent-lazy.css
DETAILS_BUDGET = 2 * 1024  # per language, fetched only when the preferences layer opens


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
    lazy = await served_gzip_size(app, "/consent-lazy.js")
    lazy += await served_gzip_size(app, "/consent-lazy.css")
    print(f"gzip size: the lazy part {lazy} B of {LAZY_BUDGET} B")
    assert lazy <= LAZY_BUDGET
    for language in ("en", "ru"):
        details = await served_gzip_size(app, f"/consent/details?lang={language}")
        print(f"gzip size: /consent/details?lang={language} {details} B of {DETAILS_BUDGET} B")
        assert details <= DETAILS_BUDGET
