"""`consent-gateway sign-link` and `rewrite-email`, run as a user runs them: real processes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from gateway.email import recipient_id, recipient_key
from gateway.email.tokens import EmailTokens
from gateway.forms.tokens import FormTokens
from tests.conftest import REPO, SECRET

SAMPLE = Path(__file__).with_name("samples") / "newsletter.html"
PUBLIC = "https://consent.example.com"
TOKENS = EmailTokens((SECRET,))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        PYTHONPATH=str(REPO),
        GATEWAY_SECRET_KEYS=SECRET,
        GATEWAY_PUBLIC_URL=PUBLIC,
        GATEWAY_DATA_DIR=str(cwd / "var"),
    )
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_sign_link_prints_click_open_and_preferences_urls(tmp_path: Path) -> None:
    result = run(
        "sign-link", "--campaign", "spring-26", "--recipient", "Ada@example.com",
        "--url", "https://www.example.com/offer", "--index", "3", "--sent-at", "2026-01-01",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    click, opened, preferences, unsubscribe, one_click = result.stdout.splitlines()
    subject = recipient_id("ada@example.com", recipient_key((SECRET,)))
    assert click.startswith(f"{PUBLIC}/c/")
    token = TOKENS.read_click(click.rsplit("/", 1)[1])
    assert token is not None
    assert (token.subject, token.link, token.target, token.sent_at) == (
        subject,
        3,
        "https://www.example.com/offer",
        1_767_225_600,
    )
    assert opened.startswith(f"{PUBLIC}/o/")
    assert preferences.startswith(f"{PUBLIC}/p/")
    assert TOKENS.read_preferences(preferences.rsplit("/", 1)[1]) == subject
    assert unsubscribe.startswith(f"List-Unsubscribe: <{PUBLIC}/u/")
    assert FormTokens((SECRET,)).read_unsubscribe(unsubscribe.split("/u/")[1][:-1]) == subject
    assert one_click == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    assert "ada" not in result.stdout.lower() + result.stderr.lower()


def test_subject_id_is_the_keyed_hash_a_mailer_signs_links_for(tmp_path: Path) -> None:
    result = run("subject-id", " Ada@Example.com ", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == recipient_id("ada@example.com", recipient_key((SECRET,))) + "\n"
    not_an_address = run("subject-id", "esp-42", cwd=tmp_path)
    assert not_an_address.returncode == 1
    assert not_an_address.stderr == "consent-gateway: expected an email address\n"


def test_sign_link_refuses_an_unsafe_target_in_one_line(tmp_path: Path) -> None:
    result = run(
        "sign-link", "--campaign", "c1", "--recipient", "esp-1", "--url", "javascript:alert(1)",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "consent-gateway: a target URL must start with http:// or https://\n"


def test_rewrite_email_to_a_file_and_to_stdout(tmp_path: Path) -> None:
    out = tmp_path / "out.html"
    args = ("rewrite-email", str(SAMPLE), "--campaign", "spring-26", "--recipient", "esp-42")
    result = run(*args, "-o", str(out), "--sent-at", "2026-01-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "4 link(s) wrapped for subject esp-42" in result.stderr
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.stderr
    unsubscribe = result.stderr.split(f"List-Unsubscribe: <{PUBLIC}/u/")[1].split(">")[0]
    assert FormTokens((SECRET,)).read_unsubscribe(unsubscribe) == "esp-42"
    assert "line 50: left https://www.example.com/account?id=*|UNIQID|* as it is" in result.stderr
    to_stdout = run(*args, "--sent-at", "2026-01-01", cwd=tmp_path)
    assert to_stdout.stdout.encode() == out.read_bytes()
    assert out.read_bytes().count(f"{PUBLIC}/c/".encode()) == 6  # five links and the honeypot


def test_rewrite_email_for_every_recipient_of_a_csv(tmp_path: Path) -> None:
    recipients = tmp_path / "list.csv"
    rows = [f"user{n}@example.com" for n in range(150)] + ["esp-7"]
    recipients.write_text("Email,name\n" + "".join(f"{r},Someone\n" for r in rows))
    result = run(
        "rewrite-email", str(SAMPLE), "--campaign", "spring-26", "--recipients", str(recipients),
        "--out-dir", str(tmp_path / "out"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "] 151/151 emails" in result.stderr  # the progress bar, on stderr
    assert "151 email(s)" in result.stderr
    with (tmp_path / "out" / "index.csv").open() as file:
        index = list(csv.DictReader(file))
    assert len(index) == 151
    key = recipient_key((SECRET,))
    assert index[0]["subject"] == recipient_id("user0@example.com", key)
    unsubscribe = index[-1].pop("list_unsubscribe")
    assert index[-1] == {"row": "151", "subject": "esp-7", "file": "esp-7.html"}
    assert unsubscribe.startswith(f"<{PUBLIC}/u/")
    assert FormTokens((SECRET,)).read_unsubscribe(unsubscribe[len(PUBLIC) + 4 : -1]) == "esp-7"
    written = (tmp_path / "out" / index[0]["file"]).read_bytes()
    preferences = written.split(f"{PUBLIC}/p/".encode())[1].split(b'"')[0].decode()
    assert TOKENS.read_preferences(preferences) == index[0]["subject"]
    assert b"example.com" in written
    assert b"user0" not in written


def test_rewrite_email_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    missing = run(
        "rewrite-email", "nope.html", "--campaign", "c1", "--recipient", "esp-1", cwd=tmp_path
    )
    assert missing.returncode == 1
    assert missing.stderr == "consent-gateway: nope.html: No such file or directory\n"
    no_column = tmp_path / "bad.csv"
    no_column.write_text("name\nAda\n")
    result = run(
        "rewrite-email", str(SAMPLE), "--campaign", "c1", "--recipients", str(no_column),
        "--out-dir", str(tmp_path / "o"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.endswith(
        "consent-gateway: the CSV needs a column named one of: recipient, email, subject, id\n"
    )
