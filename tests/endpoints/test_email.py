"""`/o`, `/c` and `/p` over HTTP, on a real app with its store, writer and recorder running."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import app_for
from gateway.email.links import MessageLinks
from gateway.email.page_texts import page_texts_shown
from gateway.endpoints.pixels import GIF
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.clocks import SteadyClock
from tests.conftest import serving

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
SAFE_LINKS = "Mozilla/5.0 (compatible; Microsoft Office 365 ATP Safe Links)"
OWN_ORIGIN = "http://127.0.0.1:8000"  # the default public URL's origin


@dataclass
class Running:
    gateway: Gateway
    http: httpx.AsyncClient
    clock: SteadyClock

    def message(self, recipient: str = "esp-1", sent_ago: float = 3600) -> MessageLinks:
        return self.gateway.email.signer.message(
            campaign="spring-26", recipient=recipient, sent_at=self.clock() - sent_ago
        )

    async def settle(self) -> None:
        await self.gateway.email.recorder.flush(settle=False)
        await self.gateway.counter.flush()

    async def counts(self, metric: str) -> dict[str, int]:
        today = self.clock.day()
        found = await self.gateway.store.counts.counts(metric, today, today)
        return {key.label: value for key, value in found.items()}


@pytest.fixture
async def running(make_settings: Callable[..., Settings]) -> AsyncIterator[Running]:
    clock = SteadyClock()
    gateway = Gateway.build(make_settings(), clock)
    async with serving(app_for(gateway)) as http:
        yield Running(gateway, http, clock)


def path(url: str) -> str:
    return urlsplit(url).path


# ---------------------------------------------------------------- /o


async def test_an_open_is_always_the_gif_and_is_counted(running: Running) -> None:
    links = running.message()
    response = await running.http.get(path(links.open_url), headers={"User-Agent": GMAIL_PROXY})
    assert response.status_code == 200
    assert response.content == GIF
    assert len(GIF) == 43
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    await running.settle()
    assert await running.counts("email_open") == {"spring-26|proxied": 1}


@pytest.mark.parametrize("token", ["nonsense", "a.b", "x" * 5000, "%2e%2e"])
async def test_a_bad_open_token_still_gets_the_gif_and_is_counted(
    running: Running, token: str
) -> None:
    response = await running.http.get(f"/o/{token}")
    assert response.status_code == 200
    assert response.content == GIF
    assert response.headers["cache-control"] == "no-store"
    await running.settle()
    assert await running.counts("email_invalid") == {"open": 1}
    assert await running.counts("email_open") == {}


async def test_a_head_on_the_pixel_is_not_an_open(running: Running) -> None:
    response = await running.http.head(path(running.message().open_url))
    assert response.status_code == 200
    await running.settle()
    assert await running.counts("email_open") == {}


# ---------------------------------------------------------------- /c


async def test_a_click_redirects_to_exactly_the_signed_target(running: Running) -> None:
    target = "https://www.example.com/offer?utm_source=email&x=%2F#top"
    click_url = running.message().click_url(target, 2)
    response = await running.http.get(path(click_url), headers={"User-Agent": FIREFOX})
    assert response.status_code == 302
    assert response.headers["location"] == target
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    await running.settle()
    assert await running.counts("email_click") == {"spring-26|2|human": 1}


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("HEAD", {"User-Agent": FIREFOX}),
        ("GET", {"User-Agent": FIREFOX, "Sec-Purpose": "prefetch"}),
        ("GET", {"User-Agent": FIREFOX, "Purpose": "prefetch"}),
    ],
)
async def test_head_and_prefetch_redirect_but_are_not_clicks(
    running: Running, method: str, headers: dict[str, str]
) -> None:
    click_url = running.message().click_url("https://www.example.com/", 1)
    response = await running.http.request(method, path(click_url), headers=headers)
    assert response.status_code == 302
    assert response.headers["location"] == "https://www.example.com/"
    await running.settle()
    assert await running.counts("email_click") == {}


async def test_scanners_and_quick_clicks_are_machines(running: Running) -> None:
    target = "https://www.example.com/"
    scanned = running.message("esp-1").click_url(target, 1)
    quick = running.message("esp-2", sent_ago=1).click_url(target, 1)
    await running.http.get(path(scanned), headers={"User-Agent": SAFE_LINKS})
    await running.http.get(path(quick), headers={"User-Agent": FIREFOX})
    await running.settle()
    assert await running.counts("email_click") == {"spring-26|1|machine": 2}


OUTLOOK_PROBE = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"


async def test_outlooks_link_prefetcher_is_a_machine_and_every_verdict_is_a_metric(
    running: Running,
) -> None:
    target = "https://www.example.com/"
    probed = running.message("esp-1").click_url(target, 1)
    clicked = running.message("esp-2").click_url(target, 1)
    await running.http.get(path(probed), headers={"User-Agent": OUTLOOK_PROBE})
    await running.http.get(path(clicked), headers={"User-Agent": FIREFOX})
    await running.http.get(path(running.message().open_url), headers={"User-Agent": GMAIL_PROXY})
    await running.settle()
    assert await running.counts("email_click") == {
        "spring-26|1|machine": 1,
        "spring-26|1|human": 1,
    }
    registry = running.gateway.metrics.registry
    for kind, verdict in (("click", "machine"), ("click", "human"), ("open", "proxied")):
        labels = {"kind": kind, "verdict": verdict}
        assert registry.get_sample_value("cg_email_verdicts_total", labels) == 1.0


async def test_a_bad_click_token_is_a_404_page_never_a_redirect(running: Running) -> None:
    response = await running.http.get("/c/not-a-token", headers={"Accept-Language": "ru, en;q=0.5"})
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Эта ссылка не работает" in response.text
    assert_strict_page(response)
    await running.settle()
    assert await running.counts("email_invalid") == {"click": 1}


# ---------------------------------------------------------------- /p


def assert_strict_page(response: httpx.Response) -> None:
    """Strict CSP whose only allowance is the page's own inline stylesheet; nothing external."""
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none';")
    assert "form-action 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    (style,) = re.findall(r"<style>(.*?)</style>", response.text, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "<script" not in response.text
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", response.text)
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


def form_token(page: httpx.Response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


async def post(
    running: Running, page_path: str, action: str, token: str, **headers: str
) -> httpx.Response:
    return await running.http.post(
        page_path,
        data={"action": action, "form_token": token, "lang": "en"},
        headers={"Origin": OWN_ORIGIN, "User-Agent": FIREFOX, **headers},
    )


async def test_the_preferences_page_shows_and_changes_the_choice(running: Running) -> None:
    page_path = path(running.message().preferences_url)
    page = await running.http.get(page_path)
    assert page.status_code == 200
    assert_strict_page(page)
    assert "Tracking of our emails to you is OFF: you have not agreed to it." in page.text
    for _ in range(2):  # GET never changes anything
        assert "not agreed" in (await running.http.get(page_path)).text
    assert await running.gateway.email.consents.state_of("esp-1") is None

    granted = await post(running, page_path, "grant", form_token(page))
    assert granted.status_code == 303
    assert granted.headers["location"] == f"{page_path}?lang=en&done=granted"
    after = await running.http.get(granted.headers["location"])
    assert "Saved: tracking is on." in after.text
    assert "Tracking of our emails to you is ON." in after.text
    assert 'value="withdraw"' in after.text

    withdrawn = await post(running, page_path, "withdraw", form_token(after))
    assert withdrawn.status_code == 303
    state = await running.gateway.email.consents.state_of("esp-1")
    assert state is not None
    assert state.state == "withdrawn"
    receipts = await running.gateway.store.receipts.subject_receipts("esp-1")
    assert [(r.action, r.granted, r.denied) for r in receipts] == [
        ("preferences_page", ("email_tracking",), ()),
        ("withdraw", (), ("email_tracking",)),
    ]
    first = receipts[0]
    assert first.subject_kind == "recipient"
    assert first.collection_point == f"{OWN_ORIGIN}/p"  # never the token
    assert (first.language, first.texts_hash) == page_texts_shown("en")
    assert (first.ip, first.browser) == ("203.0.113.0", "Firefox")


async def test_the_page_speaks_russian(running: Running) -> None:
    page_path = path(running.message().preferences_url)
    page = await running.http.get(page_path, headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.text
    assert "Настройки отслеживания писем" in page.text
    english = await running.http.get(page_path + "?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in english.text


@pytest.mark.parametrize(
    ("headers", "token_for"),
    [
        ({"Origin": "https://evil.test"}, "esp-1"),
        ({"Origin": "null"}, "esp-1"),
        ({"Sec-Fetch-Site": "cross-site"}, "esp-1"),
        ({}, "esp-2"),  # a form token of another recipient
        ({}, ""),  # none at all
    ],
)
async def test_a_forged_or_stale_form_changes_nothing(
    running: Running, headers: dict[str, str], token_for: str
) -> None:
    page_path = path(running.message().preferences_url)
    token = running.gateway.email.tokens.sign_form(token_for) if token_for else ""
    response = await post(running, page_path, "grant", token, **headers)
    assert response.status_code == 403
    assert "This form had expired" in response.text
    assert await running.gateway.email.consents.state_of("esp-1") is None
    assert await running.gateway.store.receipts.subject_receipts("esp-1") == []


async def test_bad_form_posts_are_4xx(running: Running) -> None:
    page_path = path(running.message().preferences_url)
    token = running.gateway.email.tokens.sign_form("esp-1")
    wrong_action = await post(running, page_path, "delete-everything", token)
    assert wrong_action.status_code == 400
    as_json = await running.http.post(page_path, json={"action": "grant"})
    assert as_json.status_code == 415
    huge = await running.http.post(
        page_path,
        content=b"a=" + b"x" * 10_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413


async def test_download_and_erase(running: Running) -> None:
    links = running.message()
    page_path = path(links.preferences_url)
    page = await running.http.get(page_path)
    await post(running, page_path, "grant", form_token(page))
    await running.http.get(path(links.open_url), headers={"User-Agent": FIREFOX})
    await running.http.get(
        path(links.click_url("https://x.test/", 1)), headers={"User-Agent": FIREFOX}
    )
    await running.settle()

    download = await running.http.get(page_path + "?format=json")
    assert download.headers["content-disposition"].startswith("attachment;")
    data = download.json()
    assert data["subject_id"] == "esp-1"
    assert data["email_tracking"] == "granted"
    assert [(e["kind"], e["link"], e["verdict"]) for e in data["events"]] == [
        ("open", 0, "human"),
        ("click", 1, "human"),
    ]
    assert [r["action"] for r in data["receipts"]] == ["preferences_page"]
    assert not any(key in str(data) for key in ("203.0.113.77", "Mozilla"))

    erased = await post(running, page_path, "erase", form_token(page))
    assert erased.status_code == 303
    after = await running.http.get(erased.headers["location"])
    assert "Your tracking data was erased." in after.text
    assert 'value="grant"' not in after.text
    assert 'value="erase"' not in after.text
    data = (await running.http.get(page_path + "?format=json")).json()
    assert (data["email_tracking"], data["events"]) == ("erased", [])
    assert data["receipts"] == []  # erasure takes the receipts too: only the tombstone stays
    # Tracking stays off: new events are not stored, and a grant is refused.
    await running.http.get(path(links.open_url), headers={"User-Agent": FIREFOX})
    await running.settle()
    assert await running.gateway.store.email.email_events("esp-1") == []
    again = await post(running, page_path, "grant", form_token(page))
    assert again.status_code == 422


async def test_a_bad_preferences_token_is_the_404_page(running: Running) -> None:
    click_token = path(running.message().click_url("https://x.test/", 1)).rsplit("/", 1)[1]
    for token in ("nonsense", click_token):
        response = await running.http.get(f"/p/{token}")
        assert response.status_code == 404
        assert "This link does not work" in response.text


async def test_with_the_store_down_links_still_work_and_the_page_says_so(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(store="redis://127.0.0.1:1/0", store_timeout_seconds=0.3)
    clock = SteadyClock()
    gateway = Gateway.build(settings, clock)
    async with serving(app_for(gateway)) as http:
        down = Running(gateway, http, clock)
        links = down.message()
        opened = await http.get(path(links.open_url), headers={"User-Agent": FIREFOX})
        assert opened.content == GIF
        clicked = await http.get(path(links.click_url("https://www.example.com/", 1)))
        assert clicked.status_code == 302
        assert clicked.headers["location"] == "https://www.example.com/"
        page = await http.get(path(links.preferences_url))
        assert page.status_code == 503
        assert "We cannot show or change your setting right now." in page.text
        assert "<form" not in page.text
        assert_strict_page(page)
        await down.gateway.email.recorder.flush(settle=False)  # fails closed, quietly
