"""`consent-gateway audit` input errors: one line, exit 2, before any browser starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["ftp://example.com/"], "expected an http(s) URL"),
        (["https://example.com/", "--state", "maybe"], "--state: maybe: expected one of none"),
        (["https://example.com/", "--browser", "/nonexistent/chromium"], "expected an executable"),
        (["https://example.com/", "--rules", "/nonexistent"], "expected a directory"),
        (["http://[::1"], "audit: URL: Invalid IPv6 URL: 'http://[::1'"),
        (["http://example.com:99999/"], "URL: Port out of range 0-65535"),
        (["http://exa mple.com/"], "expected no spaces, control characters"),
        (["http://\udcff.example/"], "or undecodable bytes: 'http://\\\\udcff.example/'"),
        (["http://[zz]/"], "'zz' does not appear to be an IPv4 or IPv6 address"),
        (["https://example.com/", "--cookie-database", "/nonexistent.csv"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["audit", *arguments, "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_without_playwright_one_line_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "playwright.async_api", None)  # as if not installed
    arguments = ["audit", "https://example.com/", "--rules", str(REPO / "tag_rules")]
    assert main([*arguments, "--out", str(tmp_path), "--browser", sys.executable]) == 2
    error = capsys.readouterr().err
    assert "pip install 'consent-gateway[audit]'" in error
    assert error.count("\n") == 1


def test_pages_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "https://example.com/", "--pages", "0"])
    assert exit_.value.code == 2
    assert "expected a whole number ≥ 1" in capsys.readouterr().err


def test_the_plugin_imports_nothing_heavy_until_used() -> None:
    """Loaded into every pytest run (entry point), it must not import Playwright or the app."""
    code = (
        "import sys, gateway.audit.pytest_plugin;"
        "heavy = [m for m in sys.modules if m.startswith(('playwright', 'gateway.audit.crawl',"
        " 'gateway.rules', 'gateway.consent', 'starlette'))];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_the_plugin_takes_the_key_from_a_file_or_the_environment_never_an_option(
    tmp_path,
) -> None:
    from gateway.audit.pytest_plugin import secret_key

    key_file = tmp_path / "staging.key"
    key_file.write_text("staging-key-0123456789\n")
    assert secret_key(str(key_file), {"CONSENT_GATEWAY_SECRET": "env"}) == "staging-key-0123456789"
    assert secret_key(None, {"CONSENT_GATEWAY_SECRET": "env-key"}) == "env-key"
    assert secret_key(None, {}) is None


def test_credentials_in_a_bad_url_are_not_echoed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["audit", "ftp://ann:hunter2@example.com/", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "expected an http(s) URL, got 'ftp://example.com/'" in error
    assert "hunter2" not in error
    assert "ann" not in error


@pytest.mark.parametrize("where", ["a file", "under a file", "suggest under a file"])
def test_an_out_that_cannot_be_written_stops_before_the_crawl(
    where: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    existing = tmp_path / "report.txt"
    existing.write_text("not a directory")
    out = {"a file": existing, "under a file": existing / "audit"}.get(where, tmp_path / "out")
    arguments = ["audit", "https://example.com/", "--rules", str(REPO / "tag_rules")]
    arguments += ["--out", str(out), "--browser", sys.executable]  # never launched
    if where.startswith("suggest"):
        arguments += ["--suggest-rules", str(existing / "rules")]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    expected = "expected a directory, found a file" if where == "a file" else "cannot write there"
    assert expected in error
    assert error.count("\n") == 1
    assert "Traceback" not in error
    assert existing.read_text() == "not a directory"


def test_start_url_takes_credentials_out_for_http_authentication() -> None:
    from gateway.audit.command import start_url

    assert start_url("http://user:p%40ss@127.0.0.1:8080/shop?q=1") == (
        "http://127.0.0.1:8080/shop?q=1",
        ("user", "p@ss"),
    )
    assert start_url("https://www.example.com/") == ("https://www.example.com/", None)
