"""Docs that cannot rot: every example marked `<!-- run -->` in docs/ and the README runs against
a real `consent-gateway serve` this test starts (one per page, on a fresh store), and must print
what the page shows. The format is described in tests/snippets.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.servers import free_port, wait_for_gateway
from tests.snippets import Runnable, matches, runnables
from tests.test_cli import CLI, environment

ADMIN_TOKEN = "docs-examples-admin-token"
SITE = "https://www.example.com"
DOCUMENTED_PORT = "8000"  # the port the pages show (`make run`)
PAGES = sorted(
    path for path in [*(REPO / "docs").glob("*.md"), REPO / "README.md"] if runnables(path)
)


class Gateway:
    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = environment(
            directory,
            GATEWAY_PUBLIC_URL=self.base,
            GATEWAY_ALLOWED_ORIGINS=SITE,
            GATEWAY_ADMIN_TOKEN_HASHES=hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
            GATEWAY_LOG_LEVEL="warning",
        )
        self.env |= {
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        self.work = directory / "work"  # the reader's folder: `jar`, `.venv/bin/…`, `tests/…`
        self.work.mkdir()
        (self.work / ".venv").symlink_to(Path(sys.executable).parent.parent)
        (self.work / "tests").symlink_to(REPO / "tests")

    def localised(self, text: str) -> str:
        for host in ("localhost", "127.0.0.1"):
            text = text.replace(f"{host}:{DOCUMENTED_PORT}", f"127.0.0.1:{self.port}")
        return text

    def run_console(self, example: Runnable) -> None:
        for command in example.commands():
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-c", self.localised(command.line)],
                cwd=self.work,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            where = f"{example.page}:{example.line}: $ {command.line}"
            assert done.returncode == 0, f"{where}\nexit {done.returncode}\n{done.stderr}"
            expected = self.localised(command.expected)
            assert matches(expected, done.stdout), (
                f"{where}\n--- the page shows:\n{expected}\n--- it printed:\n{done.stdout}"
            )

    def run_http(self, example: Runnable) -> None:
        head, _, body = self.localised(example.source).partition("\n\n")
        request_line, *header_lines = head.splitlines()
        method, target, _ = request_line.split(" ", 2)
        headers = dict(line.split(": ", 1) for line in header_lines)
        headers.pop("Host", None)
        with httpx.Client(base_url=self.base, trust_env=False, timeout=10) as client:
            answer = client.request(method, target, headers=headers, content=body.encode())
        where = f"{example.page}:{example.line}: {request_line}"
        expected_head, _, expected_body = self.localised(example.response).partition("\n\n")
        status_line, *expected_headers = expected_head.splitlines()
        assert answer.status_code == int(status_line.split()[1]), f"{where}\n{answer.text}"
        for line in expected_headers:
            name, value = line.split(": ", 1)
            assert matches(value, answer.headers.get(name, "")), (
                f"{where}\n{name}: {answer.headers}"
            )
        assert not expected_body or matches(expected_body, answer.text), (
            f"{where}\n--- the page shows:\n{expected_body}\n--- it answered:\n{answer.text}"
        )


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            # --no-forwarder: hits stay queued, nothing is sent to a real vendor
            [*CLI, "serve", "--port", str(gateway.port), "--no-forwarder"],
            env=gateway.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_gateway(gateway.base, process, log)
        yield gateway
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_there_are_runnable_examples() -> None:
    assert len(PAGES) >= 5
    examples = [example for page in PAGES for example in runnables(page)]
    assert len(examples) >= 9
    assert sum(len(example.commands()) for example in examples if example.kind == "console") >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_the_examples_on_the_page_run(page: Path, gateway: Gateway) -> None:
    for example in runnables(page):
        if example.kind == "console":
            gateway.run_console(example)
        else:
            gateway.run_http(example)


def test_a_changed_output_fails(tmp_path: Path, gateway: Gateway) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '<!-- run -->\n```console\n$ curl -s localhost:8000/healthz\n{"status":"fine"}\n```\n'
    )
    (example,) = runnables(page)
    with pytest.raises(AssertionError, match="the page shows"):
        gateway.run_console(example)


def test_a_changed_answer_fails(tmp_path: Path, gateway: Gateway) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- run -->\n```http\nGET /healthz HTTP/1.1\n```\n```http\nHTTP/1.1 404 Not Found\n```\n"
    )
    (example,) = runnables(page)
    with pytest.raises(AssertionError):
        gateway.run_http(example)
