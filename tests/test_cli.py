"""The command line, run as a user runs it: a real process, a real uvicorn server."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, SECRET
from tests.servers import free_port, wait_for_gateway
from tests.vendors import vendors_in

CLI = [sys.executable, "-m", "gateway.cli"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60, check=False
    )


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {
        **clean,
        "PYTHONPATH": str(REPO),
        "GATEWAY_SECRET_KEYS": SECRET,
        "GATEWAY_STORE": f"sqlite:///{tmp_path}/gateway.sqlite3",
        "GATEWAY_RULES": str(REPO / "tag_rules"),
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GATEWAY_VENDORS": ",".join(
            vendors_in(Path(extra.get("GATEWAY_RULES", REPO / "tag_rules")))
        ),
        **extra,
    }


def test_gen_secret_prints_a_fresh_key() -> None:
    first, second = run("gen-secret").stdout.strip(), run("gen-secret").stdout.strip()
    assert len(first) >= 43
    assert first != second


def test_check_config_accepts_the_shipped_setup(tmp_path: Path) -> None:
    result = run("check-config", env=environment(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ok: settings valid" in result.stdout
    assert "ga4" in result.stdout


def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('policy_revision = "soon"\n')
    result = run("--config", str(config), "check-config", env=environment(tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr
        == f"consent-gateway: config error: {config}: policy_revision: expected an integer, got 'soon'\n"
    )
    assert "Traceback" not in result.stderr


def test_a_bad_rule_file_stops_start_up_with_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.toml").write_text('id = "broken"\nname = 3\n')
    for command in ("check-rules", "serve"):
        result = run(command, env=environment(tmp_path, GATEWAY_RULES=str(rules)))
        assert result.returncode == 2, command
        assert result.stderr.count("\n") == 1, result.stderr
        assert "broken.toml" in result.stderr


def test_production_without_secrets_refuses_to_serve(tmp_path: Path) -> None:
    env = environment(tmp_path, GATEWAY_ENV="production")
    del env["GATEWAY_SECRET_KEYS"]
    result = run("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "GATEWAY_SECRET_KEYS is required" in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`consent-gateway serve` as a real process; yields its base URL and environment."""
    port = free_port()
    env = environment(tmp_path)
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_gateway(base, process, tmp_path / "serve.log")
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status tells why it stopped
        assert process.returncode in (0, -15), (tmp_path / "serve.log").read_text()
        assert "Application shutdown complete" in (tmp_path / "serve.log").read_text()


def test_serve_records_choices_and_receipts_streams_them(
    served: tuple[str, dict[str, str]],
) -> None:
    base, env = served
    with httpx.Client(base_url=base) as http:
        for body in (
            {"action": "accept_all"},
            {"action": "reject_all"},
            {"granted": ["analytics"]},
        ):
            http.cookies.clear()
            assert http.post("/consent", json=body).status_code == 200
    jsonl = run("receipts", "--format", "jsonl", env=env)
    assert jsonl.returncode == 0, jsonl.stderr
    actions = [json.loads(line)["action"] for line in jsonl.stdout.splitlines()]
    assert actions == ["accept_all", "reject_all", "custom"]
    assert jsonl.stderr.strip() == "3 receipt(s)"  # progress and counts stay off stdout

    table = list(csv.DictReader(io.StringIO(run("receipts", "--format", "csv", env=env).stdout)))
    assert [row["action"] for row in table] == actions
    assert table[2]["granted"] == "analytics necessary"
    assert table[0]["ip"] == "127.0.0.0"

    none = run("receipts", "--since", "2999-01-01", env=env)
    assert none.stdout == ""
    bad = run("receipts", "--since", "yesterday", env=env)
    assert bad.returncode == 2
    assert "expected an ISO date" in bad.stderr
