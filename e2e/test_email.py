"""A marketing email end to end: rewritten by the CLI, read in Chromium, clicked, recorded.

    rewrite-email (CLI) ──▶ email.html ──file://──▶ Chromium
                                                   ├─ pixel  ─▶ gateway /o  (open)
                                                   ├─ link   ─▶ gateway /p  (grant tracking)
                                                   └─ link   ─▶ gateway /c ─302─▶ landing.site.test
The gateway is the shared real one (`serve --demo`, real uvicorn, Redis); the landing site is a
real HTTP server standing in for the marketer's site. What is recorded is read back the way the
recipient reads it: the JSON download of their preferences page.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis as redis_client
from playwright.async_api import expect

from e2e.browsing import problems
from e2e.conftest import SCREENSHOTS, Visit
from e2e.gateway_server import REPO, SECRET, GatewayProcess
from tests.servers import RedisServer

SAMPLE = REPO / "tests" / "email" / "samples" / "newsletter.html"
SAFE_LINKS = "Mozilla/5.0 (compatible; Microsoft Office 365 ATP Safe Links)"


@dataclass
class Landing:
    """The marketer's site: answers every page and remembers what it was asked."""

    port: int
    visits: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://landing.site.test:{self.port}"


@pytest.fixture(scope="module")
def landing() -> Iterator[Landing]:
    site: Landing

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.visits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            body = b"<!doctype html><title>Spring notes</title><h1>Spring notes</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site = Landing(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def rewrite(source: Path, out: Path, gateway: GatewayProcess, campaign: str) -> str:
    """`consent-gateway rewrite-email` as a marketer runs it; returns the subject it names."""
    sent_an_hour_ago = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environment |= {"GATEWAY_SECRET_KEYS": SECRET, "GATEWAY_PUBLIC_URL": gateway.origin}
    environment |= {"XDG_STATE_HOME": str(out.parent / "state")}
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "rewrite-email", str(source), "-o", str(out),
         "--campaign", campaign, "--recipient", "ada@example.com", "--sent-at", sent_an_hour_ago],
        capture_output=True, text=True, env=environment, cwd=out.parent, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "4 link(s) wrapped for subject " in result.stderr
    return result.stderr.rsplit("subject ", 1)[1].strip()


def recorded(gateway: GatewayProcess, preferences_url: str, events: int) -> dict[str, Any]:
    """The recipient's data download, polled until `events` are in (they settle in batches)."""
    url = f"http://127.0.0.1:{gateway.port}{urlsplit(preferences_url).path}?format=json"
    deadline = time.monotonic() + 40
    with httpx.Client(trust_env=False) as client:
        while True:
            data: dict[str, Any] = client.get(url).json()
            if len(data["events"]) >= events or time.monotonic() > deadline:
                return data
            time.sleep(0.25)


async def test_an_email_opened_and_clicked_in_chromium(
    visit: Visit, gateway: GatewayProcess, landing: Landing, redis: RedisServer, tmp_path: Path
) -> None:
    campaign = f"e2e-{time.time_ns()}"
    source = tmp_path / "newsletter.html"
    sample = SAMPLE.read_bytes()
    for host in (b"https://www.example.com", b"https://cdn.example.com"):
        sample = sample.replace(host, landing.origin.encode())
    source.write_bytes(sample)
    email = tmp_path / "email.html"
    subject = rewrite(source, email, gateway, campaign)
    html = email.read_text()
    click_urls = [
        part.split('"')[0].split("'")[0] for part in html.split(f"{gateway.origin}/c/")[1:]
    ]

    # Read the email: its pixel is an open, not kept yet — Ada has not agreed to tracking.
    page = await visit(email.as_uri())
    preferences = page.get_by_role("link", name="Email tracking preferences")
    preferences_url = str(await preferences.get_attribute("href"))
    assert preferences_url.startswith(f"{gateway.origin}/p/")

    # She allows tracking on her preferences page.
    await preferences.click()
    await expect(page.get_by_text("Tracking of our emails to you is OFF")).to_be_visible()
    await page.get_by_role("button", name="Allow tracking").click()
    await expect(page.get_by_role("status")).to_have_text("Saved: tracking is on. Thank you.")
    await expect(page.get_by_text("Tracking of our emails to you is ON.")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "email-preferences.png")
    assert await problems(page) == []  # the strict CSP holds: no violation, no error

    # Her company's link scanner follows the first link; she opens the email again and clicks.
    with httpx.Client(trust_env=False) as scanner:
        scanned = scanner.get(
            f"http://127.0.0.1:{gateway.port}/c/{click_urls[0]}", headers={"User-Agent": SAFE_LINKS}
        )
    assert scanned.status_code == 302
    await page.goto(email.as_uri())
    await page.get_by_role("link", name="our spring notes").click()
    await expect(page).to_have_url(f"{landing.origin}/blog/spring-2026?ref=email&lang=en")
    await expect(page.get_by_role("heading", name="Spring notes")).to_be_visible()
    path, headers = landing.visits[-1]
    assert path == "/blog/spring-2026?ref=email&lang=en"
    assert "referer" not in headers

    data = recorded(gateway, preferences_url, events=3)
    assert data["subject_id"] == subject
    assert data["email_tracking"] == "granted"
    assert [(e["kind"], e["link"], e["verdict"], e["campaign"]) for e in data["events"]] == [
        ("click", 1, "machine", campaign),  # the scanner
        ("open", 0, "human", campaign),  # her second reading only: the first was before consent
        ("click", 2, "human", campaign),  # Ada
    ]
    assert [r["action"] for r in data["receipts"]] == ["preferences_page"]
    assert "ada@example.com" not in str(data)

    # The campaign's figures count both readings (aggregates need no consent), by verdict.
    assert aggregates(redis, campaign, expected=4) == {
        "email_open": {f"{campaign}|human": 2},
        "email_click": {f"{campaign}|1|machine": 1, f"{campaign}|2|human": 1},
    }


def aggregates(redis: RedisServer, campaign: str, expected: int) -> dict[str, dict[str, int]]:
    """Today's per-campaign counters in the store, polled until `expected` events are counted."""
    client = redis_client.Redis(port=redis.port, decode_responses=True)
    key = "cg:counts:{" + datetime.now(UTC).strftime("%Y-%m-%d") + "}"
    deadline = time.monotonic() + 20
    try:
        while True:
            found: dict[str, dict[str, int]] = {}
            counters: dict[str, str] = client.hgetall(key)  # type: ignore[assignment]
            for name, value in counters.items():
                metric, label = name.split("|", 1)
                if label.startswith(campaign + "|"):
                    found.setdefault(metric, {})[label] = int(value)
            total = sum(sum(labels.values()) for labels in found.values())
            if total >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.25)
    finally:
        client.close()
