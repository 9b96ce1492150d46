"""The real gateway, started as `python -m gateway.cli serve --demo` in a subprocess.

It runs exactly as an operator runs it: real uvicorn, settings only from `GATEWAY_*`
variables, and it is ready when `/readyz` says so (the store answered) — polled against a
deadline, with the server's log in the error when it is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, wait_for_gateway
from tests.vendors import vendors_in

REPO = Path(__file__).resolve().parents[1]
SECRET = "e2e-secret-key-0123456789abcdefghijklmnop"
GATEWAY_HOST = "consent.site.test"  # Chromium maps *.site.test to 127.0.0.1


@dataclass
class GatewayProcess:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        return f"http://{GATEWAY_HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 20.0) -> None:
        wait_for_gateway(f"http://127.0.0.1:{self.port}", self.process, self.log_path, timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextmanager
def running_gateway(directory: Path, settings: Mapping[str, str]) -> Iterator[GatewayProcess]:
    """A gateway with `settings` (`GATEWAY_*` names without the prefix), serving until exit."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environment |= {
        "GATEWAY_PUBLIC_URL": f"http://{GATEWAY_HOST}:{port}",
        "GATEWAY_SECRET_KEYS": SECRET,
        "GATEWAY_DATA_DIR": str(directory / "var"),
        "GATEWAY_LOG_LEVEL": "warning",
        "XDG_STATE_HOME": str(directory / "state"),
        "PYTHONUNBUFFERED": "1",
    }
    if "config" not in settings:  # a config file says which vendors; else every rule there
        rules = Path(settings.get("rules", REPO / "tag_rules"))
        environment["GATEWAY_VENDORS"] = ",".join(vendors_in(rules))
    environment |= {f"GATEWAY_{name.upper()}": value for name, value in settings.items()}
    log_path = directory / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--demo", "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    gateway = GatewayProcess(port, log_path, process)
    try:
        gateway.wait_ready()
        yield gateway
    finally:
        gateway.stop()
