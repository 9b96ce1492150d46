"""`serve --workers 2`: one port, two processes, one store. Every request below opens its own
connection, so the kernel hands them to either worker; what one worker learns, both know."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.multi.conftest import store_for
from tests.multi.deploy import PUBLIC_URL, Gateway, admin_login, bearer, serving

REQUESTS = 200


@pytest.fixture(scope="module", params=["sqlite", "redis", "cluster", "sentinel"])
def workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp(f"workers-{request.param}")
    with serving(directory, store_for(request, request.param, directory), workers=2) as gateway:
        # Both workers must be up and answering before anything is asserted across them.
        # Requests in parallel: one at a time, the kernel tends to wake the same worker's
        # accept() again and again, and a loaded machine starts the second one late.
        names: set[str] = set()
        deadline = time.monotonic() + 60
        with ThreadPoolExecutor(8) as pool:
            while len(names) < 2 and time.monotonic() < deadline:
                answers = pool.map(lambda _: gateway.request("GET", "/readyz"), range(16))
                names |= {answer.json()["instance"] for answer in answers}
        assert len(names) == 2, f"only {names} answered:\n{gateway.log()}"
        yield gateway


def _count(metrics: str, route: str) -> float:
    pattern = rf'^cg_http_requests_total{{[^}}]*route="{re.escape(route)}"[^}}]*}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, metrics, re.M))


@pytest.mark.parametrize("workers", ["sqlite", "redis"], indirect=True)
def test_every_scrape_counts_the_requests_of_every_worker(workers: Gateway) -> None:
    """Metrics live in local files whatever the store: two backends are enough here."""
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: workers.request("GET", "/healthz"), range(REQUESTS)))
    assert [a.status_code for a in answers] == [200] * REQUESTS
    # Each worker counts in memory and writes its counts to the shared files at its own scrape
    # and every heartbeat (2 s): within one heartbeat, any scrape counts every worker.
    deadline = time.monotonic() + 15
    counted = 0.0
    while counted != REQUESTS and time.monotonic() < deadline:
        scrape = workers.request("GET", "/metrics")
        assert scrape.status_code == 200, scrape.text
        counted = _count(scrape.text, "/healthz")
        assert counted <= REQUESTS
        time.sleep(0.2)
    assert counted == REQUESTS
    for _ in range(4):  # and then whichever worker answers the scrape
        assert _count(workers.request("GET", "/metrics").text, "/healthz") == REQUESTS


def test_wrong_tokens_count_across_workers(workers: Gateway) -> None:
    client = "198.51.100.21"
    headers = {"Authorization": "Bearer wrong", "X-Forwarded-For": client}
    statuses = [
        workers.request("POST", "/api/links", json={}, headers=headers).status_code
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]  # not 20 guesses: 10 per worker
    assert workers.request("POST", "/api/links", json={}, headers=bearer(client)).status_code == 429


def test_a_logout_ends_the_session_in_every_worker(workers: Gateway) -> None:
    client = {"X-Forwarded-For": "198.51.100.22"}
    session = {"Cookie": f"cg_admin={admin_login(workers, '198.51.100.22')}"}
    dashboard = workers.request("GET", "/admin", headers={**client, **session})
    assert dashboard.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', dashboard.text)
    assert csrf is not None
    out = workers.request(
        "POST",
        "/admin/logout",
        data={"csrf_token": csrf.group(1)},
        headers={**client, **session, "Origin": PUBLIC_URL},
    )
    assert out.status_code == 303
    after = [
        workers.request("GET", "/admin", headers={**client, **session}).status_code
        for _ in range(10)
    ]
    assert after == [303] * 10
