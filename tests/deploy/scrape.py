"""Live `/metrics` scrapes of gateways that served every route, for the alert and dashboard tests.

Two gateways: a healthy one (SQLite, rules pointing at a stand-in vendor that first answers 503
so the breaker trips, then 200) that is sent a request on every route the app declares, and one
whose Redis is unreachable, so that the failure series (store errors, spooled receipts,
`cg_store_up 0`) exist too. Some series only exist once something happened: this is where it
happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Route

from gateway.app import app_for, create_app
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import REPO, SITE, serving
from tests.vendors import StandInVendor, rules_pointing_at

ADMIN = "deploy-tests-admin-token"
INTERNAL = "10.0.0.5"  # /metrics answers internal clients
BROWSER = {
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/131.0.0.0 Safari/537.36"
}
PARAMETERS = {"vendor": "ga4", "sub_path": "g/collect", "token": "not-a-token", "subject": "esp-1"}


@dataclass
class Scrape:
    """Sample name → every label set seen with it (across the scrapes)."""

    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    families: set[str] = field(default_factory=set)  # `cg_http_requests`, not `…_total`

    def add(self, text: str) -> None:
        for family in text_string_to_metric_families(text):
            self.families.add(family.name)
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append(dict(sample.labels))

    def labels_of(self, name: str) -> set[str]:
        return {label for labels in self.samples.get(name, []) for label in labels}


async def _wait_for(http: httpx.AsyncClient, line: str, seconds: float = 20.0) -> str:
    deadline = time.monotonic() + seconds
    while True:
        text = (await http.get("/metrics")).text
        if line in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{line!r} never appeared in /metrics:\n{text}")
        await asyncio.sleep(0.1)


async def _every_route(http: httpx.AsyncClient, *, store_down: bool = False) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    app = http.app  # type: ignore[attr-defined]
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        path = route.path_format.format(**PARAMETERS)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            response = await http.request(method, path, headers={**BROWSER, **auth}, json={})
            fitting = response.status_code < 500 or (store_down and response.status_code == 503)
            assert fitting, (method, path, response.text)


async def _some_of_everything(http: httpx.AsyncClient, gateway: Gateway) -> None:
    """The events whose series exist only once they happened."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    consent = await http.post(
        "/consent", json={"granted": ["analytics"]}, headers={"Origin": SITE, **BROWSER}
    )
    assert consent.status_code == 200
    cookie = {"Cookie": f"cg_consent={http.cookies['cg_consent']}", **BROWSER}
    for _ in range(8):  # the vendor answers 503: retries, then the breaker opens
        assert (
            await http.get("/t/ga4?v=2&tid=G-T&en=page_view", headers=cookie)
        ).status_code == 200
    refused = await http.post(
        "/t/plausible", content=b"{bad", headers={**cookie, "Content-Type": "text/plain"}
    )
    assert refused.status_code == 400
    # An address in a hit (redacted), then the old cookie replayed after a narrower choice.
    leaky = await http.get("/t/ga4?v=2&tid=G-T&dt=for%20ada%40example.com", headers=cookie)
    assert leaky.status_code == 200
    http.cookies.clear()  # another visitor (the first one's queued hits stay theirs)
    first = await http.post(
        "/consent", json={"action": "accept_all"}, headers={"Origin": SITE, **BROWSER}
    )
    assert first.status_code == 200
    old = {"Cookie": f"cg_consent={http.cookies['cg_consent']}", **BROWSER}
    narrower = await http.post(
        "/consent", json={"granted": ["preferences"]}, headers={"Origin": SITE, **BROWSER}
    )
    assert narrower.status_code == 200
    stale = await http.get("/consent", headers=old)
    assert "analytics" not in stale.json()["consent"]["granted"]  # (less, within one second)
    links = await http.post(
        "/api/links",
        json={"campaign": "c1", "recipient": "esp-1", "url": "https://www.example.com/"},
        headers=auth,
    )
    assert links.status_code == 200, links.text
    opened = await http.get(urlsplit(links.json()["open_url"]).path, headers=BROWSER)
    assert opened.status_code == 200
    await gateway.email.recorder.flush(settle=False)  # as at shutdown


async def scrape_every_route(
    make_settings: Callable[..., Settings], vendor: StandInVendor, tmp_path: Path
) -> Scrape:
    scrape = Scrape()
    admin = (hashlib.sha256(ADMIN.encode()).hexdigest(),)
    rules = rules_pointing_at(REPO / "tag_rules", tmp_path / "rules", vendor.origin)
    script = (b"/* loader */", {"Content-Type": "application/javascript"})
    vendor.scripts |= {"/gtag/js": script, "/gtm.js": script}  # served first-party (/t/ga4/…)
    vendor.status = 503
    gateway = Gateway.build(
        make_settings(rules=rules, allow_insecure_upstreams=True, admin_token_hashes=admin)
    )
    healthy = app_for(gateway)
    async with serving(healthy, client_ip=INTERNAL) as http:
        http.app = healthy  # type: ignore[attr-defined]
        await _some_of_everything(http, gateway)
        await _wait_for(http, 'cg_delivery_breaker_open{vendor="ga4"} 1.0')
        vendor.status = 200
        await _every_route(http)
        scrape.add(await _wait_for(http, "cg_store_up 1.0"))
    down = create_app(
        make_settings(
            store="redis://127.0.0.1:1/0",
            store_timeout_seconds=0.3,
            data_dir=tmp_path / "down",
            admin_token_hashes=admin,
        )
    )
    async with serving(down, client_ip=INTERNAL) as http:
        http.app = down  # type: ignore[attr-defined]
        spooled = await http.post(
            "/consent", json={"action": "reject_all"}, headers={"Origin": SITE, **BROWSER}
        )
        assert spooled.status_code == 200  # the receipt waits in the spool: an error counted
        await _every_route(http, store_down=True)
        scrape.add(await _wait_for(http, "cg_store_up 0.0"))
    return scrape
