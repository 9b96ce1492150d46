"""The reports, from a recorded audit: JSON, JUnit XML, HTML and the terminal summary."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from gateway.audit.cookie_database import load_database
from gateway.audit.judge import judge
from gateway.audit.record import AuditRun, Recorder
from gateway.audit.reports import write_reports
from gateway.audit.reports.terminal import ProgressBar, summary
from tests.audit.test_judge import CONFIG, SITE, audit_of, cookie, request, storage

PNG = bytes.fromhex("89504e470d0a1a0a")  # enough of a PNG to be embedded


def leaky_audit() -> AuditRun:
    audit = audit_of("none", request("connect.facebook.net", "/fbevents.js"), cookie("ab_test"))
    audit.runs += audit_of("accept", request("connect.facebook.net", "/fbevents.js")).runs
    audit.runs[0].banner_png = PNG
    audit.finished = 12.0
    return audit


def test_every_report_is_written(tmp_path: Path) -> None:
    audit = leaky_audit()
    items = judge(CONFIG, audit)
    written = write_reports(tmp_path / "out", audit, CONFIG, items)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "banner-none.png", "report.html", "report.json", "report.xml",
    ]  # fmt: skip
    data = json.loads(written["json"].read_text())
    assert data["summary"] == {"violation": 1, "finding": 1, "note": 2}
    assert not data["passed"]
    assert data["states"][0]["banner_screenshot"] == "banner-none.png"
    assert data["states"][0]["pages"][0]["requests"][0]["host"] == "connect.facebook.net"


def test_junit_fails_the_page_with_the_violation_only(tmp_path: Path) -> None:
    audit = leaky_audit()
    written = write_reports(tmp_path, audit, CONFIG, judge(CONFIG, audit))
    root = ElementTree.parse(written["junit"]).getroot()
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    none, accept = root.findall("testsuite")
    [failure] = none.iter("failure")
    assert failure.get("type") == "vendor-request-before-consent"
    assert "connect.facebook.net/fbevents.js" in (failure.text or "")
    out = none.find("testcase/system-out")
    assert out is not None
    assert "undeclared-cookie: ab_test" in (out.text or "")
    assert not list(accept.iter("failure"))


def test_html_is_self_contained_and_escapes_what_sites_send(tmp_path: Path) -> None:
    audit = leaky_audit()
    audit.runs[0].pages[0].cookies.append(cookie("<script>alert(1)</script>"))
    html = write_reports(tmp_path, audit, CONFIG, judge(CONFIG, audit))["html"].read_text()
    assert "data:image/png;base64," in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<link" not in html
    assert 'src="http' not in html
    assert "FAIL — 1 violation" in html


def test_terminal_progress_and_summary() -> None:
    stream = io.StringIO()
    bar = ProgressBar(4, stream)
    bar.step("none", "https://www.shop.example/")
    bar.step("none", "https://www.shop.example/about")
    assert (
        stream.getvalue().splitlines()[1].startswith("audit: [############------------] 2/4 none")
    )
    bar.resize(3)  # the site had fewer pages than asked for
    bar.step("reject", "https://www.shop.example/")
    assert stream.getvalue().splitlines()[2].startswith("audit: [########################] 3/3")
    audit = leaky_audit()
    text = summary(audit, judge(CONFIG, audit), {})
    assert "FAIL: 1 violation(s), 1 finding(s), 2 note(s)" in text
    assert "connect.facebook.net/fbevents.js — states none" in text


AWKWARD = ["lone\ud800surrogate", "ctrl\x01key", "esc\x1b[31mred", "nul\x00", "<b>&amp;"]
SECRET = "http://ann:hunter2@www.shop.example/private"


def awkward_audit() -> AuditRun:
    """What a hostile or careless site can leave: every awkward string, credentials in URLs."""
    audit = audit_of("none", *(storage(key, SITE + "app.js") for key in AWKWARD))
    visit = audit.runs[0].pages[0]
    visit.cookies = [cookie(name) for name in AWKWARD]
    visit.requests.append(request("tracker.example", "/p\ud83d.gif"))
    visit.requests[-1].initiator = SECRET
    visit.cookies[0].set_by = SECRET
    visit.error = f"net::ERR_FAILED at {SECRET}"
    audit.url = SECRET
    return audit


def test_every_report_is_written_and_valid_whatever_the_site_stores(tmp_path: Path) -> None:
    audit = awkward_audit()
    items = judge(CONFIG, audit, load_database())
    written = write_reports(tmp_path, audit, CONFIG, items)
    raw = {name: path.read_bytes() for name, path in written.items()}
    for name, body in raw.items():
        text = body.decode("utf-8")  # strict: no lone surrogate reached a file
        assert "hunter2" not in text, name
        assert "ann:" not in text, name
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in text), name
    data = json.loads(raw["json"])
    keys = [s["key"] for s in data["states"][0]["pages"][0]["storage"]]
    assert keys == [
        "lone\\ud800surrogate",
        "ctrl\\x01key",
        "esc\\x1b[31mred",
        "nul\\x00",
        "<b>&amp;",
    ]
    assert data["url"] == "http://www.shop.example/private"
    assert not data["complete"]
    assert not data["passed"]
    html = raw["html"].decode()
    assert "ctrl\\x01key" in html
    assert "&lt;b&gt;&amp;amp;" in html
    assert "INCOMPLETE — 1 page visit could not be loaded" in html
    terminal = summary(audit, items, written)
    assert "hunter2" not in terminal
    assert "\x1b" not in terminal
    assert "\ud800" not in terminal
    assert "INCOMPLETE: " in terminal


def test_report_xml_is_junit_whatever_the_site_stores(tmp_path: Path) -> None:
    audit = awkward_audit()
    written = write_reports(tmp_path, audit, CONFIG, judge(CONFIG, audit))
    root = ElementTree.fromstring(written["junit"].read_bytes())  # well-formed XML 1.0
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    for element in (root, *suites):
        assert {"tests", "failures", "errors", "skipped"} <= set(element.attrib), element.attrib
    [suite] = suites
    assert suite.get("name") == "consent state: No choice yet"
    [case] = suite.findall("testcase")
    assert set(case.attrib) == {"classname", "name"}
    assert case.get("name") == SITE
    [error] = case.findall("error")
    assert error.get("type") == "page-not-loaded"
    assert (suite.get("tests"), suite.get("errors"), root.get("errors")) == ("1", "1", "1")
    out = case.find("system-out")
    assert out is not None
    assert "ctrl\\x01key" in (out.text or "")


@pytest.mark.parametrize("show_values", [False, True])
def test_values_are_kept_out_unless_asked_for(show_values: bool, tmp_path: Path) -> None:
    recorder = Recorder(show_values)
    recorder.begin(SITE)
    jar = [{"name": "session", "value": "s3cr3t-cookie", "domain": "www.shop.example"}]
    visit = recorder.finish_page(jar, {"localStorage": [["token", "s3cr3t-storage"]]}, SITE)
    audit = audit_of("none")
    audit.runs[0].pages = [visit]
    audit.show_values = show_values
    written = write_reports(tmp_path, audit, CONFIG, judge(CONFIG, audit))
    for kind, path in written.items():
        text = path.read_text()
        shown = show_values and kind in ("json", "html")  # JUnit lists problems, not values
        assert ("s3cr3t-cookie" in text) == shown, path.name
        assert ("s3cr3t-storage" in text) == shown, path.name
