"""`consent-gateway audit` end to end: real Chromium, the real gateway, sites on loopback.

The demo site keeps its promises, so the audit passes it (notes only: vendors the banner names
that the demo never loads). The leaky site breaks three of them, and the audit fails it with
exactly those three problems, in exactly the states where they are problems.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser

from e2e.browsing import CHROMIUM
from e2e.conftest import SCREENSHOTS
from e2e.gateway_server import REPO, GatewayProcess, running_gateway
from e2e.leaky_site import LeakySite, running_leaky_site, write_leaky_rules

ARTIFACTS = REPO / "e2e" / "artifacts"
RESOLVE = "--browser-arg=--host-resolver-rules=MAP *.test 127.0.0.1"


def run_audit(url: str, out: Path, rules: Path, *options: str) -> tuple[int, dict[str, Any], str]:
    """Run the CLI as a user would; its exit code, its JSON report and its terminal output."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    command = [
        sys.executable, "-m", "gateway.cli", "audit", url, "--out", str(out),
        "--rules", str(rules), "--browser", CHROMIUM, RESOLVE, *options,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=180
    )
    report = out / "report.json"
    if not report.exists():
        raise AssertionError(f"no report (exit {done.returncode}):\n{done.stderr}")
    return done.returncode, json.loads(report.read_text()), done.stderr


def summary(report: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    """Each item as (level, code, state, page path, subject)."""
    return {
        (i["level"], i["code"], i["state"], urlsplit(i["page"]).path, i["subject"])
        for i in report["items"]
    }


async def look_at(browser: Browser, report: Path, name: str, state: str) -> None:
    """Render the HTML report in Chromium and keep screenshots of it (read by a person).

    The report itself is kept in e2e/artifacts/ (not committed) to be opened by hand.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(report, ARTIFACTS / f"{name}.html")
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    await page.goto(report.as_uri())
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")
    await page.locator(f"#state-{state}").screenshot(path=SCREENSHOTS / f"{name}-{state}.png")
    assert await page.locator("img[src^='data:image/png;base64,']").count() >= 1
    await page.close()


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LeakySite, Path]]:
    directory = tmp_path_factory.mktemp("leaky")
    rules = write_leaky_rules(directory / "rules")
    with running_leaky_site() as site:
        settings = {
            "store": f"sqlite:///{directory}/gateway.sqlite3",
            "rules": str(rules),
            "allowed_origins": site.origin,
            "cookie_domain": "site.test",
        }
        with running_gateway(directory / "gateway", settings) as gateway:
            site.gateway = gateway.origin
            yield site, rules


async def test_the_demo_site_passes_the_audit(
    gateway: GatewayProcess, browser: Browser, tmp_path: Path
) -> None:
    out = tmp_path / "demo-audit"
    states = ["--state=none", "--state=reject", "--state=analytics", "--state=accept-gpc"]
    code, report, terminal = run_audit(
        f"{gateway.origin}/demo", out, REPO / "tag_rules", "--pages=1", *states
    )
    assert code == 0, terminal
    assert (report["summary"]["violation"], report["summary"]["finding"]) == (0, 0), terminal
    assert [s["name"] for s in report["states"]] == ["none", "reject", "analytics", "accept-gpc"]
    # What the demo loads with analytics consent: its GA4 pixel and Plausible beacon, through
    # the gateway (which says so), and the `_ga` cookie its analytics stand-in sets.
    analytics = report["states"][2]["pages"][0]
    decisions = {
        r["path"]: r["decision"].split(";")[0] for r in analytics["requests"] if r["decision"]
    }
    assert decisions == {"/t/ga4": "forward", "/t/plausible": "forward"}
    cookies = {c["name"]: c for c in analytics["cookies"]}
    assert cookies["_ga"]["via"] == "script"
    assert cookies["_ga"]["set_by"].endswith("/demo/analytics.js")
    assert cookies["cg_consent"]["via"] == "header"
    assert cookies["cg_consent"]["expires"] > 0
    # Nothing of the kind without a choice or after "reject all".
    for state in report["states"][:2]:
        assert not [r for r in state["pages"][0]["requests"] if r["path"].startswith("/t/")]
    # Notes: every vendor the banner names but the demo never loads. With GPC, "accept all"
    # grants no marketing, so Meta's stand-in (the demo's marketing tag) never runs either.
    notes = {i["subject"] for i in report["items"] if i["level"] == "note"}
    assert notes == set(report["banner_vendors"]) - {"ga4", "plausible"}
    assert "meta_pixel" in notes
    assert {s["banner_screenshot"] for s in report["states"]} == {
        f"banner-{name}.png" for name in ("none", "reject", "analytics", "accept-gpc")
    }
    assert f"PASS: 0 violation(s), 0 finding(s), {len(notes)} note(s)" in terminal
    await look_at(browser, out / "report.html", "audit-report-demo", "analytics")


async def test_the_leaky_site_fails_with_exactly_its_leaks(
    leaky: tuple[LeakySite, Path], browser: Browser, tmp_path: Path
) -> None:
    site, rules = leaky
    out = tmp_path / "leaky-audit"
    code, report, terminal = run_audit(
        site.origin + "/", out, rules, "--pages=2", "--state=none", "--state=reject",
        "--state=accept",
    )  # fmt: skip
    assert code == 1, terminal
    assert [p["url"] for p in report["states"][0]["pages"]] == [
        site.origin + "/",
        site.origin + "/about",
    ]
    tag = "tags.vendor.test/analytics.js"
    pixel = "pixel.adnet.test/px.gif"
    assert summary(report) == {
        # The tag loaded outside the gateway, and the pixel fired before consent: violations
        # with no choice and after "reject all", fine after "accept all".
        ("violation", "vendor-request-before-consent", "none", "/", tag),
        ("violation", "vendor-request-before-consent", "none", "/", pixel),
        ("violation", "vendor-request-before-consent", "reject", "/", tag),
        ("violation", "vendor-request-before-consent", "reject", "/", pixel),
        # The cookie and the storage key no rule declares: findings in every state.
        ("finding", "undeclared-cookie", "none", "/", "visitor_pref"),
        ("finding", "undeclared-cookie", "reject", "/", "visitor_pref"),
        ("finding", "undeclared-cookie", "accept", "/", "visitor_pref"),
        ("finding", "undeclared-storage", "none", "/", "localStorage:layout"),
        ("finding", "undeclared-storage", "reject", "/", "localStorage:layout"),
        ("finding", "undeclared-storage", "accept", "/", "localStorage:layout"),
        # Named by the banner, never loaded.
        ("note", "vendor-never-loaded", "", "", "chatbox"),
    }
    by_subject = {i["subject"]: i for i in report["items"] if i["state"] == "none"}
    assert by_subject[tag]["cause"] == site.origin + "/"
    assert by_subject[tag]["rule"] == "acme_analytics.toml hosts (category analytics)"
    assert by_subject[pixel]["rule"] == "adnet.toml hosts (category marketing)"
    assert by_subject["visitor_pref"]["cause"] == f"script {site.origin}/site.js"
    [layout] = report["states"][0]["pages"][0]["storage"]
    assert (layout["area"], layout["key"], layout["set_by"]) == (
        "localStorage", "layout", f"{site.origin}/site.js",
    )  # fmt: skip
    assert "FAIL: 4 violation(s), 6 finding(s), 1 note(s)" in terminal
    junit = (out / "report.xml").read_text()
    assert junit.count("<failure ") == 2
    assert 'failures="2"' in junit
    await look_at(browser, out / "report.html", "audit-report-leaky", "reject")


PLUGIN_TESTS = """
from gateway.audit.pytest_plugin import cookies_declared, no_vendor_requests, no_violations


def test_reject_keeps_analytics_vendors_out(consent_page):
    no_vendor_requests(consent_page("reject"), "analytics")


def test_cookies_are_declared(consent_page):
    cookies_declared(consent_page("none"))


def test_no_violations_before_a_choice(consent_page):
    no_violations(consent_page("none"))


def test_accept_all_allows_both_vendors(consent_page):
    no_violations(consent_page("accept"))
"""


def test_the_pytest_plugin_fails_a_leaky_sites_own_tests(
    leaky: tuple[LeakySite, Path], tmp_path: Path
) -> None:
    """The plugin as a site's suite uses it: its own pytest run, its own Chromium."""
    site, rules = leaky
    (tmp_path / "test_leaky_consent.py").write_text(PLUGIN_TESTS)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir",
            str(tmp_path), str(tmp_path / "test_leaky_consent.py"),
            f"--consent-site={site.origin}/", f"--consent-rules={rules}",
            f"--consent-browser={CHROMIUM}",
            "--consent-browser-arg=--host-resolver-rules=MAP *.test 127.0.0.1",
        ],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert "3 failed, 1 passed" in output, output
    assert "requests to analytics vendors in state 'reject'" in output
    assert "tags.vendor.test/analytics.js (Acme Analytics; from " in output
    assert "cookies no rule declares: visitor_pref" in output
    assert "pixel.adnet.test/px.gif: image request to AdNet Pixel without consent" in output
