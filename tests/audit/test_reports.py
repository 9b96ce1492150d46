"""The reports, from a recorded audit: JSON, JUnit XML, HTML and the terminal summary."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree

from gateway.audit.judge import judge
from gateway.audit.record import AuditRun
from gateway.audit.reports import write_reports
from gateway.audit.reports.terminal import ProgressBar, summary
from tests.audit.test_judge import CONFIG, audit_of, cookie, request

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
