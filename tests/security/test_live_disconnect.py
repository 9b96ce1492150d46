"""A client that hangs up mid-body, against real uvicorn: one quiet 499 line, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from tests.servers import free_port, wait_until
from tests.test_cli import CLI, environment


def test_a_client_hanging_up_mid_body_is_one_quiet_line_in_the_served_log(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=environment(tmp_path, GATEWAY_PUBLIC_URL=base),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def ready() -> bool:
                assert server.poll() is None, log_path.read_text()
                try:
                    return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(ready, "the gateway to be ready", timeout=30)
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(
                    b"POST /consent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n"
                    b'{"action": "acc'
                )
            wait_until(lambda: "(499)" in log_path.read_text(), "the 499 line")
        finally:
            server.terminate()
            server.wait(timeout=15)
    served = log_path.read_text()
    (line,) = [line for line in served.splitlines() if "(499)" in line]
    assert '"level": "info"' in line
    assert "client closed the request on POST /consent (499)" in line
    assert "unhandled" not in served
    assert "Traceback" not in served
    assert "Exception in ASGI application" not in served
