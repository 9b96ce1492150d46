"""Loud when misconfigured: refused origins are logged and counted, `check-config` and `serve`
say what a site needs (issue 30)."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.endpoints.origin import OriginRefusals
from tests.clocks import FixedClock
from tests.conftest import SITE, serving
from tests.servers import free_port, wait_for_gateway
from tests.test_cli import CLI, environment, run

OTHER = "https://shop.example.org"


def test_a_refused_origin_is_logged_once_a_minute_and_counted_every_time() -> None:
    clock = FixedClock(1000.0)
    logged: list[str] = []
    counted: list[None] = []
    refusals = OriginRefusals(on_refusal=lambda: counted.append(None), clock=clock)
    refusals.log = logged.append
    assert refusals(OTHER)
    assert not refusals(OTHER)
    assert refusals("https://other.example.net")  # another origin has its own minute
    clock.now += 59.9
    assert not refusals(OTHER)
    clock.now += 0.2
    assert refusals(OTHER)
    assert len(counted) == 5
    assert len(logged) == 3
    assert OTHER in logged[0]
    assert "GATEWAY_ALLOWED_ORIGINS" in logged[0]
    assert "2 more time(s)" in logged[2]  # the suppressed ones are not lost


def test_the_origins_remembered_for_logging_are_bounded() -> None:
    clock = FixedClock(0.0)
    logged: list[str] = []
    refusals = OriginRefusals(on_refusal=lambda: None, clock=clock, max_origins=2)
    refusals.log = logged.append
    assert refusals("https://a.example")
    assert refusals("https://b.example")
    assert not refusals("https://c.example")  # full: counted, not logged
    clock.now += 61
    assert refusals("https://c.example")  # the expired ones made room
    assert len(logged) == 3


async def test_the_gateway_logs_and_counts_a_refused_origin(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(create_app(make_settings())) as http:
        with caplog.at_level(logging.WARNING, logger="gateway.origin"):
            for _ in range(3):
                refused = await http.post(
                    "/consent", json={"action": "accept_all"}, headers={"Origin": OTHER}
                )
                assert refused.status_code == 403
            allowed = await http.post(
                "/consent", json={"action": "accept_all"}, headers={"Origin": SITE}
            )
        metrics = (await http.get("/metrics")).text
    assert "GATEWAY_ALLOWED_ORIGINS" in refused.json()["detail"]
    assert allowed.status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "gateway.origin"]
    assert len(messages) == 1, messages
    assert OTHER in messages[0]
    assert "cg_origin_refusals_total 3.0" in metrics


def test_check_config_warns_when_no_site_origin_is_allowed(tmp_path: Path) -> None:
    without = run("check-config", "--skip-store", env=environment(tmp_path))
    assert without.returncode == 0, without.stderr
    assert "warning: no site origin may record a choice" in without.stdout
    assert "GATEWAY_ALLOWED_ORIGINS=" in without.stdout
    with_site = run(
        "check-config", "--skip-store", env=environment(tmp_path, GATEWAY_ALLOWED_ORIGINS=SITE)
    )
    assert with_site.returncode == 0, with_site.stderr
    assert "warning" not in with_site.stdout


def _start_up_output(tmp_path: Path, *arguments: str, **settings: str) -> str:
    port = free_port()
    env = environment(tmp_path, GATEWAY_PUBLIC_URL="https://consent.example.com", **settings)
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), *arguments],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_gateway(f"http://127.0.0.1:{port}", process, log_path)
    finally:
        process.terminate()
        process.wait(timeout=15)
    return log_path.read_text()


def test_serve_prints_the_snippet_the_origins_and_the_vendors(tmp_path: Path) -> None:
    output = _start_up_output(
        tmp_path, GATEWAY_ALLOWED_ORIGINS=SITE, GATEWAY_VENDORS="ga4,meta_pixel"
    )
    assert '<script src="https://consent.example.com/consent.js"></script>' in output
    assert f"site origins that may record a choice: {SITE}" in output
    assert "vendors: ga4, meta_pixel" in output
    assert '<script async src="https://consent.example.com/t/ga4/gtag/js?id=…">' in output


def test_serve_without_vendors_or_origins_says_so(tmp_path: Path) -> None:
    output = _start_up_output(tmp_path, GATEWAY_VENDORS="")
    assert "vendors: none chosen — the banner offers necessary cookies only" in output
    assert "warning: no site origin may record a choice" in output


def test_an_unknown_vendor_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run(
        "serve", "--port", str(free_port()), env=environment(tmp_path, GATEWAY_VENDORS="ga4,ga5")
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "vendors: unknown vendor 'ga5'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_enables_its_own_vendors(tmp_path: Path) -> None:
    from gateway.demo import DEMO_VENDORS

    output = _start_up_output(tmp_path, "--demo", GATEWAY_VENDORS="")
    assert f"vendors: {', '.join(DEMO_VENDORS)}" in output
    assert "matomo" not in output
