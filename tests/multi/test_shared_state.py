"""What one instance learns, every instance knows: two `serve` processes on one store (SQLite,
Redis, Redis Cluster, Sentinel), driven only through their public HTTP interface."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.admin.html_reading import tables
from tests.multi.deploy import PUBLIC_URL, SITE, Gateway, admin_login, bearer, forwarding

GA4_HIT = "/t/ga4?v=2&tid=G-TEST123&cid=555.666&en=page_view"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)


def _wrong_token(gateway: Gateway, client: str) -> int:
    headers = {"Authorization": "Bearer not-the-token", "X-Forwarded-For": client}
    return gateway.request("POST", "/api/links", json={}, headers=headers).status_code


def test_wrong_tokens_sent_to_a_count_on_b(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    client = "198.51.100.11"
    assert [_wrong_token(a, client) for _ in range(5)] == [401] * 5
    assert [_wrong_token(b, client) for _ in range(5)] == [401] * 5
    limited = b.request("POST", "/api/links", json={}, headers=bearer(client))
    assert limited.status_code == 429  # the eleventh guess, even a right one, on either
    assert int(limited.headers["retry-after"]) >= 1
    assert a.request("POST", "/api/links", json={}, headers=bearer(client)).status_code == 429
    other = a.request("POST", "/api/links", json={}, headers=bearer("198.51.100.99"))
    assert other.status_code == 422  # past the auth: another client is not limited


def test_a_logout_on_a_ends_the_session_on_b(pair: tuple[Gateway, Gateway]) -> None:
    a, b = pair
    client = {"X-Forwarded-For": "198.51.100.12"}
    session = {"Cookie": f"cg_admin={admin_login(a, '198.51.100.12')}"}
    dashboard = b.request("GET", "/admin", headers={**client, **session})
    assert dashboard.status_code == 200  # the session opened on A works on B
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', dashboard.text)
    assert csrf is not None
    out = a.request(
        "POST",
        "/admin/logout",
        data={"csrf_token": csrf.group(1)},
        headers={**client, **session, "Origin": PUBLIC_URL},
    )
    assert out.status_code == 303
    after = b.request("GET", "/admin", headers={**client, **session})
    assert after.status_code == 303
    assert after.headers["location"] == "/admin/login"


def test_an_objection_recorded_on_a_is_enforced_on_b_at_once(
    pair: tuple[Gateway, Gateway],
) -> None:
    a, b = pair
    chosen = a.request("POST", "/consent", json={"action": "accept_all"}, headers={"Origin": SITE})
    assert chosen.status_code == 200
    subject = chosen.json()["consent"]["id"]
    cookie = {"Cookie": f"cg_consent={chosen.cookies['cg_consent']}", "User-Agent": CHROME}
    before = b.request("GET", GA4_HIT, headers=cookie)
    assert before.headers["x-consent-decision"].startswith("forward")
    objected = a.request(
        "POST",
        f"/api/subjects/{subject}/objection",
        json={"categories": ["analytics"], "source": "multi-instance test"},
        headers=bearer(),
    )
    assert objected.status_code in (200, 201), objected.text
    started = time.monotonic()
    # The full re-read is 300 s away on B (see conftest): only the announcement can do this.
    deadline = started + 5
    decision = ""
    while time.monotonic() < deadline:
        decision = b.request("GET", GA4_HIT, headers=cookie).headers["x-consent-decision"]
        if decision.startswith("block; reason=objection"):
            break
        time.sleep(0.05)
    assert decision.startswith("block; reason=objection"), decision
    print(f"objection enforced on B {time.monotonic() - started:.2f} s after A answered")


def test_every_process_publishes_a_heartbeat_and_the_dashboard_lists_them_all(
    pair: tuple[Gateway, Gateway],
) -> None:
    a, b = pair
    name_a = a.request("GET", "/readyz").json()["instance"]
    name_b = b.request("GET", "/readyz").json()["instance"]
    assert name_a != name_b
    client = {"X-Forwarded-For": "198.51.100.13"}
    session = {"Cookie": f"cg_admin={admin_login(b, '198.51.100.13')}"}
    deadline = time.monotonic() + 15
    listed: set[str] = set()
    timed: list[str] = []
    # From its second heartbeat on, each process also says how long the store took to answer.
    while time.monotonic() < deadline and not (
        {name_a, name_b} <= listed and all(t.replace(".", "").isdigit() for t in timed)
    ):
        page = b.request("GET", "/admin", headers={**client, **session})
        rows = tables(page.text)["Every running process (heartbeats in the last 10 s)"][1:]
        listed = {row[0].removesuffix(" (this one)") for row in rows}
        timed = [row[-1] for row in rows]
        time.sleep(0.2)
    assert {name_a, name_b} <= listed
    assert all(float(t) >= 0 for t in timed)
    size = re.search(r'id="store-usage"[^>]*>([\d.]+) MiB', page.text)
    assert size is not None  # what fills up first as traffic grows (docs/scaling.md)
    assert float(size.group(1)) > 0


@pytest.mark.parametrize("pair", ["sqlite"], indirect=True)
def test_a_separate_forward_process_shows_on_the_dashboard_too(
    pair: tuple[Gateway, Gateway], tmp_path: Path
) -> None:
    a, _ = pair
    client = {"X-Forwarded-For": "198.51.100.14"}
    session = {"Cookie": f"cg_admin={admin_login(a, '198.51.100.14')}"}
    with forwarding(tmp_path / "forward", a.store) as process:
        deadline = time.monotonic() + 20
        roles: list[str] = []
        while time.monotonic() < deadline and not any("(forward)" in r for r in roles):
            assert process.poll() is None, (tmp_path / "forward" / "forward.log").read_text()
            page = a.request("GET", "/admin", headers={**client, **session})
            rows = tables(page.text)["Every running process (heartbeats in the last 10 s)"][1:]
            roles = [row[0] for row in rows]
            time.sleep(0.2)
    assert any(r.endswith(f":{process.pid} (forward)") for r in roles), roles


def _click(gateway: Gateway, url: str) -> None:
    answer = gateway.request("GET", url.removeprefix(PUBLIC_URL), headers={"User-Agent": CHROME})
    assert answer.status_code == 302


def _events(gateway: Gateway, subject: str) -> list[dict[str, object]]:
    exported = gateway.request("GET", f"/api/subjects/{subject}", headers=bearer())
    events: list[dict[str, object]] = exported.json()["email_events"]
    return events


@pytest.mark.parametrize("pair", ["sqlite", "cluster"], indirect=True)
def test_a_burst_of_clicks_split_over_instances_is_a_machine(pair: tuple[Gateway, Gateway]) -> None:
    """Three links of one message within a second, two on A and one on B: a scanner. Once per
    store implementation (settling takes 12 s); the contract tests hold every backend to the
    same click windows, and Redis and Sentinel run the Cluster's code on one node."""
    a, b = pair
    urls = [f"https://www.example.com/offer/{n}" for n in range(3)]
    signed = {}
    for recipient in ("esp-burst", "esp-person"):
        granted = a.request(
            "PUT",
            f"/api/subjects/{recipient}/consent",
            json={"granted": ["email_tracking"], "source": "multi-instance test"},
            headers=bearer(),
        )
        assert granted.status_code in (200, 201), granted.text
        links = a.request(
            "POST",
            "/api/links",
            json={
                "campaign": "burst",
                "recipient": recipient,
                "urls": urls,
                "sent_at": time.time() - 3600,
            },
            headers=bearer(),
        )
        assert links.status_code == 200, links.text
        signed[recipient] = links.json()["click_urls"]
    # At once, as a scanner does (one after the other could take over a second on a busy box).
    with ThreadPoolExecutor(3) as clicking:
        list(clicking.map(_click, (a, b, a), signed["esp-burst"], timeout=30))
    _click(b, signed["esp-person"][0])  # one link, read and clicked: a person
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_events(a, "esp-burst")) < 3:
        time.sleep(0.5)
    assert [str(e["verdict"]) for e in _events(a, "esp-burst")] == ["machine"] * 3
    assert [e["verdict"] for e in _events(a, "esp-person")] == ["human"]
