"""Open-redirect tricks against `/c`: none ever yields a redirect outside the signed target.

Two lines of defence, both tested: a trick target is refused (or normalised) when signed, and
no token but one we signed, for this purpose, with a current key, redirects at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from gateway.app import create_app
from gateway.consent.cookie import ConsentCodec
from gateway.consent.model import Consent
from gateway.email.links import EmailSigner
from gateway.errors import Unprocessable
from gateway.settings import Settings
from gateway.signing import SALT_ADMIN, SALT_CLICK, SALT_OPEN, SALT_PREFS, make_serializer
from tests.conftest import SECRET, serving

ADMIN = "admin-token-for-tests"
OTHER_KEY = "another-gateway-secret-key-0123456789abcdef"
SIGNED = "https://www.example.com/landing"


@pytest.fixture
async def http(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(admin_token_hashes=(hashlib.sha256(ADMIN.encode()).hexdigest(),))
    async with serving(create_app(settings)) as client:
        yield client


def signer(key: str = SECRET) -> EmailSigner:
    return EmailSigner((key,), "http://127.0.0.1:8000")


def click_token(target: str = SIGNED, key: str = SECRET) -> str:
    url = signer(key).message(campaign="c1", recipient="esp-1", sent_at=time.time() - 3600)
    return url.click_url(target, 1).rsplit("/", 1)[1]


def raw_token(payload: object, salt: str = SALT_CLICK, key: str = SECRET) -> str:
    """Signed by hand: what a leaked key, an old version or a different tool could produce."""
    serializer = URLSafeSerializer(key, salt=salt, signer_kwargs={"digest_method": hashlib.sha256})
    token = serializer.dumps(payload)
    return token if isinstance(token, str) else token.decode()


def assert_never_elsewhere(response: httpx.Response, signed: str | None) -> None:
    """A 404 without Location, or a redirect to exactly the signed target (or to this gateway)."""
    location = response.headers.get("location")
    if response.status_code == 404:
        assert location is None
        return
    assert response.is_redirect, response.status_code
    assert location is not None
    if location == signed:
        return
    assert urlsplit(location).netloc == "gateway.test", location  # a slash fixed on this host


TRICK_TARGETS = [
    "//evil.test/",
    "///evil.test/",
    "/\\evil.test/",
    "\\\\evil.test",
    "https:\\\\evil.test",
    "https:/\\evil.test",
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "https://www.example.com/\r\nLocation: https://evil.test",
    "https://www.example.com/%0d%0a\r\n",
    "https://www.example.com@evil.test/",
    "https://www.example.com:443@evil.test/",
    "https://user:password@www.example.com/",
    "https://evil.test\\@www.example.com/",
    "https://www.example.com%2F@evil.test",
    "https://evil.test%2F%2Fwww.example.com",
    "https://evil.test%23.www.example.com",
    "https://www.example.com%00.evil.test/",
    "https://[www.example.com]/",
    "http://",
    "https://www.example.com/" + "x" * 3000,
]


@pytest.mark.parametrize("target", TRICK_TARGETS)
async def test_trick_targets_are_refused_when_signed(http: httpx.AsyncClient, target: str) -> None:
    with pytest.raises(Unprocessable):
        click_token(target)
    response = await http.post(
        "/api/links",
        json={"campaign": "c1", "recipient": "esp-1", "url": target},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("target", "location", "host"),
    [
        (
            "https://www.example.com/?next=//evil.test",
            "https://www.example.com/?next=//evil.test",
            "www.example.com",
        ),
        (
            "https://www.example.com/#@evil.test",
            "https://www.example.com/#@evil.test",
            "www.example.com",
        ),
        (
            "https://www.example.com.evil.test/",
            "https://www.example.com.evil.test/",
            "www.example.com.evil.test",
        ),
        ("https://www.exаmple.com/", "https://www.xn--exmple-4nf.com/", "www.xn--exmple-4nf.com"),
        ("https://ⓔⓧⓐⓜⓟⓛⓔ.com/", "https://example.com/", "example.com"),
        (
            "https://www.example.com/%2e%2e/%2F%2Fevil.test",
            "https://www.example.com/%2e%2e/%2F%2Fevil.test",
            "www.example.com",
        ),
        (
            "https://www.example.com/<script>",
            "https://www.example.com/%3Cscript%3E",
            "www.example.com",
        ),
    ],
)
async def test_odd_but_valid_targets_redirect_exactly_to_their_visible_host(
    http: httpx.AsyncClient, target: str, location: str, host: str
) -> None:
    response = await http.get(f"/c/{click_token(target)}")
    assert response.status_code == 302
    assert response.headers["location"] == location
    assert urlsplit(response.headers["location"]).hostname == host


def _tampered_payload() -> str:
    payload, signature = click_token().split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields[3] = "https://evil.test/"
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


def _consent_cookie() -> str:
    consent = Consent("c" * 22, 1, frozenset({"analytics"}), int(time.time()))
    return ConsentCodec((SECRET,), 180).encode(consent)


TOKEN_TRICKS: dict[str, Callable[[], str]] = {
    "truncated by one": lambda: click_token()[:-1],
    "truncated to the payload": lambda: click_token().split(".")[0],
    "truncated to half": lambda: click_token()[: len(click_token()) // 2],
    "payload tampered, old signature": _tampered_payload,
    "signature swapped": lambda: click_token().split(".")[0] + "." + click_token("https://evil.test/").split(".")[1],
    "signed with another gateway's key": lambda: click_token("https://evil.test/", key=OTHER_KEY),
    "an open token": lambda: raw_token(["c1", "esp-1", 1], SALT_OPEN),
    "a preferences token": lambda: raw_token(["esp-1"], SALT_PREFS),
    "a click payload under the open salt": lambda: raw_token(["c1", "esp-1", 1, "https://evil.test/", 1], SALT_OPEN),
    "a click payload under the admin salt": lambda: raw_token(["c1", "esp-1", 1, "https://evil.test/", 1], SALT_ADMIN),
    "a consent cookie": _consent_cookie,
    "a timed token of the click salt": lambda: make_serializer((SECRET,), SALT_CLICK).dumps(["c1", "esp-1", 1, "https://evil.test/", 1]),
    "well signed, javascript: target": lambda: raw_token(["c1", "esp-1", 1, "javascript:alert(1)", 1]),
    "well signed, scheme-relative target": lambda: raw_token(["c1", "esp-1", 1, "//evil.test/", 1]),
    "well signed, CR/LF in target": lambda: raw_token(["c1", "esp-1", 1, "https://a.test/\r\nLocation: https://evil.test", 1]),
    "well signed, backslash target": lambda: raw_token(["c1", "esp-1", 1, "https:\\\\evil.test", 1]),
    "well signed, wrong shape": lambda: raw_token({"target": "https://evil.test/"}),
    "empty-looking": lambda: ".",
    "zlib marker without data": lambda: "." + click_token().split(".", 1)[1],
}  # fmt: skip


@pytest.mark.parametrize("trick", TOKEN_TRICKS)
async def test_no_token_but_ours_redirects(http: httpx.AsyncClient, trick: str) -> None:
    token = TOKEN_TRICKS[trick]()
    for method in ("GET", "HEAD"):
        response = await http.request(method, f"/c/{token}")
        assert response.status_code == 404, trick
        assert "location" not in response.headers


async def test_junk_after_a_good_signature_never_changes_the_destination(
    http: httpx.AsyncClient,
) -> None:
    token = click_token()
    for junk in ("!", "~~", "%0d%0a", "%20", "=="):
        response = await http.get(f"/c/{token}{junk}")
        assert_never_elsewhere(response, SIGNED)


@pytest.mark.parametrize(
    "path",
    [
        "/c//evil.test",
        "/c//evil.test/",
        "/c/%2F%2Fevil.test",
        "/c/%5C%5Cevil.test",
        "/c/..%2F..%2Fevil.test",
        "/c/x%0d%0aLocation:%20https://evil.test",
        "/c/https:%2F%2Fevil.test",
        "/c/",
        "/c",
        "//evil.test/c/x",
    ],
)
async def test_path_tricks_never_redirect_off_the_gateway(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.get(path)
    assert_never_elsewhere(response, None)


async def test_a_trailing_slash_still_lands_on_the_signed_target(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/c/{click_token()}/", follow_redirects=True)
    assert response.history, "expected at least one redirect"
    for hop in response.history:
        assert_never_elsewhere(hop, SIGNED)
    assert str(response.url) == SIGNED or response.history[-1].headers["location"] == SIGNED
