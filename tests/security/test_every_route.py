"""Property-based: hostile JSON, forms, raw bytes, queries, headers and cookies sent to every
route of a real (in-process) gateway. No answer may be a 5xx, no log line may be an error or
carry a traceback, and a GET (pixels aside, which count by design) changes nothing stored.

The routes are read from the app itself, so a route added tomorrow is fuzzed tomorrow; the
demo routes are in (the app is built with `demo=True`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.app import create_app
from gateway.settings import from_keys
from tests.conftest import REPO, SECRET, SITE
from tests.security.conftest import ADMIN, ADMIN_HASH, ORIGIN
from tests.vendors import stand_in_vendor, vendors_in

EXAMPLES_PER_OPERATION = 12  # x ~45 operations: ~10 s on an idle machine
EXAMPLES_OF_GETS = 60
PIXELS = ("/t/", "/o/", "/c/")  # GETs that record a hit, an open or a click by design
# What a GET must never change. Not `counts`: aggregate figures (no person in them) that a
# background task writes in batches, so an earlier test's counts may land during any request.
PEOPLE_TABLES = (
    "receipts",
    "recipient_consents",
    "email_events",
    "suppressions",
    "objections",
)
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.0 Safari/605.1.15"
)
WEIRD = [
    "",
    ".",
    "..",
    "../../etc/passwd",
    "%2e%2e%2f",
    "\x00",
    "http://[x/",
    "//evil.example/",
    "javascript:alert(1)",
    "=HYPERLINK(1)",
    "\u202e\u0000",
    "a" * 300,
    "1e400",
    "NaN",
    "-1",
    "9" * 40,
    "<script>alert(1)</script>",
]
KEYS = ["action", "granted", "categories", "source", "page", "language", "campaign",
        "recipient", "url", "urls", "sent_at", "vendors", "app", "token", "csrf_token",
        "subject", "confirmed", "form_token", "lang", "since", "until", "format", "erase",
        "days", "done", "v", "n", "u", "en", "tid", "cid"]  # fmt: skip


@dataclass
class Fuzzed:
    app: Starlette
    runner: asyncio.Runner
    database: Path
    tokens: dict[str, list[str]] = field(default_factory=dict)
    cookies: dict[str, list[str]] = field(default_factory=dict)
    form_values: dict[str, list[str]] = field(default_factory=dict)
    records: list[logging.LogRecord] = field(default_factory=list)

    def operations(self) -> list[tuple[str, str]]:
        found = []
        for route in self.app.routes:
            assert isinstance(route, Route), f"not fuzzed: {route!r} — teach this test its kind"
            for method in sorted(route.methods or ()):
                found.append((route.path, method))
        return found


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    folder = tmp_path_factory.mktemp("fuzz")
    database = folder / "gateway.sqlite3"
    # Loader scripts are fetched while the request waits: from a stand-in, not from Google.
    standing_in = stand_in_vendor()
    vendor = standing_in.__enter__()
    script = (b"/* loader */", {"Content-Type": "application/javascript"})
    vendor.scripts |= {"/gtag/js": script, "/gtm.js": script}
    rules = REPO / "tag_rules"
    for rule in rules.glob("*.toml"):
        text = rule.read_text().replace("https://www.googletagmanager.com", vendor.origin)
        (folder / rule.name).write_text(text)
    app = create_app(
        from_keys(
            secret_keys=(SECRET,),
            store=f"sqlite:///{database}",
            rules=folder,
            vendors=vendors_in(rules),
            allow_insecure_upstreams=True,
            data_dir=folder / "var",
            allowed_origins=(SITE,),
            policy_url=f"{SITE}/privacy",
            admin_token_hashes=(ADMIN_HASH,),
            public_url=ORIGIN,
            spool_replay_seconds=0.1,
            demo=True,
        )
    )
    runner = asyncio.Runner()
    lifespan = app.router.lifespan_context(app)
    runner.run(lifespan.__aenter__())
    state = Fuzzed(app=app, runner=runner, database=database)
    try:
        runner.run(_real_tokens_and_cookies(state))
        handler = _Collect(state.records)
        root = logging.getLogger()
        root.addHandler(handler)
        previous = root.level
        root.setLevel(logging.DEBUG)
        try:
            yield state
        finally:
            root.removeHandler(handler)
            root.setLevel(previous)
    finally:
        runner.run(lifespan.__aexit__(None, None, None))
        standing_in.__exit__(None, None, None)
        runner.close()


async def _real_tokens_and_cookies(state: Fuzzed) -> None:
    """Valid tokens and cookies, so the fuzzing also gets past the first check."""
    async with _client(state.app, "203.0.113.5") as http:
        signed = await http.post(
            "/api/links",
            json={"campaign": "c1", "recipient": "esp-1", "urls": ["https://www.example.com/a"]},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert signed.status_code == 200, signed.text
        links = signed.json()
        chosen = await http.post("/consent", json={"action": "accept_all"})
        form = await http.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf is not None
        login = await http.post("/admin/login", data={"csrf_token": csrf.group(1), "token": ADMIN})
        assert login.status_code == 303
        preferences = (await http.get(urlsplit(links["preferences_url"]).path)).text

    def last(url: str) -> str:
        return url.rsplit("/", 1)[1]

    state.tokens = {
        "token": [
            last(links["click_urls"][0]),
            last(links["open_url"]),
            last(links["preferences_url"]),
        ],
        "vendor": ["ga4", "plausible", "matomo", "meta_pixel", "linkedin_insight", "nope"],
        "subject": ["esp-1", links["subject"]],
        "sub_path": ["g/collect", "api/event", "matomo.php", "x/../../y"],
    }
    dashboard = await _dashboard_page(state, login.cookies["cg_admin"])
    state.form_values = {
        "csrf_token": [_hidden(dashboard, "csrf_token")],
        "form_token": [_hidden(preferences, "form_token")],
        "subject": ["esp-1", links["subject"], chosen.json()["consent"]["id"]],
        "action": ["grant", "withdraw", "erase"],
        "confirmed": ["yes", "no"],
    }
    state.cookies = {
        "cg_consent": [chosen.cookies["cg_consent"]],
        "cg_admin": [login.cookies["cg_admin"]],
    }


async def _dashboard_page(state: Fuzzed, session: str) -> str:
    async with _client(state.app, "203.0.113.5") as http:
        page = await http.get("/admin", headers={"cookie": f"cg_admin={session}"})
        assert page.status_code == 200, page.text
        return page.text


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found is not None, name
    return found.group(1)


def _client(app: Starlette, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url=ORIGIN)


# ------------------------------------------------------------------ strategies

HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
)
ANY_TEXT = st.text(max_size=40) | st.sampled_from(WEIRD)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes them, the gateway must refuse
    | ANY_TEXT
    | st.sampled_from(["accept_all", "reject_all", "analytics", "marketing", "necessary"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
    ]
)


def _path_value(state: Fuzzed, name: str) -> st.SearchStrategy[str]:
    known = state.tokens.get(name, [])
    mutated = st.sampled_from(known).map(lambda t: t[:-1] + "A") if known else st.nothing()
    return st.sampled_from(known) if known else ANY_TEXT | mutated


@st.composite
def requests(draw: st.DrawFn, state: Fuzzed, path: str, method: str) -> dict[str, Any]:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        known = state.tokens.get(name, [])
        value = draw(st.sampled_from(known) | ANY_TEXT if known else ANY_TEXT)
        return quote(value, safe="/" if match.group(1).endswith(":path") else "")

    url = re.sub(r"\{([^}]+)\}", fill, path)
    query = draw(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), ANY_TEXT, max_size=4))
    headers = dict(
        draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "origin",
                        "x-forwarded-for",
                        "sec-gpc",
                        "accept-language",
                        "user-agent",
                        "x-request-id",
                        "sec-fetch-site",
                        "if-none-match",
                        "accept-encoding",
                        "authorization",
                        "range",
                        "cf-ipcountry",
                        "host",
                        "x-forwarded-host",
                    ]
                ),
                HEADER_TEXT
                | st.sampled_from(
                    [
                        SITE,
                        ORIGIN,
                        "null",
                        "1",
                        "0",
                        "ru",
                        BROWSER,
                        f"Bearer {ADMIN}",
                        "Bearer x",
                        "Consent x",
                        "10.0.0.1, 8.8.8.8",
                    ]
                ),
                max_size=5,
            )
        ).items()
    )
    cookies = {
        name: draw(st.sampled_from(values) | HEADER_TEXT.filter(lambda v: ";" not in v))
        for name, values in state.cookies.items()
        if draw(st.booleans())
    }
    if cookies:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    content = b""
    if method in ("POST", "PUT", "DELETE", "PATCH"):
        kind = draw(st.sampled_from(["json", "form", "bytes", "none"]))
        if kind == "json":
            content = json.dumps(draw(JSON_VALUES)).encode()
        elif kind == "form":
            fields = draw(st.dictionaries(st.sampled_from(KEYS), ANY_TEXT, max_size=5))
            for name in ("csrf_token", "form_token", "subject", "action", "confirmed"):
                valid = state.form_values.get(name, [])
                use_valid: bool = draw(st.booleans())  # valid values reach past the checks
                if valid and use_valid:
                    fields[name] = draw(st.sampled_from(valid))
            content = urlencode(fields).encode()
        elif kind == "bytes":
            content = draw(st.binary(max_size=300))
        headers["content-type"] = draw(CONTENT_TYPES)
    ip = draw(st.sampled_from(["203.0.113.7", "10.0.0.9", "::1", "2001:db8::5", "8.8.4.4"]))
    return {"method": method, "url": url, "params": query, "headers": headers, "content": content,
            "ip": ip}  # fmt: skip


def _send(state: Fuzzed, request: dict[str, Any]) -> httpx.Response:
    async def go() -> httpx.Response:
        async with _client(state.app, request["ip"]) as http:
            return await http.request(
                request["method"],
                request["url"],
                params=request["params"],
                # bytes: latin-1 values reach the app as a browser could send them
                headers=[(k.encode(), v.encode("latin-1")) for k, v in request["headers"].items()],
                content=request["content"],
            )

    state.records.clear()
    return state.runner.run(go())


def _check_logs(state: Fuzzed, request: dict[str, Any]) -> None:
    for record in state.records:
        message = record.getMessage()
        assert record.levelno < logging.ERROR, (message, request)
        assert record.exc_info is None, (message, request)
        assert "unhandled" not in message, (message, request)
        assert "Traceback" not in message, (message, request)


def _fingerprint(database: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        for table in PEOPLE_TABLES:
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


# ------------------------------------------------------------------ the properties


def test_every_route_is_fuzzed(fuzzed: Fuzzed) -> None:
    """The list comes from the app: a new route is in it without anyone editing this file."""
    operations = fuzzed.operations()
    assert ("/consent", "POST") in operations
    assert ("/demo", "GET") in operations
    assert len(operations) >= 40


def test_no_input_to_any_route_gets_a_5xx_or_an_error_log(fuzzed: Fuzzed) -> None:
    for path, method in fuzzed.operations():

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=requests(fuzzed, path, method))
        def one_operation(request: dict[str, Any]) -> None:
            response = _send(fuzzed, request)
            assert response.status_code < 500, (request, response.status_code, response.text)
            _check_logs(fuzzed, request)
            json_error = response.headers.get("content-type", "").startswith("application/json")
            if json_error and response.status_code >= 400 and request["method"] != "HEAD":
                body = response.json()
                assert set(body) >= {"error", "detail"}, body

        one_operation()


def test_a_get_changes_nothing_stored(fuzzed: Fuzzed) -> None:
    reads = [
        (path, method)
        for path, method in fuzzed.operations()
        if method in ("GET", "HEAD") and not path.startswith(PIXELS)
    ]
    assert len(reads) >= 20

    @settings(
        max_examples=EXAMPLES_OF_GETS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def one_read(data: st.DataObject) -> None:
        path, method = data.draw(st.sampled_from(reads))
        request = data.draw(requests(fuzzed, path, method))
        before = _fingerprint(fuzzed.database)
        response = _send(fuzzed, request)
        assert response.status_code < 500, (request, response.status_code)
        assert _fingerprint(fuzzed.database) == before, request

    one_read()
