"""The ASGI server the bench runs its Python apps on: uvicorn, as `consent-gateway serve` does
(the default), or granian (`BENCH_SERVER=granian`), to compare the two under the same load
(issue 23). The bare baseline, the raw ASGI reference and the gateway rows all switch together.

Under granian the gateway is the same application factory `serve` hands uvicorn
(`gateway.app:app_from_environment`), with the settings `serve` would export to its workers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SERVER = os.environ.get("BENCH_SERVER", "uvicorn")
if SERVER not in ("uvicorn", "granian"):
    raise SystemExit(f"BENCH_SERVER={SERVER}: expected uvicorn or granian")
BIN = Path(sys.executable).parent


def server_text(server: str = SERVER) -> str:
    if server == "granian":
        from importlib.metadata import version

        return f"granian {version('granian')} (ASGI interface, uvloop)"
    return "uvicorn (uvloop, httptools)"


def app_command(
    app: str, port: int, workers: int = 1, *, factory: bool = False, server: str = SERVER
) -> list[str]:
    """Serve the ASGI app `module:name` on 127.0.0.1:`port`."""
    if server == "granian":
        command = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(workers), "--loop", "uvloop"]
        command += ["--no-access-log", "--log-level", "warning"]
        return [*command, *(["--factory"] if factory else []), app]
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return [
        *command,
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        *(["--factory"] if factory else []),
    ]


def gateway_command(
    port: int, workers: int, data: Path, *, forwarder: bool, server: str = SERVER
) -> tuple[list[str], dict[str, str]]:
    """The gateway's command line and the environment it adds to the settings'."""
    if server == "uvicorn":
        command = [str(BIN / "consent-gateway"), "serve", "--port", str(port)]
        command += ["--workers", str(workers)]
        return [*command, *([] if forwarder else ["--no-forwarder"])], {}
    extra = {} if forwarder else {"GATEWAY_FORWARDER": "false"}
    if workers > 1:  # what `serve` sets up for its workers' metrics
        metrics = data / "prometheus"
        metrics.mkdir(parents=True, exist_ok=True)
        extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    app = "gateway.app:app_from_environment"
    return app_command(app, port, workers, factory=True, server=server), extra


def gateway_text(workers: int, server: str = SERVER) -> str:
    if server == "granian":
        return f"the app factory on `granian --workers {workers}`"
    return f"`serve --workers {workers}`"
