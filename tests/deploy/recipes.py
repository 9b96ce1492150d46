"""The deployment recipes in deploy/ turned into processes a test can start: the commands and
environment of the systemd units, nginx's server file wrapped in a main config of the test's own
(its ports, its certificate, a temp prefix, no daemon)."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
INSTALLED = "/opt/consent-gateway/bin/consent-gateway"  # where the units expect the CLI


@dataclass(frozen=True)
class Unit:
    """What a systemd unit runs: its ExecStartPre/ExecStart commands and `Environment=`."""

    pre: list[list[str]]
    start: list[str]
    environment: dict[str, str]

    @classmethod
    def read(cls, name: str) -> Unit:
        lines = (DEPLOY / "systemd" / name).read_text().splitlines()
        values: dict[str, list[str]] = {}
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                values.setdefault(key.strip(), []).append(value.strip())
        environment = dict(v.split("=", 1) for v in values.get("Environment", []))
        (start,) = values["ExecStart"]
        return cls(
            [_command(c) for c in values.get("ExecStartPre", [])], _command(start), environment
        )


def _command(line: str) -> list[str]:
    words = shlex.split(line)
    assert words[0] == INSTALLED, f"{line!r}: the units run the installed CLI"
    return [sys.executable, "-m", "gateway.cli", *words[1:]]


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile= format, as far as the docs use it: KEY=value lines, # comments."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on [{host}]:{port}:\n{log.read_text()}")


def nginx_config(
    directory: Path, upstream_port: int, http_port: int, https_port: int, cert: Path, key: Path
) -> Path:
    """deploy/nginx/consent-gateway.conf with the test's ports and certificate, on ::1 only."""
    server = (DEPLOY / "nginx" / "consent-gateway.conf").read_text()
    swaps = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", ""),
        ("listen [::]:80;", f"listen [::1]:{http_port};"),
        (re.search(r"listen 443 ssl http2;[^\n]*", server)[0], ""),  # type: ignore[index]
        ("listen [::]:443 ssl http2;", f"listen [::1]:{https_port} ssl http2;"),
        ("/etc/letsencrypt/live/consent.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/consent.example.com/privkey.pem", str(key)),
    ]
    for old, new in swaps:
        assert server.count(old) == 1, f"deploy/nginx/consent-gateway.conf has no {old!r}"
        server = server.replace(old, new)
    (directory / "consent-gateway.conf").write_text(server)
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = directory / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process off;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log info;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n{temp}\n    include {directory}/consent-gateway.conf;\n}}\n"
    )
    return main


@contextlib.contextmanager
def running_nginx(directory: Path, config: Path, https_port: int) -> Iterator[None]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    log = directory / "error.log"
    log.touch()
    tested = subprocess.run(
        [nginx, "-t", "-p", str(directory), "-c", str(config), "-e", str(log)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stderr
    process = subprocess.Popen(
        [nginx, "-p", str(directory), "-c", str(config), "-e", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port("::1", https_port, process, log)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
