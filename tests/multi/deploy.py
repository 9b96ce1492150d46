"""Gateways as an operator runs them: `consent-gateway serve` processes (real uvicorn, settings
from `GATEWAY_*` only) sharing one store, and an HTTP client that opens a new connection for
every request, so that `--workers N` spreads the requests over every worker."""

from __future__ import annotations

import contextlib
import hashlib
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx

from tests.servers import free_port, wait_for_gateway
from tests.test_cli import CLI, environment

ADMIN = "multi-instance-admin-token"
ADMIN_HASH = hashlib.sha256(ADMIN.encode()).hexdigest()
PUBLIC_URL = "http://gateway.test"  # every instance answers as the same public gateway
SITE = "https://www.example.com"


@dataclass
class Gateway:
    """One `serve` process (with its workers)."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    store: str
    _http: httpx.Client | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request on a connection of its own (any worker may take it)."""
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.base,
                timeout=10,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),  # a new connection each time
                cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # tests send their own
            )
        return self._http.request(method, path, **options)

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_for_gateway(self.base, self.process, self.log_path, timeout)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextlib.contextmanager
def serving(
    directory: Path, store: str, workers: int = 1, settings: Mapping[str, str] | None = None
) -> Iterator[Gateway]:
    """`consent-gateway serve` on `store`, with an admin token, trusting 127.0.0.1 as a proxy
    (so each test can speak for its own client address through `X-Forwarded-For`)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _environment(directory, store, settings)
    log_path = directory / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    gateway = Gateway(port, log_path, process, store)
    try:
        gateway.wait_ready()
        yield gateway
    finally:
        gateway.stop()


def _environment(directory: Path, store: str, settings: Mapping[str, str] | None) -> dict[str, str]:
    return environment(
        directory,
        GATEWAY_STORE=store,
        GATEWAY_PUBLIC_URL=PUBLIC_URL,
        GATEWAY_ALLOWED_ORIGINS=SITE,
        GATEWAY_ADMIN_TOKEN_HASHES=ADMIN_HASH,
        GATEWAY_TRUSTED_PROXIES="127.0.0.1",
        GATEWAY_LOG_LEVEL="warning",
        **{f"GATEWAY_{name.upper()}": value for name, value in (settings or {}).items()},
    )


@contextlib.contextmanager
def forwarding(
    directory: Path, store: str, settings: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`consent-gateway forward`: delivery workers in a process of their own."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "forward.log").open("wb") as log:
        process = subprocess.Popen(
            [*CLI, "forward"],
            env=_environment(directory, store, settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def admin_login(gateway: Gateway, client: str) -> str:
    """Log in to the dashboard as a person does; returns the session cookie."""
    headers = {"X-Forwarded-For": client}
    form = gateway.request("GET", "/admin/login", headers=headers)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None, form.text
    login = gateway.request(
        "POST",
        "/admin/login",
        data={"csrf_token": csrf.group(1), "token": ADMIN},
        headers={**headers, "Origin": PUBLIC_URL},
    )
    assert login.status_code == 303, login.text
    return str(login.cookies["cg_admin"])


def bearer(client: str = "198.51.100.200") -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}", "X-Forwarded-For": client}
