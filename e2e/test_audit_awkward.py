"""`consent-gateway audit` on what a CI job meets: awkward input, awkward sites, real Chromium.

Each case of issue 25, reproduced on the leaky site's `/awkward` pages (e2e/leaky_site.py):
a URL that is not one, a site that is down, a page answering 500, credentials in the URL,
keys no XML or UTF-8 writer takes, a redirect to another site, and the cookies of Hotjar,
Clarity, VK and Yandex that no rule declares, told apart and turned into draft rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from playwright.async_api import Browser

from e2e.conftest import SCREENSHOTS
from e2e.gateway_server import REPO
from e2e.leaky_site import LeakySite
from e2e.test_audit import leaky, look_at, run_audit
from tests.servers import free_port

__all__ = ["leaky"]  # the module's fixture: the leaky site and its gateway


def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *arguments],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_a_url_that_is_not_one_is_exit_2_in_one_line(tmp_path: Path) -> None:
    done = cli("audit", "http://[::1", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr == (
        "consent-gateway: config error: audit: URL: Invalid IPv6 URL: 'http://[::1'\n"
    )
    assert not (tmp_path / "out").exists()


def test_an_existing_file_as_out_stops_before_the_crawl(tmp_path: Path) -> None:
    existing = tmp_path / "report.html"
    existing.write_text("keep me")
    done = cli("audit", "http://127.0.0.1:9/", "--out", str(existing))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(f"--out: {existing}: expected a directory, found a file\n")
    assert "audit: [" not in done.stderr  # no page was visited
    assert existing.read_text() == "keep me"


def test_a_site_that_is_down_never_passes(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    code, report, terminal = run_audit(url, tmp_path, REPO / "tag_rules", "--pages=2")
    assert code == 2, terminal
    assert not report["complete"]
    assert not report["passed"]
    [item] = [i for i in report["items"] if i["code"] == "page-not-loaded"]
    assert "ERR_CONNECTION_REFUSED" in item["message"]
    assert [s["name"] for s in report["states"]] == ["none"]  # the other states would not load
    assert "INCOMPLETE: 0 violation(s), 1 finding(s), 0 note(s)" in terminal
    last = terminal.strip().splitlines()[-1]
    assert last.startswith(f"consent-gateway: audit incomplete, not loaded: {url} (")
    junit = ElementTree.parse(tmp_path / "report.xml").getroot()
    assert (junit.get("errors"), junit.get("failures")) == ("1", "0")
    assert "PASS" not in terminal


def test_a_page_answering_500_never_passes(leaky: tuple[LeakySite, Path], tmp_path: Path) -> None:
    site, rules = leaky
    url = site.origin + "/awkward/broken"
    code, report, terminal = run_audit(url, tmp_path, rules, "--pages=1", "--state=none")
    assert code == 2, terminal
    [item] = [i for i in report["items"] if i["code"] == "page-not-loaded"]
    assert item["message"] == "not loaded, so not judged: HTTP 500"
    assert terminal.endswith(f"consent-gateway: audit incomplete, not loaded: {url} (HTTP 500)\n")


def test_a_first_page_that_redirects_to_another_site_is_not_audited(
    leaky: tuple[LeakySite, Path], tmp_path: Path
) -> None:
    site, rules = leaky
    url = site.origin + "/awkward/out"
    code, report, terminal = run_audit(url, tmp_path, rules, "--pages=2", "--state=none")
    assert code == 2, terminal
    [item] = [i for i in report["items"] if i["code"] == "page-not-loaded"]
    assert f"redirected to http://elsewhere.test:{site.port}/, another site" in item["message"]
    assert report["states"][0]["pages"][0]["cookies"] == []  # elsewhere's are not the site's


async def test_an_awkward_site_is_reported_safely_and_its_cookies_are_known(
    leaky: tuple[LeakySite, Path], browser: Browser, tmp_path: Path
) -> None:
    site, rules = leaky
    secret_url = site.origin.replace("http://", "http://ann:hunter2@") + "/awkward"
    drafts = tmp_path / "drafts"
    code, report, terminal = run_audit(
        secret_url, tmp_path / "out", rules, "--pages=3", "--state=none", "--state=accept",
        "--suggest-rules", str(drafts),
    )  # fmt: skip
    # Complete, judged, no vendor of the rules leaked here: findings only, so it passes.
    assert code == 0, terminal
    assert report["complete"]
    # Secrets: the URL's credentials and the values of cookies and keys, nowhere.
    files = [p for p in (tmp_path / "out").iterdir() if p.suffix != ".png"]
    for text in [terminal, *(p.read_text(encoding="utf-8") for p in files)]:
        for secret in ("hunter2", "ann:", "s3cr3t-session-value", "s3cr3t-storage-value"):
            assert secret not in text
    assert report["url"] == site.origin + "/awkward"
    # Keys no UTF-8 or XML writer takes, written as visible escapes.
    keys = {s["key"] for s in report["states"][0]["pages"][0]["storage"]}
    assert {"lone\\ud800key", "ctrl\\x01key", "_ym_uid"} <= keys
    ElementTree.parse(tmp_path / "out" / "report.xml")  # well-formed, the \x01 key included
    # Scope: the link that redirected to another site ended there, as a note; nothing of
    # that site (its cookies, its storage) was judged as this site's.
    pages = [p["url"] for p in report["states"][0]["pages"]]
    assert pages == [site.origin + p for p in ("/awkward", "/awkward/more", "/awkward/out")]
    notes = {(i["state"], i["page"]) for i in report["items"] if i["code"] == "redirected-off-site"}
    assert notes == {(s, site.origin + "/awkward/out") for s in ("none", "accept")}
    subjects = {i["subject"] for i in report["items"]}
    assert not {s for s in subjects if "elsewhere" in s}
    # Knowledge: what each undeclared cookie and key is.
    known = {k["name"]: k["entry"] for k in report["undeclared"]}
    assert known["_hjSessionUser_3346789"]["platform"] == "Hotjar"
    assert known["_hjSessionUser_3346789"]["wildcard"] is True
    assert known["_clck"]["controller"] == "Microsoft"
    assert known["tmr_lvid"]["platform"] == "VK Top.Mail.Ru"
    assert known["_ym_uid"]["retention"] == "1 year"
    assert known["session_token"] is None
    assert "known: Hotjar (Analytics, controller Hotjar, kept 1 year)" in terminal
    # Draft rules per platform, each passing check-rules.
    assert sorted(p.name for p in drafts.iterdir()) == [
        "hotjar.toml", "microsoft_clarity.toml", "vk_top_mail_ru.toml", "yandex_metrica.toml",
    ]  # fmt: skip
    assert 'hosts = ["tags.metrics.test"]' in (drafts / "hotjar.toml").read_text()
    checked = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-rules"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
             "GATEWAY_RULES": str(drafts)},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    # Adopted as they are, the drafts make the same site fail: Hotjar & co. before consent.
    adopted = tmp_path / "adopted"
    shutil.copytree(rules, adopted)
    for draft in drafts.iterdir():
        shutil.copy(draft, adopted)
    code, again, terminal = run_audit(
        secret_url, tmp_path / "again", adopted, "--pages=1", "--state=none"
    )
    assert code == 1, terminal
    leaks = {(i["code"], i["subject"]) for i in again["items"] if i["level"] == "violation"}
    assert {
        ("vendor-cookie-before-consent", "_hjSessionUser_3346789"),
        ("vendor-cookie-before-consent", "tmr_lvid"),
        ("vendor-storage-before-consent", "localStorage:_ym_uid"),
        ("vendor-request-before-consent", "tags.metrics.test/metrics.js"),
    } <= leaks
    assert [d["id"] for d in report["suggested_rules"]] == [
        "hotjar", "microsoft_clarity", "vk_top_mail_ru", "yandex_metrica",
    ]  # fmt: skip
    await look_at(browser, tmp_path / "out" / "report.html", "audit-report-awkward", "none")
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    await page.goto((tmp_path / "out" / "report.html").as_uri())
    for section in ("undeclared", "suggested"):
        shot = SCREENSHOTS / f"audit-report-awkward-{section}.png"
        await page.locator(f"#{section}").screenshot(path=shot)
    assert await page.locator("#undeclared tbody tr").count() == len(report["undeclared"])
    await page.close()
