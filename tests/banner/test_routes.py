"""GET /consent.js and /consent.css: embedding, caching, compression, and failure modes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.banner.config import build_banner_config
from gateway.banner.routes import (
    CONFIG_PLACEHOLDER,
    accepts_gzip,
    banner_routes,
    etag_matches,
    render_script,
    script_json,
    split_config,
)
from gateway.endpoints.assets import BROWSER_ENCODINGS, served_gzipped
from gateway.errors import ConfigError
from tests.banner.vendors import SHIPPED_VENDORS

HOSTILE = "</script><script>alert(1)</script> & \u2028\u2029 <!-- -->"


def make_config(**overrides: Any) -> dict[str, object]:
    return build_banner_config(
        public_url="https://consent.example.com",
        policy_revision=2,
        policy_url="https://www.example.com/privacy",
        categories=("necessary", "preferences", "analytics", "marketing"),
        vendors=SHIPPED_VENDORS,
        **overrides,
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=banner_routes(make_config()))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def embedded_config(script: str) -> Any:
    """The config literal as the browser would evaluate it (JSON escapes included)."""
    start = script.index('{"revision":')
    return json.JSONDecoder().raw_decode(script[start:])[0]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/consent.js", "text/javascript; charset=utf-8"),
        ("/consent.css", "text/css; charset=utf-8"),
        ("/consent-lazy.js", "text/javascript; charset=utf-8"),
        ("/consent-lazy.css", "text/css; charset=utf-8"),
    ],
)
async def test_served_plain_with_cache_headers(
    client: httpx.AsyncClient, path: str, media_type: str
) -> None:
    response = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    assert etag.startswith('"')  # strong, not W/"..."
    assert etag.endswith('"')


async def test_gzip_when_accepted_with_its_own_etag(client: httpx.AsyncClient) -> None:
    plain = await client.get("/consent.js", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/consent.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2


async def test_if_none_match_gives_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/consent.js", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["etag"]
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get(
            "/consent.js", headers={"Accept-Encoding": "gzip", "If-None-Match": value}
        )
        assert again.status_code == 304, value
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
    # The plain representation has another tag: a gzip tag does not validate it.
    other = await client.get(
        "/consent.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag}
    )
    assert other.status_code == 200


async def test_head(client: httpx.AsyncClient) -> None:
    response = await client.head("/consent.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["etag"]


async def test_script_embeds_the_config(client: httpx.AsyncClient) -> None:
    script = (await client.get("/consent.js")).text
    assert CONFIG_PLACEHOLDER not in script
    assert embedded_config(script) == split_config(make_config())[0]
    assert "Принять все" in script  # UTF-8, not \u escapes: smaller on the wire


def test_the_script_carries_the_first_layer_the_details_the_rest() -> None:
    full: Any = make_config()
    split: Any = split_config(full)
    embedded, details = split
    assert embedded["vendors"]["ga4"] == "analytics"
    assert embedded["vendors"]["recaptcha"] == "necessary"
    for language in ("en", "ru"):
        first, rest = embedded["texts"][language], details[language].texts
        assert first.keys().isdisjoint(rest)
        assert {**first, **rest} == full["texts"][language]  # nothing lost, nothing added
        assert {"title", "description", "accept_all", "error", "saved"} <= set(first)
        # An embed's placeholder is drawn by the lazy part, which waits for the details.
        assert {"preferences_title", "category_analytics", "withdraw", "embed"} <= set(rest)
    about = details["en"].vendors
    assert about["recaptcha"]["cookies"] == ["_GRECAPTCHA"]
    assert about["recaptcha"]["terms"] == "https://policies.google.com/terms"
    assert set(about["recaptcha"]["notice"]) == {"en", "ru"}
    assert about["ga4"]["description"].startswith("Visit statistics")
    assert about["ga4"]["name"] == "Google Analytics 4"


async def test_details_per_language_cached_and_compressed(client: httpx.AsyncClient) -> None:
    ru = await client.get("/consent/details?lang=ru", headers={"Accept-Encoding": "gzip"})
    assert ru.status_code == 200
    assert ru.headers["content-type"] == "application/json"
    assert ru.headers["content-encoding"] == "gzip"
    assert ru.headers["cache-control"] == "public, max-age=300"
    assert ru.json()["texts"]["preferences_title"] == "Настройки конфиденциальности"
    for query in ("?lang=xx", "?lang=", "", "?lang=%00<script>"):
        fallback = await client.get("/consent/details" + query)
        assert fallback.status_code == 200
        assert fallback.json()["texts"]["preferences_title"] == "Privacy preferences"


def test_hostile_texts_cannot_break_out() -> None:
    config = make_config(text_overrides={"en": {"title": HOSTILE}})
    script = render_script("const C=/*@config*/null;", config)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in script
    assert embedded_config(script)["texts"]["en"]["title"] == HOSTILE


def test_script_json_escapes() -> None:
    assert script_json({"a": "</script>&\u2028"}) == '{"a":"\\u003c/script\\u003e\\u0026\\u2028"}'


def test_placeholder_must_appear_exactly_once() -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        render_script("const C = null;", {})
    with pytest.raises(ConfigError, match="placeholder"):
        render_script(f"{CONFIG_PLACEHOLDER};{CONFIG_PLACEHOLDER}", {})


def test_missing_static_files_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"consent\.js: banner: file not found"):
        banner_routes(make_config(), static_dir=tmp_path)
    (tmp_path / "consent.js").write_text(f"const C = {CONFIG_PLACEHOLDER};")
    with pytest.raises(ConfigError, match=r"consent\.css: banner: file not found"):
        banner_routes(make_config(), static_dir=tmp_path)


def test_unreadable_static_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "consent.js").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        banner_routes(make_config(), static_dir=tmp_path)


async def test_etags_agree_across_instances() -> None:
    """Every instance renders the same bytes, so a tag from one validates on another."""
    tags = []
    for _ in range(2):
        app = Starlette(routes=banner_routes(make_config()))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as http:
            response = await http.get("/consent.js", headers={"Accept-Encoding": "gzip"})
            tags.append(response.headers["etag"])
    assert tags[0] == tags[1]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("*, gzip;q=0", False),
        ("gzip;q=bad", False),
        ("br", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize("header", [*BROWSER_ENCODINGS, "br, gzip", "GZIP, br", " x-gzip ", "br"])
def test_the_assets_route_reads_accept_encoding_as_the_parser_does(header: str | bytes) -> None:
    """The hot route's table and its quick split agree with the parser on every spelling."""
    raw = header if isinstance(header, bytes) else header.encode()
    assert served_gzipped(raw) is accepts_gzip(raw.decode("latin-1"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [('"a"', True), ('W/"a"', True), ('"b", "a"', True), ("*", True), ('"b"', False), ("", False)],
)
def test_etag_matches(header: str, expected: bool) -> None:
    assert etag_matches(header, '"a"') is expected
