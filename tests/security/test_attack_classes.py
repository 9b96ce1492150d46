"""One named test per attack class, against a real in-process gateway (and real stand-in servers
where a request could leave it). CSV injection is `test_exposure.py`; malformed input of every
kind on every route is `test_every_route.py` and `test_hostile_bodies.py`.

    open redirect   test_open_redirect_*        forgery         test_forgery_*
    SSRF            test_ssrf_*                 injection       test_injection_header_*, _log_*
    CSRF            test_csrf_*                 CORS            test_cors_*
    exhaustion      test_exhaustion_*           privacy leak    test_privacy_leak_in_logs_*
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import app_for, create_app
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.email.tokens import ClickToken, EmailTokens
from gateway.logs import JSONFormatter
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.admin.html_reading import form_token, log_in
from tests.conftest import REPO, SITE, serving
from tests.delivery.waiting import drained
from tests.security.conftest import ADMIN, AUTH, ORIGIN
from tests.vendors import StandInVendor, rules_pointing_at, stand_in_vendor

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
}
EVIL = "https://evil.example"
OTHER_KEY = "an-attackers-own-secret-key-0123456789abcdef"


async def _choose(http: httpx.AsyncClient, *categories: str) -> str:
    chosen = await http.post(
        "/consent", json={"granted": list(categories)}, headers={"Origin": SITE, **BROWSER}
    )
    assert chosen.status_code == 200, chosen.text
    cookie: str = chosen.cookies["cg_consent"]
    return cookie


async def _receipt_count(gateway: Gateway) -> int:
    # `record` answers once the receipt is committed: nothing to wait for.
    return sum([1 async for _ in gateway.store.receipts.iter_receipts(None, None)])


# ------------------------------------------------------------------ open redirect


async def test_open_redirect_only_signed_targets_and_own_pages_are_redirected_to(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    signed = await http.post(
        "/api/links",
        json={"campaign": "c1", "recipient": "esp-1", "url": "https://www.example.com/a?b=1"},
        headers=AUTH,
    )
    good = signed.json()["click_url"].rsplit("/", 1)[1]
    clicked = await http.get(f"/c/{good}", headers={"Host": "evil.example"})
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://www.example.com/a?b=1"  # exactly, whatever Host

    forged = EmailTokens((OTHER_KEY,)).sign_click(
        ClickToken(campaign="c1", subject="esp-1", link=1, target=EVIL, sent_at=int(time.time()))
    )
    for token in (forged, good[:-2] + "xx", good + "." + EVIL, "..%2F..%2Fevil.example"):
        answer = await http.get(f"/c/{token}")
        assert answer.status_code == 404, token
        assert "location" not in answer.headers

    # Redirects the gateway builds itself never take the Host header or a query for a target.
    for path in ("/admin", "/admin?next=https://evil.example", "/admin/login"):
        answer = await http.get(path, headers={"Host": "evil.example"})
        location = answer.headers.get("location", "")
        assert location in ("", "/admin/login", "/admin"), (path, location)


# ------------------------------------------------------------------ forgery


async def test_forgery_a_consent_cookie_signed_with_another_key_or_edited_is_no_consent(
    http: httpx.AsyncClient,
) -> None:
    mine = await _choose(http, "analytics")
    everything = Consent(
        consent_id="forged-id-0000000000",
        revision=1,
        granted=frozenset({"necessary", "analytics", "marketing", "preferences"}),
        chosen_at=int(time.time()),
    )
    forged = ConsentCodec((OTHER_KEY,), 180).encode(everything)
    # The forged payload under my genuine timestamp and signature:
    edited = forged.partition(".")[0] + "." + mine.partition(".")[2]
    for cookie in (forged, edited, mine[:-3] + "AAA", "e30.AAAA.BBBB", ""):
        http.cookies.clear()
        state = await http.get("/consent", headers={"Cookie": f"cg_consent={cookie}"})
        assert state.status_code == 200
        assert state.json()["consent"] is None, cookie
        hit = await http.get(
            "/t/meta_pixel?id=1", headers={"Cookie": f"cg_consent={cookie}", **BROWSER}
        )
        assert hit.headers["x-consent-decision"].startswith("block"), cookie


async def test_forgery_each_signed_thing_has_its_own_salt(
    gateway: Gateway, http: httpx.AsyncClient
) -> None:
    tokens = gateway.email.tokens
    preferences = tokens.sign_preferences("esp-1")
    click = tokens.sign_click(
        ClickToken(campaign="c1", subject="esp-1", link=1, target=f"{SITE}/", sent_at=0)
    )
    assert (await http.get(f"/c/{preferences}")).status_code == 404  # a prefs token is no click
    assert (await http.get(f"/p/{click}")).status_code == 404  # nor a click a prefs page
    consent_cookie = await _choose(http, "analytics")
    assert (await http.get(f"/p/{consent_cookie}")).status_code == 404


async def test_forgery_an_admin_session_signed_with_another_key_opens_nothing(
    http: httpx.AsyncClient,
) -> None:
    from gateway.admin.session import AdminSessions
    from gateway.admin_auth import token_hash

    theirs = AdminSessions((OTHER_KEY,), (token_hash(ADMIN),), minutes=60, secure=False)
    session = theirs.open(ADMIN)
    assert session is not None
    forged = theirs.cookie_value(session)
    for cookie in (forged, forged[:-4] + "AAAA", "e30.AAAA.BBBB"):
        page = await http.get("/admin", headers={"Cookie": f"cg_admin={cookie}"})
        assert page.status_code == 303, cookie
        assert page.headers["location"] == "/admin/login"
        download = await http.get("/admin/receipts.csv", headers={"Cookie": f"cg_admin={cookie}"})
        assert download.status_code == 303, cookie


# ------------------------------------------------------------------ SSRF


@pytest.fixture
def attacker() -> Iterator[StandInVendor]:
    """An internal service an attacker would like the gateway to call."""
    with stand_in_vendor() as server:
        yield server


async def test_ssrf_no_request_leaves_for_a_host_no_rule_named(
    make_settings: Callable[..., Settings], tmp_path: Path, attacker: StandInVendor
) -> None:
    with stand_in_vendor() as vendor:
        rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
        gateway = Gateway.build(make_settings(rules=rules, allow_insecure_upstreams=True))
        target = attacker.origin
        async with serving(app_for(gateway)) as http:
            cookie = await _choose(http, "analytics", "marketing")
            headers = {
                **BROWSER,
                "Cookie": f"cg_consent={cookie}",
                "Host": target.removeprefix("http://"),
                "X-Forwarded-Host": target.removeprefix("http://"),
                "Forwarded": f"host={target.removeprefix('http://')}",
            }
            for path in (
                f"/t/ga4?v=2&tid=G-1&cid=1.2&en=page_view&dl={target}&upstream={target}&url={target}",
                f"/t/plausible?u={target}/x&d={target}",
                f"/t/ga4/{target}/g/collect",
                "/t/ga4/..%2F..%2F..%2Fadmin",
                f"/t/matomo?idsite=1&rec=1&url={target}&_upstream={target}",
            ):
                answer = await http.get(path, headers=headers)
                assert answer.status_code < 500, path
            posted = await http.post(
                "/t/plausible",
                json={"n": "pageview", "u": f"{target}/", "d": "x", "upstream": target},
                headers=headers,
            )
            assert posted.status_code < 500
            await drained(gateway)
        assert attacker.received == []
        assert vendor.received, "the test must reach forwarding, or it proves nothing"


# ------------------------------------------------------------------ injection (header, log)


async def test_injection_header_crlf_in_a_redirect_query_stays_encoded(
    http: httpx.AsyncClient,
) -> None:
    cookie = await _choose(http, "marketing")
    answer = await http.get(
        # The shipped rule's placeholder pixel id: the only one it lets through until set.
        "/t/meta_pixel?id=000000000000000&ev=PageView%0D%0ASet-Cookie:%20pwned=1&dl=%0d%0aX-Evil:%201",
        headers={**BROWSER, "Cookie": f"cg_consent={cookie}"},
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert "\r" not in location
    assert "\n" not in location
    assert "%0D%0A" in location.upper()
    assert "pwned" not in answer.headers.get("set-cookie", "")
    assert "x-evil" not in answer.headers


async def test_injection_header_a_subject_cannot_reach_the_download_filename(
    http: httpx.AsyncClient,
) -> None:
    for subject in ('a"%0D%0AX-Evil:%201', "a%22;filename=evil.html", "..%2F..%2Fetc"):
        answer = await http.get(f"/api/subjects/{subject}", headers=AUTH)
        assert answer.status_code in (404, 422), subject
        assert "x-evil" not in answer.headers
        assert "content-disposition" not in answer.headers


async def test_injection_log_lines_stay_one_json_line_whatever_the_client_sends(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = '\n{"level": "error", "message": "forged"}\r\n'
    with caplog.at_level(logging.DEBUG):
        await http.get(
            "/t/%0A%7B%22level%22%3A%22error%22%7D", headers={"User-Agent": hostile.strip()}
        )
        await http.post("/consent", json={"action": "accept_all", "page": f"/{hostile}"})
        await http.post("/admin/login", data={"token": hostile}, headers={"Origin": ORIGIN})
        await http.get("/api/receipts", headers={"Authorization": "Bearer " + hostile.strip()})
    formatter = JSONFormatter()
    assert caplog.records
    for record in caplog.records:
        line = formatter.format(record)
        assert "\n" not in line
        assert json.loads(line)["message"] != "forged"
        assert "forged" not in record.getMessage()


# ------------------------------------------------------------------ CSRF


async def test_csrf_a_forged_dashboard_post_erases_nothing(
    gateway: Gateway, http: httpx.AsyncClient
) -> None:
    await _choose(http, "analytics")
    subject = (await http.get("/consent")).json()["consent"]["id"]
    http.cookies.delete("cg_consent")
    await log_in(http, ADMIN)
    page = await http.get("/admin")
    token = form_token(page.text)
    before = await _receipt_count(gateway)
    forged = [
        ({"subject": subject, "confirmed": "yes"}, {}),  # no CSRF token
        ({"subject": subject, "confirmed": "yes", "csrf_token": "x" + token[1:]}, {}),
        ({"subject": subject, "confirmed": "yes", "csrf_token": token}, {"Origin": EVIL}),
        (
            {"subject": subject, "confirmed": "yes", "csrf_token": token},
            {"Sec-Fetch-Site": "cross-site"},
        ),
    ]
    for form, headers in forged:
        answer = await http.post("/admin/subject/erase", data=form, headers=headers)
        assert answer.status_code == 403, (form, headers)
    assert await _receipt_count(gateway) == before >= 1


async def test_csrf_a_choice_posted_from_another_site_is_not_recorded(
    gateway: Gateway, http: httpx.AsyncClient
) -> None:
    before = await _receipt_count(gateway)
    for method in ("POST", "DELETE"):
        answer = await http.request(
            method, "/consent", json={"action": "accept_all"}, headers={"Origin": EVIL}
        )
        assert answer.status_code == 403
        assert "set-cookie" not in answer.headers
    assert await _receipt_count(gateway) == before


# ------------------------------------------------------------------ CORS


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "null",
        f"{SITE}.evil.example",
        SITE.replace("https", "http"),
        f"{SITE}:8443",
        SITE + "/",
    ],
)
async def test_cors_only_the_exact_allowed_origins_get_credentialed_access(
    http: httpx.AsyncClient, origin: str
) -> None:
    simple = await http.get("/consent", headers={"Origin": origin})
    assert simple.status_code == 403
    assert "access-control-allow-origin" not in simple.headers
    preflight = await http.options(
        "/consent",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    allowed = await http.get("/consent", headers={"Origin": SITE})
    assert allowed.headers["access-control-allow-origin"] == SITE
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in allowed.headers["vary"]


async def test_cors_the_admin_api_grants_no_cross_origin_reads(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/receipts", headers={**AUTH, "Origin": SITE})
    assert "access-control-allow-origin" not in answer.headers


# ------------------------------------------------------------------ exhaustion


async def _counted_body(sent: list[int], chunks: int) -> AsyncIterator[bytes]:
    for _ in range(chunks):
        sent.append(1)
        yield b"x" * 1024


@pytest.mark.parametrize("declared", [True, False])
async def test_exhaustion_a_huge_body_is_refused_without_being_read(
    http: httpx.AsyncClient, declared: bool
) -> None:
    for path, extra in (("/consent", {}), ("/api/links", AUTH), ("/t/plausible", BROWSER)):
        sent: list[int] = []
        headers = {"Content-Type": "application/json", **extra}
        if declared:
            headers["Content-Length"] = str(10 * 1024 * 1024)
        answer = await http.post(path, content=_counted_body(sent, 10 * 1024), headers=headers)
        assert answer.status_code == 413, (path, answer.text)
        assert len(sent) <= 300, (path, len(sent))  # the 256 KB cap at most, never 10 MB


async def test_exhaustion_nesting_and_login_guessing_are_bounded(http: httpx.AsyncClient) -> None:
    deep = await http.post(
        "/consent", content=b"[" * 2000 + b"]" * 2000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 400
    statuses = []
    for attempt in range(15):
        answer = await http.get(
            "/api/receipts", headers={"Authorization": f"Bearer guess-{attempt}"}
        )
        statuses.append(answer.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    assert int((await http.get("/api/receipts", headers=AUTH)).headers["retry-after"]) >= 1


# ------------------------------------------------------------------ privacy leak in logs


async def test_privacy_leak_in_logs_no_address_ip_token_or_id_is_ever_logged(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    import hashlib
    import ipaddress

    settings = make_settings(
        admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),),
        public_url=ORIGIN,
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
    )
    app = create_app(settings)
    address, ip, agent = "Ada.Lovelace@example.com", "198.51.100.23", BROWSER["User-Agent"]
    secrets_seen: list[str] = [address, address.lower(), ip, agent, ADMIN, "wrong-token-123456"]
    with caplog.at_level(logging.DEBUG):
        async with serving(app, client_ip="10.0.0.2") as http:
            headers = {"X-Forwarded-For": ip, **BROWSER}
            chosen = await http.post("/consent", json={"action": "accept_all"}, headers=headers)
            consent_id = chosen.json()["consent"]["id"]
            signed = await http.post(
                "/api/links",
                json={"campaign": "c1", "recipient": address, "url": f"{SITE}/a"},
                headers=AUTH,
            )
            links = signed.json()
            click, opened = (
                links["click_url"].rsplit("/", 1)[1],
                links["open_url"].rsplit("/", 1)[1],
            )
            await http.get(f"/c/{click}", headers=headers)
            await http.get(f"/o/{opened}", headers=headers)
            await http.get("/api/receipts", headers={"Authorization": "Bearer wrong-token-123456"})
            await http.get(f"/api/subjects/{links['subject']}", headers=AUTH)
            await http.delete(f"/api/subjects/{consent_id}", headers=AUTH)
            await log_in(http, ADMIN)
            await http.get("/t/nope", headers=headers)
    secrets_seen += [consent_id, click, opened, links["subject"]]
    formatter = JSONFormatter()
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(formatter.format(record) for record in ours)
    assert ours, "the flow must log something, or this proves nothing"
    for secret in secrets_seen:
        assert secret not in logged, secret
    assert re.search(r"198\.51\.100\.\d+", logged) is None
