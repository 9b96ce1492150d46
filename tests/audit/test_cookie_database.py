"""The cookie database: the Open Cookie Database's CSV format, lookups, and `refresh`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.audit.cookie_database import (
    COLUMNS,
    OPEN_COOKIE_DATABASE_URL,
    load_database,
    parse_database,
    refresh_database,
)
from gateway.cli import main
from gateway.errors import ConfigError
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]

HEADER = ",".join(COLUMNS) + "\n"
REAL_ROWS = (  # rows as the real database writes them: quoted cells, commas, a UUID id
    "256c1fdb-4f5b-4a1e-8e2a-6a1d2c3b4e5f,Google Analytics,Analytics,_ga,"
    '"google-analytics.com (3rd party) or advertiser\'s website domain (1st party)",'
    '"ID used to identify users","2 years",Google,"https://privacy.google.com/take-control.html",0\n'
    "5e4b2d5c-8d0e-4b55-9c2a-0f7e1d2c3b4a,Google Analytics,Analytics,_ga_,"
    "google-analytics.com,ID used to identify users,2 years,Google,,1\n"
    "6d2b3c4e-0a1b-4c2d-8e3f-9a8b7c6d5e4f,Google Analytics,Analytics,_ga_ABC,"
    "google-analytics.com,A specific property,2 years,Google,,0\n"
)


def test_exact_names_win_over_prefixes_and_longer_prefixes_over_shorter() -> None:
    database = parse_database(HEADER + REAL_ROWS, "test")
    assert database.lookup("_ga_ABC").description == "A specific property"  # type: ignore[union-attr]
    assert database.lookup("_ga_XYZ").name == "_ga_"  # type: ignore[union-attr]
    assert database.lookup("_ga_") is None  # a prefix stands for at least one more character
    assert database.lookup("_gax") is None
    entry = database.lookup("_ga")
    assert entry is not None
    assert entry.retention == "2 years"
    assert entry.controller == "Google"
    assert len(database) == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "header: expected the columns ID, Platform"),
        ("<!doctype html><title>Not found</title>\n", "header: expected the columns"),
        (HEADER + "1,P,Analytics,_x\n", "row 2: expected 10 columns"),
        (HEADER + "1,P,Analytics,,d,e,r,c,p,0\n", "row 2: expected a cookie or data key name"),
        (HEADER + '1,P,"' + "x" * 200_000 + '",_x,d,e,r,c,p,0\n', "not a CSV file"),
    ],
)
def test_a_file_that_is_not_the_database_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_database(text, "file.csv")


def test_the_shipped_database_knows_the_issue_s_cookies_and_the_shipped_rules() -> None:
    database = load_database()
    expected = {
        "_hjSessionUser_3346789": "Hotjar", "_clck": "Microsoft Clarity",
        "tmr_lvid": "VK Top.Mail.Ru", "_ym_uid": "Yandex Metrica", "_ym_d": "Yandex Metrica",
        "_ga": "Google Analytics", "_ga_Q1W2E3": "Google Analytics", "_fbp": "Meta Pixel",
        "_fbc": "Meta Pixel", "_pk_id.1.a1b2": "Matomo", "li_fat_id": "LinkedIn Insight",
        "_GRECAPTCHA": "reCAPTCHA", "cg_consent": "consent-gateway",
    }  # fmt: skip
    found = {name: getattr(database.lookup(name), "platform", None) for name in expected}
    assert found == expected
    assert "own database" in database.source


def test_every_cookie_of_the_shipped_rules_is_in_the_shipped_database() -> None:
    from gateway.rules.loader import load_rules
    from gateway.settings import Settings

    rules = load_rules(REPO / "tag_rules", categories=Settings().consent.categories)
    database = load_database()
    missing = [
        f"{rule.id}: {pattern}"
        for rule in rules.values()
        for pattern in rule.cookies.patterns
        if database.lookup(pattern.replace("*", "x")) is None
    ]
    assert missing == []


class _Site(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror() -> Iterator[tuple[str, type[_Site]]]:
    """A real HTTP server standing in for the database's public URL (never fetched in tests)."""
    handler = type("Mirror", (_Site,), {"body": (HEADER + REAL_ROWS).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/open-cookie-database.csv", handler
    finally:
        server.shutdown()
        server.server_close()


def test_refresh_replaces_the_file_and_notes_its_source(
    mirror: tuple[str, type[_Site]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, handler = mirror
    target = tmp_path / "ocd" / "open-cookie-database.csv"
    assert main(["cookie-database", "refresh", "--to", str(target), "--url", url]) == 0
    assert capsys.readouterr().out == f"{target}: 3 entries from {url}\n"
    assert target.read_bytes() == handler.body
    database = load_database(target)
    assert database.source.startswith(f"{target} (from {url}, fetched 20")
    assert database.lookup("_ga_1") is not None
    handler.body = b"<html>rate limited</html>"  # a bad answer leaves the good file alone
    with pytest.raises(ConfigError, match="header"):
        refresh_database(target, url)
    assert target.read_bytes() == (HEADER + REAL_ROWS).encode()


def test_refresh_names_the_public_url_by_default() -> None:
    assert OPEN_COOKIE_DATABASE_URL.startswith("https://raw.githubusercontent.com/jkwakman/")
    with pytest.raises(ConfigError, match="expected an http"):
        refresh_database(Path("unused.csv"), "file:///etc/passwd")
